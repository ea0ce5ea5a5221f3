import type { Plan, WhatIfRow } from './types.ts';

/** Left-aligned columns, two spaces apart; no trailing spaces so output diffs cleanly. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function lostText(r: WhatIfRow): string {
  const count = (n: number, what: string) => (n === 0 ? '' : `${n} ${what}${n === 1 ? '' : 's'}`);
  const parts = [
    count(r.lost.controlPlanes, 'control plane'),
    count(r.lost.etcd, 'etcd node'),
    count(r.lost.workers, 'worker'),
  ].filter(Boolean);
  return parts.join(', ') || 'nothing';
}

export function formatWhatIf(rows: readonly WhatIfRow[]): string {
  return table(
    ['DOMAIN', 'LOST', 'ETCD', 'QUORUM', 'API', 'WORKERS'],
    rows.map((r) => [
      `${r.domain} ${r.name}`,
      lostText(r),
      `${r.etcdSurvivors}/${r.etcdMembers}`,
      r.quorum ? 'kept' : 'LOST',
      r.apiAvailable ? 'up' : 'DOWN',
      `${r.workersSurviving}/${r.workersTotal}`,
    ]),
  );
}

/** The human-readable plan: header, one line per node, the what-if table, warnings. */
export function formatPlan(p: Plan): string {
  const nodes = table(
    ['ROLE', 'POOL', 'HOSTNAME', 'ZONE', 'RACK', 'ADDRESS', 'MACHINE'],
    p.nodes.map((n) => [
      n.role + (n.init ? ' (init)' : ''),
      n.pool,
      n.hostname,
      n.zone,
      n.rack,
      n.address,
      n.machineId,
    ]),
  );
  const head = [
    `Cluster ${p.cluster}: ${p.distribution} ${p.version}, API ${p.endpoint}`,
    `etcd: ${p.etcd.topology}, ${p.etcd.members.length} members (quorum ${p.etcd.quorum}): ${p.etcd.members.join(', ')}`,
    `nodes: ${p.nodes.length}`,
  ];
  const warn = p.warnings.map((w) => `warning: ${w}`);
  return [
    ...head,
    '',
    nodes,
    '',
    'What survives the loss of one failure domain:',
    formatWhatIf(p.whatIf),
    ...(warn.length ? ['', ...warn] : []),
    '',
  ].join('\n');
}
