/**
 * `ingot cost [-f|--model FILE] [--window 30d] [--cluster FILE]… [--csv|--json|-o FORMAT]`: the
 * region's monthly cost against cloud VMs and managed Kubernetes (docs/cost.md).
 * `ingot capacity --cluster NAME | -f CLUSTER_FILE`: allocatable vs requested per pool, N+1 per
 * zone and rack, of a running cluster (live requests) or a Cluster file (its minimums).
 * Both read their files here and ask the region, which holds the machines and power readings.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { namesShippedTable, parseCostModel } from '../../cost/model-file.ts';
import type { ClusterCapacity as Capacity, LossRow } from '../../capacity/capacity.ts';
import type { CostEstimate, ScopeCost as Scope } from '../../cost/estimate.ts';
import { collect, ctx } from '../context.ts';
import { printData, table } from '../output.ts';
import { costCsv } from '../../cost/csv.ts';

type Estimate = CostEstimate & { readonly windowDays: number };

/** `30d` → 30. Days only: the readings are averaged over whole days. */
export function parseWindow(v: string): number {
  const m = /^([1-9]\d{0,3})d$/.exec(v);
  if (!m || Number(m[1]) > 3650)
    throw invalid('--window', `"${v}" is not a window; use days, e.g. 30d (1d to 3650d)`);
  return Number(m[1]);
}

const money = (n: number | null) => (n === null ? '-' : n.toFixed(2));
const pct = (n: number) => `${Math.round(n * 100)}%`;
const optionName = (o: Scope['options'][number]) => `${o.kind} ${o.term}`;

function scopeTable(s: Scope, currency: string): string {
  const b = s.bareMetal;
  const head = `${s.scope === 'region' ? 'region' : `${s.scope} ${s.name}`}: ${s.machines} machines, ${s.vcpus} vCPUs, ${Math.round(s.memoryGiB)} GiB (${currency} per month)`;
  const rows = [
    ['bare metal', money(b.total), money(b.perVcpuMonth), money(b.perGiBMonth), '-', ''],
    ...s.options.map((o) => [
      optionName(o),
      money(o.total),
      money(o.perVcpuMonth),
      money(o.perGiBMonth),
      o.breakevenMonth === null ? 'never' : `month ${o.breakevenMonth}`,
      o.missing.length ? `${o.missing.length} unfit left out` : '',
    ]),
  ];
  const dominant = s.dominant
    .slice(0, 3)
    .map((d) => `${d.input} ${pct(d.share)}`)
    .join(', ');
  return `${head}\n${table(['OPTION', 'MONTHLY', 'PER VCPU', 'PER GIB', 'BREAKEVEN', 'NOTE'], rows)}dominant: ${dominant || '-'}; upfront ${money(b.upfront)}, power from ${s.measuredWatts} measured / ${s.nominalWatts} nominal\n`;
}

export function costText(e: Estimate): string {
  const parts = [
    `Prices: ${e.priceTable}; BMC power averaged over ${e.windowDays} days.`,
    scopeTable(e.region, e.currency),
  ];
  for (const s of [...e.clusters, ...e.pools]) parts.push(scopeTable(s, e.currency));
  for (const u of e.unfit) parts.push(`unfit: ${u.hostname}: ${u.reason}`);
  for (const u of e.unpriced) parts.push(`unpriced: ${u.hostname}: ${u.reason}`);
  for (const n of e.notes) parts.push(`note: ${n}`);
  return `${parts.join('\n')}\n`;
}

/** CPU to two decimals (pods request millicores), memory to whole GiB. */
const cpu = (n: number) => String(Math.round(n * 100) / 100);

export function capacityText(c: Capacity): string {
  const rows = c.pools.map((p) => {
    const w = (l: LossRow | null) =>
      l
        ? `${l.name}: ${l.holds ? 'holds' : 'SHORT'} (${cpu(l.headroom.cpu)} CPU, ${Math.round(l.headroom.memoryGiB)} GiB)`
        : '-';
    return [
      p.pool,
      p.nodes,
      `${cpu(p.allocatable.cpu)} / ${Math.round(p.allocatable.memoryGiB)} GiB`,
      `${cpu(p.requested.cpu)} / ${Math.round(p.requested.memoryGiB)} GiB`,
      w(p.worst.zone),
      w(p.worst.rack),
      p.spares
        .filter((s) => s.domain === 'zone')
        .map((s) => `${s.name}:${s.ready}`)
        .join(' '),
    ];
  });
  return `Cluster ${c.cluster}: requests from ${c.requestsKind} (${c.requestsBasis})\n${table(
    ['POOL', 'NODES', 'ALLOCATABLE', 'REQUESTED', 'LOSE LARGEST ZONE', 'LOSE LARGEST RACK', 'SPARE READY'],
    rows,
  )}${c.recommendations.map((r) => `- ${r}`).join('\n')}\n`;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw invalid(what, `cannot read ${path}: ${(e as Error).message}`);
  }
}

export function registerCostCommands(program: Command): void {
  program
    .command('cost')
    .description('monthly cost of the region’s machines vs cloud VMs and managed Kubernetes (docs/cost.md)')
    .option('-f, --model <file>', 'a CostModel file (default: the documented defaults)')
    .option('--window <days>', 'average BMC power readings over this window', '30d')
    .option('--cluster <file>', 'a Cluster file to price as a cluster (repeatable)', collect, [])
    .option('--csv', 'CSV, one row per scope and option (as -o csv)')
    .option('--json', 'JSON (as -o json)')
    .action(
      async (
        o: { model?: string; window: string; cluster: string[]; csv?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        if (o.csv && o.json) throw invalid('--csv', 'give --csv or --json, not both');
        const c = ctx(cmd, { allowCsv: true });
        const { client } = c;
        const format = o.csv ? 'csv' : o.json ? 'json' : c.format;
        const body: Record<string, unknown> = { windowDays: parseWindow(o.window) };
        if (o.model) {
          const text = readText(o.model, '--model');
          body.model = text;
          const m = parseCostModel(text, o.model);
          if (!namesShippedTable(m))
            body.priceTable = readText(
              resolve(dirname(o.model), m.spec.cloud.priceTable),
              'spec.cloud.priceTable',
            );
        }
        body.clusters = o.cluster.map((f) => readText(f, '--cluster'));
        const e = await client.post<Estimate>('/api/v1/cost', body);
        if (format === 'csv') process.stdout.write(costCsv(e));
        else if (!printData(e, format)) process.stdout.write(costText(e));
      },
    );
  program
    .command('capacity')
    .description(
      'allocatable vs requested per pool of a running cluster (--cluster) or a Cluster file (-f), and what survives losing a zone or rack',
    )
    .option('--cluster <name>', 'a cluster the region runs: requests from its Kubernetes API')
    .option('-f, --file <file>', 'a Cluster file planned onto the ready machines: requests from its minimums')
    .action(async (o: { file?: string; cluster?: string }, cmd: Command) => {
      if (!o.file === !o.cluster)
        throw invalid('--cluster', 'give a cluster name (--cluster) or a Cluster file (-f), one of them');
      const { client, format } = ctx(cmd);
      const c = o.cluster
        ? await client.get<Capacity>(`/api/v1/capacity?cluster=${encodeURIComponent(o.cluster)}`)
        : await client.post<Capacity>('/api/v1/capacity', { cluster: readText(o.file!, '-f') });
      if (!printData(c, format)) process.stdout.write(capacityText(c));
    });
}
