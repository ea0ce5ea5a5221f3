/** The cost estimate as CSV (one row per scope and option), for `ingot cost -o csv` and `POST /cost/csv`. */
import { csv } from '../core/csv.ts';
import type { CostEstimate } from './estimate.ts';

/** Every scope and option as CSV rows: bare metal first, then each cloud option. */
export function costCsv(e: CostEstimate): string {
  const rows: (string | number | null)[][] = [];
  for (const s of [e.region, ...e.clusters, ...e.pools]) {
    const b = s.bareMetal;
    rows.push([
      s.scope,
      s.name,
      'bare-metal',
      '',
      b.total,
      b.upfront,
      b.perVcpuMonth,
      b.perGiBMonth,
      null,
      s.machines,
    ]);
    for (const o of s.options)
      rows.push([
        s.scope,
        s.name,
        o.kind,
        o.term,
        o.total,
        0,
        o.perVcpuMonth,
        o.perGiBMonth,
        o.breakevenMonth,
        o.machines,
      ]);
  }
  return csv(
    [
      'scope',
      'name',
      'option',
      'term',
      'monthly',
      'upfront',
      'per_vcpu_month',
      'per_gib_month',
      'breakeven_month',
      'machines',
    ],
    rows,
  );
}
