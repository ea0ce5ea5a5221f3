import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildPlan } from '../cluster/plan/plan.ts';
import { cluster, inventory } from '../cluster/testing.ts';
import { clusterCapacity } from './capacity.ts';
import { planRequests } from './requests.ts';

// 3 zones × 2 racks × 2 machines of 16 cores and 64 GiB (no thread count: cores count).
const inv = inventory(3, 2, 2);
const spec = (minCpu: number, minMemoryGiB: number) =>
  cluster({ workers: [{ name: 'w', count: 6, machines: { minCpu, minMemoryGiB } }] });

async function capacityOf(minCpu: number, minMemoryGiB: number) {
  const s = spec(minCpu, minMemoryGiB);
  const plan = buildPlan(s, inv);
  return { plan, c: clusterCapacity(s, plan, inv.machines, await planRequests.requests(s, plan)) };
}

describe('cluster capacity from the plan', () => {
  it('holds the requests after losing the largest zone, with the headroom worked out', async () => {
    const { c } = await capacityOf(8, 32);
    const w = c.pools[0];
    // requested: 6 nodes × 8 CPU = 48, × 32 GiB = 192; allocatable 6 × 16 = 96 CPU, 6 × 64 = 384 GiB
    assert.deepEqual(w.requested, { cpu: 48, memoryGiB: 192 });
    assert.deepEqual(w.allocatable, { cpu: 96, memoryGiB: 384 });
    // two workers per zone: losing one leaves 64 CPU / 256 GiB, 16 / 64 over the requests
    for (const r of w.losses.filter((x) => x.domain === 'zone')) {
      assert.equal(r.nodesLost, 2);
      assert.deepEqual(r.headroom, { cpu: 16, memoryGiB: 64 });
      assert.equal(r.holds, true);
    }
    assert.match(
      w.recommendation,
      /survives losing zone z1 \(the largest loss\) with 16 CPU and 64 GiB to spare/,
    );
    assert.equal(c.requestsKind, 'plan');
  });

  it('agrees with the planner’s what-if table on the workers each loss takes', async () => {
    const { c, plan } = await capacityOf(8, 32);
    for (const row of plan.whatIf) {
      const name =
        row.domain === 'zone'
          ? row.name
          : plan.nodes.find((n) => n.rack === row.name || `${n.zone}/${n.rack}` === row.name);
      const key = typeof name === 'string' ? name : `${name?.zone}/${name?.rack}`;
      const loss = c.pools[0].losses.find((l) => l.domain === row.domain && l.name === key);
      assert.equal(loss?.nodesLost ?? 0, row.lost.workers, `${row.domain} ${row.name}`);
    }
  });

  it('says how many machines, like which, where, when a zone loss does not hold', async () => {
    const { c } = await capacityOf(12, 48);
    const w = c.pools[0];
    // requested 6 × 12 = 72 CPU, 6 × 48 = 288 GiB; losing a zone leaves 64 CPU, 256 GiB: short 8 and 32
    const worst = w.worst.zone!;
    assert.equal(worst.holds, false);
    assert.deepEqual(worst.headroom, { cpu: -8, memoryGiB: -32 });
    // One 16-CPU machine in z1 (all zones equal: the first) makes z1 hold 48; losing z1 still leaves
    // 112 − 48 = 64 < 72, so the next goes to z2 (32, the least): then every loss leaves ≥ 80.
    assert.match(
      w.recommendation,
      /^pool w: losing zone z1 leaves 64 CPU \/ 256 GiB for 72 \/ 288 requested\. Add 1 machine like z\dr\d-\d \(16 CPU, 64 GiB\) to zone z1.* and 1 machine like .* to zone z2.* to survive losing any one zone$/,
    );
  });

  it('counts the ready machines outside the plan that the pool could use, per zone and rack', async () => {
    const { c } = await capacityOf(8, 32);
    // 12 machines − 3 control planes − 6 workers = 3 spares
    const zones = c.pools[0].spares.filter((s) => s.domain === 'zone');
    assert.equal(
      zones.reduce((a, s) => a + s.ready, 0),
      3,
    );
    const racks = c.pools[0].spares.filter((s) => s.domain === 'rack');
    assert.equal(
      racks.reduce((a, s) => a + s.ready, 0),
      3,
    );
  });
});
