import type { Plan, WhatIfRow } from './types.ts';

/**
 * Left-aligned columns, two spaces apart; no trailing spaces so output diffs cleanly. Written
 * with plain loops: the plan's 1,000-row node table took 1.2 ms through spreads, maps and joins.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const last = header.length - 1;
  const widths = header.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < last; i++) if (r[i].length > widths[i]) widths[i] = r[i].length;
  const line = (r: readonly string[]) => {
    let s = '';
    for (let i = 0; i < last; i++) s += r[i].padEnd(widths[i]) + '  ';
    return (s + r[last]).trimEnd();
  };
  let out = line(header);
  for (const r of rows) out += `\n${line(r)}`;
  return out;
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
