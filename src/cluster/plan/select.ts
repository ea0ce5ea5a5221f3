import { MachineState } from '../../core/lifecycle.ts';
import { gpuCount, type InventoryMachine, largestDiskGiB } from '../inventory.ts';
import type { MachineSelector } from '../spec/types.ts';
import { rackKey } from './quorum.ts';

/**
 * The first selector criterion a machine fails (1–9, in `mismatch`'s order), 0 when it matches:
 * no message is made (the planner asks this per machine and want).
 */
function failing(m: InventoryMachine, s: MachineSelector): number {
  if (m.state !== MachineState.Ready) return 1;
  if (s.pool !== undefined && m.pool !== s.pool) return 2;
  if (s.zones.length > 0 && !s.zones.includes(m.zone)) return 3;
  if (s.racks.length > 0 && !s.racks.includes(m.rack)) return 4;
  for (const t of s.tags) if (!m.tags.includes(t)) return 5;
  if ((m.cpu?.cores ?? 0) < s.minCpu) return 6;
  if ((m.memoryBytes ?? 0) < s.minMemoryGiB * 2 ** 30) return 7;
  if (largestDiskGiB(m) < s.minDiskGiB) return 8;
  if (gpuCount(m) < s.minGpus) return 9;
  return 0;
}

/** Whether a machine meets every selector criterion: `mismatch(m, s) === null`. */
export function matches(m: InventoryMachine, s: MachineSelector): boolean {
  return failing(m, s) === 0;
}

/** The first selector criterion a machine fails, or null when it matches. */
export function mismatch(m: InventoryMachine, s: MachineSelector): string | null {
  switch (failing(m, s)) {
    case 0:
      return null;
    case 1:
      return 'not ready';
    case 2:
      return `not in pool ${s.pool}`;
    case 3:
      return `outside zones ${s.zones.join(',')}`;
    case 4:
      return `outside racks ${s.racks.join(',')}`;
    case 5:
      return `without tag ${s.tags.find((t) => !m.tags.includes(t))}`;
    case 6:
      return `with fewer than ${s.minCpu} CPU cores`;
    case 7:
      return `with less than ${s.minMemoryGiB} GiB memory`;
    case 8:
      return `without a ${s.minDiskGiB} GiB disk`;
    default:
      return `with fewer than ${s.minGpus} GPUs`;
  }
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
  const pool = byDemandThenHostname(candidates, demand);
  const picked: InventoryMachine[] = [];
  // Within a rack the first free machine (pool order) is the only one worth comparing: each
  // rack is a queue, and a pick compares the racks' heads (racks × picks, not machines × picks).
  // Queues and zones are arrays with their pick counts inside: the loop below runs racks ×
  // picks times (36,000 for 1,000 nodes) and allocates nothing.
  const queues: { zone: number; picks: number; at: number; idx: number[] }[] = [];
  const queueOf = new Map<string, number>();
  const zoneOf = new Map<string, number>();
  const zonePicks: number[] = [];
  for (let i = 0; i < pool.length; i++) {
    const domain = rackKey(pool[i]);
    let q = queueOf.get(domain);
    if (q === undefined) {
      let zone = zoneOf.get(pool[i].zone);
      if (zone === undefined) {
        zone = zonePicks.push(0) - 1;
        zoneOf.set(pool[i].zone, zone);
      }
      q = queues.push({ zone, picks: 0, at: 0, idx: [] }) - 1;
      queueOf.set(domain, q);
    }
    queues[q].idx.push(i);
  }
  for (let n = 0; n < count; n++) {
    let best = -1;
    let bestZone = Infinity;
    let bestRack = Infinity;
    let bestAt = Infinity;
    for (let b = 0; b < queues.length; b++) {
      const q = queues[b];
      if (q.at >= q.idx.length) continue;
      const i = q.idx[q.at];
      // Fewest picks in the zone, then in the rack; equal: the earlier machine in pool order.
      const zone = zonePicks[q.zone];
      const rack = q.picks;
      if (zone < bestZone || (zone === bestZone && (rack < bestRack || (rack === bestRack && i < bestAt)))) {
        best = b;
        bestZone = zone;
        bestRack = rack;
        bestAt = i;
      }
    }
    if (best < 0) break;
    const q = queues[best];
    picked.push(pool[q.idx[q.at++]]);
    q.picks++;
    zonePicks[q.zone]++;
  }
  return picked;
}

/**
 * The candidates by demand, then hostname. Each machine's demand is computed once (not looked up
 * twice per comparison). Candidates already in hostname order (the planner's: it sorts the
 * inventory once) need only a stable sort by demand, and none when every demand is the same —
 * the sort by hostname of each role's ~1,000 candidates was a tenth of a plan.
 */
function byDemandThenHostname(
  candidates: readonly InventoryMachine[],
  demand: (m: InventoryMachine) => number,
): readonly InventoryMachine[] {
  const scores = candidates.map(demand);
  let named = true;
  for (let i = 1; i < candidates.length && named; i++)
    named = candidates[i - 1].hostname < candidates[i].hostname;
  if (named && scores.every((x) => x === scores[0])) return candidates;
  const scored = candidates.map((m, i) => ({ m, score: scores[i] }));
  // Array.prototype.sort is stable: by demand alone keeps hostname order within a demand.
  return (
    named
      ? scored.sort((a, b) => a.score - b.score)
      : scored.sort((a, b) => a.score - b.score || (a.m.hostname < b.m.hostname ? -1 : 1))
  ).map((x) => x.m);
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
