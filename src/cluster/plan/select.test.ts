import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MachineState } from '../../core/lifecycle.ts';
import { gpuCount, type InventoryMachine, largestDiskGiB } from '../inventory.ts';
import type { MachineSelector } from '../spec/types.ts';
import { matches, mismatch, spread } from './select.ts';

/** The plain path `mismatch` must agree with: each criterion's message made where it fails. */
function plain(m: InventoryMachine, s: MachineSelector): string | null {
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

describe('machine selectors', () => {
  it('name the first criterion a machine fails, as the plain path does, and match when none fails', () => {
    let seed = 5;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]) => xs[rnd(xs.length)];
    let matched = 0;
    for (let i = 0; i < 4000; i++) {
      const m = {
        state: pick([MachineState.Ready, MachineState.Ready, MachineState.Ready, 'deployed']),
        pool: pick(['a', 'b']),
        zone: pick(['z1', 'z2']),
        rack: pick(['r1', 'r2']),
        tags: [pick(['ssd', 'gpus=2', 'x']), pick(['ssd', 'nvme'])],
        cpu: rnd(3) ? { cores: rnd(64) } : undefined,
        memoryBytes: rnd(3) ? rnd(256) * 2 ** 30 : undefined,
        disks: rnd(4) ? [{ sizeBytes: rnd(2000) * 2 ** 30 }] : [],
      } as unknown as InventoryMachine;
      const s = {
        pool: pick([undefined, 'a']),
        zones: pick([[], ['z1'], ['z1', 'z2']]),
        racks: pick([[], ['r2']]),
        tags: pick([[], ['ssd'], ['nvme', 'ssd'], ['x', 'nvme']]),
        minCpu: pick([0, 8]),
        minMemoryGiB: pick([0, 64]),
        minDiskGiB: pick([0, 500]),
        minGpus: pick([0, 1]),
      } as unknown as MachineSelector;
      assert.equal(mismatch(m, s), plain(m, s));
      assert.equal(matches(m, s), plain(m, s) === null);
      if (matches(m, s)) matched++;
    }
    assert.ok(matched > 50);
  });
});

describe('spread', () => {
  /** The order spread gave before candidates in hostname order skipped their sort: demand, then hostname. */
  function reference(
    ms: readonly InventoryMachine[],
    count: number,
    demand: (m: InventoryMachine) => number,
  ) {
    const pool = [...ms].sort((a, b) => demand(a) - demand(b) || (a.hostname < b.hostname ? -1 : 1));
    const picked: InventoryMachine[] = [];
    const zone = new Map<string, number>();
    const rack = new Map<string, number>();
    const free = [...pool];
    while (picked.length < count && free.length > 0) {
      let best = 0;
      const key = (m: InventoryMachine) => [zone.get(m.zone) ?? 0, rack.get(`${m.zone}/${m.rack}`) ?? 0];
      for (let i = 1; i < free.length; i++) {
        const [zi, ri] = key(free[i]);
        const [zb, rb] = key(free[best]);
        if (zi < zb || (zi === zb && ri < rb)) best = i;
      }
      const [m] = free.splice(best, 1);
      picked.push(m);
      zone.set(m.zone, (zone.get(m.zone) ?? 0) + 1);
      rack.set(`${m.zone}/${m.rack}`, (rack.get(`${m.zone}/${m.rack}`) ?? 0) + 1);
    }
    return picked.map((m) => m.hostname);
  }

  it('picks the same machines in the same order whether or not the candidates come in hostname order', () => {
    let seed = 11;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const ms = Array.from(
        { length: 5 + rnd(40) },
        (_, i) =>
          ({
            hostname: `h${rnd(1000)}-${i}`,
            zone: `z${rnd(3)}`,
            rack: `r${rnd(4)}`,
            gpus: rnd(3) === 0 ? 1 : 0,
          }) as unknown as InventoryMachine & { gpus: number },
      );
      const demand = round % 2 ? (m: InventoryMachine) => (m as unknown as { gpus: number }).gpus : () => 0;
      const count = 1 + rnd(ms.length);
      const named = [...ms].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
      const want = reference(ms, count, demand);
      assert.deepEqual(
        spread(ms, count, demand).map((m) => m.hostname),
        want,
      );
      assert.deepEqual(
        spread(named, count, demand).map((m) => m.hostname),
        want,
      );
    }
  });
});
