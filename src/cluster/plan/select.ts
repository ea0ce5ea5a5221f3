import { MachineState } from '../../core/lifecycle.ts';
import { gpuCount, type InventoryMachine, largestDiskGiB } from '../inventory.ts';
import type { MachineSelector } from '../spec/types.ts';
import { rackKey } from './quorum.ts';

/** The first selector criterion a machine fails, or null when it matches. */
export function mismatch(m: InventoryMachine, s: MachineSelector): string | null {
  if (m.state !== MachineState.Ready) return 'not ready';
  if (s.pool !== undefined && m.pool !== s.pool) return `not in pool ${s.pool}`;
  if (s.zones.length > 0 && !s.zones.includes(m.zone)) return `outside zones ${s.zones.join(',')}`;
  if (s.racks.length > 0 && !s.racks.includes(m.rack)) return `outside racks ${s.racks.join(',')}`;
  const missing = s.tags.filter((t) => !m.tags.includes(t));
  if (missing.length > 0) return `without tag ${missing[0]}`;
  if ((m.cpu?.cores ?? 0) < s.minCpu) return `with fewer than ${s.minCpu} CPU cores`;
  if ((m.memoryBytes ?? 0) < s.minMemoryGiB * 2 ** 30) return `with less than ${s.minMemoryGiB} GiB memory`;
  if (largestDiskGiB(m) < s.minDiskGiB) return `without a ${s.minDiskGiB} GiB disk`;
  if (gpuCount(m) < s.minGpus) return `with fewer than ${s.minGpus} GPUs`;
  return null;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Picks `count` machines spreading them over failure domains: each pick takes the candidate
 * whose zone, then rack, holds the fewest picks so far. Within a rack, machines other roles
 * also want (`demand`, e.g. GPU machines a GPU pool needs) come last, then hostname order keeps
 * the result stable. Rack names are taken to be unique across the site.
 */
export function spread(
  candidates: readonly InventoryMachine[],
  count: number,
  demand: (m: InventoryMachine) => number = () => 0,
): InventoryMachine[] {
  const score = new Map(candidates.map((m) => [m.id, demand(m)]));
  const pool = [...candidates].sort(
    (a, b) => score.get(a.id)! - score.get(b.id)! || (a.hostname < b.hostname ? -1 : 1),
  );
  const zones = new Map<string, number>();
  const racks = new Map<string, number>();
  const picked: InventoryMachine[] = [];
  // Within a rack the first free machine (pool order) is the only one worth comparing: each
  // rack is a queue, and a pick compares the racks' heads (racks × picks, not machines × picks).
  const queues = new Map<string, { at: number; idx: number[] }>();
  for (let i = 0; i < pool.length; i++) {
    const domain = rackKey(pool[i]);
    const q = queues.get(domain) ?? { at: 0, idx: [] };
    q.idx.push(i);
    queues.set(domain, q);
  }
  for (let n = 0; n < count; n++) {
    let best: { at: number; idx: number[] } | null = null;
    let bestDomain = '';
    let bestZone = Infinity;
    let bestRack = Infinity;
    let bestAt = Infinity;
    for (const [domain, q] of queues) {
      if (q.at >= q.idx.length) continue;
      const i = q.idx[q.at];
      // Fewest picks in the zone, then in the rack; equal: the earlier machine in pool order.
      const zone = zones.get(pool[i].zone) ?? 0;
      const rack = racks.get(domain) ?? 0;
      if (zone < bestZone || (zone === bestZone && (rack < bestRack || (rack === bestRack && i < bestAt)))) {
        best = q;
        bestDomain = domain;
        bestZone = zone;
        bestRack = rack;
        bestAt = i;
      }
    }
    if (!best) break;
    const m = pool[best.idx[best.at++]];
    picked.push(m);
    bump(zones, m.zone);
    bump(racks, bestDomain);
  }
  return picked;
}

/** Counts why machines were passed over, for "needs 4, found 2: 12 not in pool gpu, …". */
export function explainShortfall(
  all: readonly InventoryMachine[],
  s: MachineSelector,
  taken: ReadonlyMap<string, string>,
): string {
  const reasons = new Map<string, number>();
  for (const m of all) {
    const owner = taken.get(m.id);
    const why = mismatch(m, s) ?? (owner ? `already taken by ${owner}` : null);
    if (why) bump(reasons, why);
  }
  return [...reasons.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([why, n]) => `${n} ${why}`)
    .join(', ');
}
