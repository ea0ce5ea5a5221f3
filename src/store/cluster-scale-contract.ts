/**
 * The scale part of the store contract (store-contract.ts runs it on every backend): a scale
 * moves the cluster, allocates its new members and queues its job in one write; a machine
 * another change took refuses the whole scale and writes nothing; released members are dropped.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ErrorCode } from '../core/errors.ts';
import type { Machine } from '../core/machine.ts';
import type { SqlStore } from './sql-store.ts';
import { type Harness, machineInput, rejectsWith, runningClusterRecord } from './testing.ts';

async function ready(store: SqlStore, n: number): Promise<Machine[]> {
  const out: Machine[] = [];
  for (let i = 0; i < n; i++)
    out.push(await store.createMachine(machineInput({ state: 'ready', stateReason: 'test' }), 'user:test'));
  return out;
}

export function clusterScaleContract(harness: () => Harness): void {
  const store = () => harness().store;

  async function runningCluster(name: string) {
    const [cp] = await ready(store(), 1);
    return runningClusterRecord(store(), {
      name,
      clusterFile: 'apiVersion: ingot.dev/v1alpha1\nkind: Cluster\n',
      version: '1.30.2',
      endpoint: '10.0.0.5:6443',
      members: [{ machineId: cp.id, hostname: cp.hostname, role: 'init', order: 0, address: '10.9.0.10/24' }],
    });
  }

  /** Another change takes the machine (ready → broken). */
  const takeAway = (m: Machine) =>
    store().transition({ machineId: m.id, from: 'ready', to: 'broken', reason: 'test', actor: 'user:test' });

  const scale = (clusterId: string, ms: Machine[]) =>
    store().scaleCluster({
      clusterId,
      from: 'running',
      to: 'updating',
      reason: 'scale requested by user:test',
      actor: 'user:test',
      add: ms.map((m, i) => ({
        machineId: m.id,
        hostname: m.hostname,
        role: 'worker' as const,
        order: 1 + i,
        address: `10.9.0.${20 + i}/24`,
      })),
      job: { kind: 'cluster-scale', steps: ['scale-token'], params: { add: ms.map((m) => m.hostname) } },
    });

  it('scales a cluster in one write: updating, the new members allocated to it, the scale job queued; then drops released members', async () => {
    const c = await runningCluster(`sc-${process.pid}-a`);
    const ms = await ready(store(), 2);
    const { cluster, job } = await scale(c.id, ms);
    assert.equal(cluster.state, 'updating');
    assert.deepEqual(
      cluster.members.map((m) => [m.role, m.order]),
      [
        ['init', 0],
        ['worker', 1],
        ['worker', 2],
      ],
    );
    assert.equal(job.kind, 'cluster-scale');
    for (const m of ms) {
      const got = await store().getMachine(m.id);
      assert.equal(got.state, 'allocated');
      assert.equal(got.owner, `cluster:${c.name}`);
    }
    await store().removeClusterMembers(c.id, [ms[1].id], 'user:test', job.id);
    const after = await store().getCluster(c.id);
    assert.deepEqual(
      after.members.map((m) => m.hostname),
      [c.members[0].hostname, ms[0].hostname],
    );
    const ev = await store().listEvents({ clusterId: c.id, machineId: ms[1].id, limit: 10 });
    assert.ok(ev.some((e) => e.type === 'cluster.node.removed'));
    // A second scale while this one runs is refused by the cluster's state.
    await rejectsWith(scale(c.id, await ready(store(), 1)), ErrorCode.ConcurrentUpdate);
  });

  it("adds a remediation's spare as a member without moving the cluster; a machine another change took is refused and nothing written", async () => {
    const c = await runningCluster(`sc-${process.pid}-c`);
    const [spare, taken] = await ready(store(), 2);
    const member = (m: Machine, order: number) => ({
      machineId: m.id,
      hostname: m.hostname,
      role: 'control-plane' as const,
      order,
      address: `10.9.0.${40 + order}/24`,
    });
    const after = await store().addClusterMembers(c.id, [member(spare, 1)], 'remediator', 'replaces cp-1');
    assert.equal(after.state, 'running');
    assert.deepEqual(
      after.members.map((m) => [m.hostname, m.role]),
      [
        [c.members[0].hostname, 'init'],
        [spare.hostname, 'control-plane'],
      ],
    );
    const got = await store().getMachine(spare.id);
    assert.equal(got.state, 'allocated');
    assert.equal(got.owner, `cluster:${c.name}`);
    assert.match(got.stateReason, /replaces cp-1/);
    await takeAway(taken);
    await rejectsWith(
      store().addClusterMembers(c.id, [member(taken, 2)], 'remediator', 'replaces cp-2'),
      ErrorCode.ConcurrentUpdate,
    );
    assert.equal((await store().getCluster(c.id)).members.length, 2);
  });

  it('refuses a scale whose machine another change took, and writes nothing', async () => {
    const c = await runningCluster(`sc-${process.pid}-b`);
    const [free, taken] = await ready(store(), 2);
    await takeAway(taken);
    await rejectsWith(scale(c.id, [free, taken]), ErrorCode.ConcurrentUpdate);
    const after = await store().getCluster(c.id);
    assert.equal(after.state, 'running');
    assert.equal(after.members.length, 1);
    assert.equal((await store().getMachine(free.id)).state, 'ready');
    assert.equal(
      (await store().listJobs({ clusterId: c.id }, 10)).filter((j) => j.kind === 'cluster-scale').length,
      0,
    );
  });
}
