import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildPlan } from '../cluster/plan/plan.ts';
import { Role } from '../cluster/plan/types.ts';
import { cluster, inventory, machine } from '../cluster/testing.ts';
import { type ClusterMember, MemberRole } from '../core/cluster.ts';
import { isIngotError } from '../core/errors.ts';
import { FakeKube } from '../kube/fake.ts';
import { clusterCapacity } from './capacity.ts';
import { kubeRequests } from './requests.ts';
import { memberPlan, workerPools } from './running.ts';

// 3 zones × 2 racks × 2 machines of 16 cores and 64 GiB; 3 control planes, 6 workers in pool w.
const inv = inventory(3, 2, 2);
const spec = cluster({ workers: [{ name: 'w', count: 6, machines: { minCpu: 8, minMemoryGiB: 32 } }] });
const plan = buildPlan(spec, inv);
const members: ClusterMember[] = plan.nodes.map((n, order) => ({
  machineId: n.machineId,
  hostname: n.hostname,
  role: n.init ? MemberRole.Init : (n.role as MemberRole),
  order,
  address: n.address,
}));
// Once the cluster runs, its machines are allocated, no longer ready.
const allocated = inv.machines.map((m) =>
  members.some((x) => x.machineId === m.id) ? { ...m, state: 'allocated' as const } : m,
);

describe('a running cluster as a plan', () => {
  it('gives each member the role, pool and failure domain the planner gave it, and the same what-if table', () => {
    const p = memberPlan(spec, members, allocated);
    assert.deepEqual(
      p.nodes.map((n) => [n.hostname, n.role, n.pool, n.zone, n.rack, n.init]),
      plan.nodes.map((n) => [n.hostname, n.role, n.pool, n.zone, n.rack, n.init]),
    );
    assert.deepEqual(p.whatIf, plan.whatIf);
    assert.deepEqual(p.etcd, plan.etcd);
  });

  it('leaves out a member whose machine the region no longer has', () => {
    const gone = plan.nodes.find((n) => n.role === Role.Worker)!.machineId;
    const p = memberPlan(
      spec,
      members,
      allocated.filter((m) => m.id !== gone),
    );
    assert.equal(p.nodes.length, plan.nodes.length - 1);
    assert.equal(p.nodes.filter((n) => n.role === Role.Worker).length, 5);
  });

  it('fills pools in the file’s order up to their counts; a member no count takes goes to a pool that accepts it', () => {
    const s = cluster({
      workers: [
        { name: 'gpu', count: 1, machines: { tags: ['gpu'] } },
        { name: 'general', count: 1, machines: {} },
      ],
    });
    const ms = [
      machine('a', 'z1', 'r1', { tags: ['gpu'], state: 'allocated' }),
      machine('b', 'z1', 'r1', { tags: ['gpu'], state: 'allocated' }),
      machine('c', 'z1', 'r1', { state: 'allocated' }),
    ];
    // gpu takes a (first by hostname); general takes b (its selector takes anything); c is past
    // both counts: the first pool accepting it is general (no gpu tag).
    assert.deepEqual(
      [...workerPools(s, ms).entries()],
      [
        ['m-a', 'gpu'],
        ['m-b', 'general'],
        ['m-c', 'general'],
      ],
    );
  });
});

describe('requests from the cluster’s Kubernetes API', () => {
  const kube = new FakeKube();
  const kc = 'kubeconfig-of-test';
  for (const n of plan.nodes) kube.register(kc, n.hostname);
  const workers = plan.nodes.filter((n) => n.role === Role.Worker);
  // each worker's pods request 11 CPU and 40 GiB; the control planes' pods 2 CPU (no pool's)
  for (const n of workers) kube.podRequests.set(n.hostname, { cpu: 11, memoryBytes: 40 * 2 ** 30 });
  for (const n of plan.nodes.filter((x) => x.role !== Role.Worker))
    kube.podRequests.set(n.hostname, { cpu: 2, memoryBytes: 0 });

  it('sums the pods’ requests per pool, and the N+1 answer follows the live figures', async () => {
    const p = memberPlan(spec, members, allocated);
    const live = await kubeRequests(kube, kc).requests(spec, p);
    assert.equal(live.kind, 'kubernetes');
    // 6 workers × 11 = 66 CPU, 6 × 40 = 240 GiB; the control planes' 2 CPU each count for no pool
    assert.deepEqual(live.pools.get('w'), { cpu: 66, memoryGiB: 240 });
    const c = clusterCapacity(spec, p, allocated, live);
    const w = c.pools[0];
    assert.equal(c.requestsKind, 'kubernetes');
    // losing a zone (2 workers) leaves 4 × 16 = 64 CPU and 4 × 64 = 256 GiB: 64 − 66 = −2 CPU,
    // 256 − 240 = +16 GiB; short of CPU, so it does not hold
    assert.deepEqual(w.worst.zone?.headroom, { cpu: -2, memoryGiB: 16 });
    assert.equal(w.worst.zone?.holds, false);
    // losing a rack (1 worker) leaves 80 CPU, 320 GiB: +14 CPU, +80 GiB
    assert.deepEqual(w.worst.rack?.headroom, { cpu: 14, memoryGiB: 80 });
    // adding one 16-CPU machine to z1 (the least loaded, first by name) still leaves 64 when z1 goes
    // (its 3 machines lost); a second in z2 makes every zone loss leave 80 ≥ 66
    assert.match(
      w.recommendation,
      /^pool w: losing zone z1 leaves 64 CPU \/ 256 GiB for 66 \/ 240 requested\. Add 1 machine like .* to zone z1.* and 1 machine like .* to zone z2.*$/,
    );
  });

  it('throws a retryable INGOT_UNREACHABLE when the API does not answer', async () => {
    kube.apiDown = true;
    try {
      await assert.rejects(
        kubeRequests(kube, kc).requests(spec, memberPlan(spec, members, allocated)),
        (e) => isIngotError(e, 'INGOT_UNREACHABLE') && e.retryable,
      );
    } finally {
      kube.apiDown = false;
    }
  });
});
