/**
 * The capacity chart's geometry: per pool and resource (CPU, memory) three bars on one scale —
 * allocatable, requested, and what is left after losing the largest zone (or rack when the pool
 * has no zone row) — so a requested bar longer than the left-after-loss bar is the N+1 shortfall
 * at a glance. Pure, so it is tested without a browser.
 */
import type { ClusterCapacity } from './api.ts';

type Pool = ClusterCapacity['pools'][number];

export interface CapacityBar {
  readonly label: string;
  readonly value: number;
  readonly width: number;
  /** `short` marks the requests the survivors cannot hold. */
  readonly kind: 'allocatable' | 'requested' | 'left' | 'short';
}

export interface CapacityGroup {
  readonly pool: string;
  readonly resource: 'CPU' | 'GiB';
  readonly bars: readonly CapacityBar[];
}

/** Bars scaled per resource so the largest figure of that resource spans `width`. */
export function capacityBars(c: ClusterCapacity, width: number): CapacityGroup[] {
  const groups: { pool: Pool; resource: 'CPU' | 'GiB'; key: 'cpu' | 'memoryGiB' }[] = c.pools.flatMap(
    (pool) => [
      { pool, resource: 'CPU' as const, key: 'cpu' as const },
      { pool, resource: 'GiB' as const, key: 'memoryGiB' as const },
    ],
  );
  const max = { cpu: 0, memoryGiB: 0 };
  for (const p of c.pools)
    for (const k of ['cpu', 'memoryGiB'] as const)
      max[k] = Math.max(max[k], p.allocatable[k], p.requested[k]);
  return groups.map(({ pool, resource, key }) => {
    const scale = max[key] > 0 ? width / max[key] : 0;
    const worst = pool.worst.zone ?? pool.worst.rack;
    const left = worst ? Math.max(0, worst.remaining[key]) : pool.allocatable[key];
    const short = pool.requested[key] > left;
    const bars: CapacityBar[] = [
      {
        label: 'allocatable',
        value: pool.allocatable[key],
        width: pool.allocatable[key] * scale,
        kind: 'allocatable',
      },
      {
        label: 'requested',
        value: pool.requested[key],
        width: pool.requested[key] * scale,
        kind: short ? 'short' : 'requested',
      },
    ];
    if (worst)
      bars.push({
        label: `after losing ${worst.domain} ${worst.name}`,
        value: left,
        width: left * scale,
        kind: 'left',
      });
    return { pool: pool.pool, resource, bars };
  });
}
