/**
 * A scale as a cluster operation, through the engine: real store (SQLite), planner and
 * renderer, fake:// machines' own deploy and release jobs, the fake agent (every task takes
 * 800 ms, so a test can pause or abort a scale in the middle) and the fake Kubernetes API.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { clusterYaml, readyMachines } from '../../../test/support/cluster-seed.ts';
import { eventually } from '../../../test/support/region.ts';
import { resetFakeBmcs } from '../../bmc/fake.ts';
import type { Cluster } from '../../core/cluster.ts';
import { FakeKube } from '../../kube/fake.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import { rejectsWith } from '../../store/testing.ts';
import { FakeAgent } from '../fake-agent.ts';
import type { Worker } from '../worker.ts';
import { clusterAction, createCluster } from './actions.ts';
import { controlClusterOperation } from './operation-actions.ts';
import { awaitClusterJob, replaceWorker } from './remediate-replace.ts';
import { lastPlan, scaleCluster } from './scale.ts';
import { closeClusterStore, clusterSettled, openClusterStore, QUICK_RETRY, startWorker } from './testing.ts';

describe('a scale is a cluster operation', () => {
  let store: SqlStore;
  let dir: string;
  const workers: Worker[] = [];
  const kube = new FakeKube();
  const failBootstrap: Record<string, string> = {};
  const agent = new FakeAgent({ kube, delayMs: 800, failBootstrap });
  before(async () => {
    ({ store, dir } = await openClusterStore('scale-op', '10.31'));
    workers.push(startWorker(store, kube, { agent, retry: QUICK_RETRY, limits: { deploys: 2, joins: 1 } }));
  });
  afterEach(() => resetFakeBmcs());
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await closeClusterStore({ store, dir });
  });

  const settled = (id: string, want: string) => clusterSettled(store, id, want, 60_000);
  /** A running 1 + 1 cluster named `name` (its own API address `vip`). */
  const running = async (name: string, vip: number): Promise<Cluster> => {
    await readyMachines(store, 'control', 1);
    await readyMachines(store, 'general', 1);
    const { cluster } = await createCluster(store, {
      clusterFile: clusterYaml(name, { net: '10.31', workers: 1 }).replace('10.31.0.10', `10.31.0.${vip}`),
      actor: 'user:test',
    });
    const c = await settled(cluster.id, 'running');
    assert.equal(c.state, 'running', c.stateReason);
    return c;
  };
  const opOf = async (jobId: string) => {
    const job = await store.getJob(jobId);
    return store.getOperation(String(job.params.operation));
  };
  const types = async (clusterId: string, jobId: string) =>
    (await store.listEvents({ clusterId, jobId, limit: 1000 })).map((e) => e.type);

  it('holds while paused (nothing deployed), finishes once resumed: the node ready on the operation, the operation succeeded', async () => {
    const c = await running('op1', 11);
    const [spare] = await readyMachines(store, 'general', 1);
    const out = await scaleCluster(store, 'op1', { workers: 2, actor: 'user:test' });
    const op = await opOf(out.job!.id);
    assert.equal(op.kind, 'scale');
    assert.equal(op.state, 'running');
    assert.deepEqual(op.params.scale, { add: [spare.hostname], remove: [], controlPlanes: false });
    assert.deepEqual(
      op.progress.nodes.map((n) => [n.hostname, n.role, n.state]),
      [[spare.hostname, 'worker', 'pending']],
    );
    // The join token takes 800 ms: paused before it is there, the scale goes no further.
    const paused = await controlClusterOperation(store, 'op1', 'pause', 'user:ops');
    assert.equal(paused.state, 'paused');
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal((await store.getMachine(spare.id)).state, 'allocated', 'not deployed while paused');
    assert.equal((await store.getCluster(c.id)).state, 'updating');
    const job = await store.getJob(out.job!.id);
    assert.equal(job.status, 'running');
    assert.equal(job.steps[job.stepIndex].name, 'scale-token', 'still at its first step');
    assert.equal((await store.getOperation(op.id)).progress.nodes[0].state, 'pending');
    // A second operation is refused meanwhile (one per cluster at a time).
    await rejectsWith(
      scaleCluster(store, 'op1', { workers: 3, actor: 'user:test' }),
      'INGOT_INVALID_TRANSITION',
    );

    await controlClusterOperation(store, 'op1', 'resume', 'user:ops');
    const grown = await settled(c.id, 'running');
    assert.equal(grown.state, 'running', grown.stateReason);
    const done = await opOf(out.job!.id);
    assert.equal(done.state, 'succeeded', done.reason);
    assert.equal(done.reason, 'every node done');
    assert.ok(done.finishedAt);
    const [n] = done.progress.nodes;
    assert.deepEqual([n.state, n.step, n.message], ['done', 'ready', 'done: Ready']);
    assert.ok(n.startedAt && n.endedAt && n.startedAt <= n.endedAt);
    const t = await types(c.id, out.job!.id);
    for (const want of [
      'cluster.operation.started',
      'cluster.operation.paused',
      'cluster.operation.resumed',
      'cluster.operation.succeeded',
    ])
      assert.ok(t.includes(want), `${want} on the timeline: ${t.join()}`);
    assert.ok(
      t.indexOf('cluster.operation.resumed') < t.indexOf('cluster.node.deploy'),
      'deployed after the resume',
    );
  });

  it('aborted in the middle of a scale-out: the new machine released (wiped) and no member, the cluster running as it was; its plan the members', async () => {
    const c = await running('op2', 12);
    const [spare] = await readyMachines(store, 'general', 1);
    const out = await scaleCluster(store, 'op2', { workers: 2, actor: 'user:test' });
    await controlClusterOperation(store, 'op2', 'abort', 'user:ops');
    const back = await settled(c.id, 'running');
    assert.equal(back.state, 'running', back.stateReason);
    assert.deepEqual(back.members.map((m) => m.hostname).sort(), c.members.map((m) => m.hostname).sort());
    await awaitClusterJob(store, out.job!.id, 30_000);
    const m = await eventually(
      async () => {
        const x = await store.getMachine(spare.id);
        return x.state === 'ready' ? x : null;
      },
      30_000,
      'the spare back in the pool',
    );
    assert.equal(m.owner, '');
    const op = await opOf(out.job!.id);
    assert.equal(op.state, 'aborted');
    assert.equal(op.reason, 'aborted by user:ops');
    assert.match(op.progress.nodes[0].message ?? '', /^given back: released/);
    const plan = (await lastPlan(store, back)).plan as { nodes: { hostname: string }[] };
    assert.deepEqual(
      plan.nodes.map((n) => n.hostname).sort(),
      back.members.map((x) => x.hostname).sort(),
      'a later change plans from the members, not from the aborted scale',
    );
  });

  it('aborted while a PodDisruptionBudget holds a scale-in: the worker uncordoned and kept', async () => {
    const c = await running('op3', 13);
    const [w] = c.members.filter((m) => m.role === 'worker');
    kube.blockedByPdb.set(w.hostname, 'default/web');
    const out = await scaleCluster(store, 'op3', { workers: 0, actor: 'user:test' });
    await eventually(
      async () => (await types(c.id, out.job!.id)).includes('cluster.node.drain-blocked'),
      20_000,
      'the PDB on the timeline',
    );
    assert.ok(kube.cordoned.has(w.hostname));
    const held = await opOf(out.job!.id);
    assert.equal(held.progress.nodes[0].state, 'running');
    await controlClusterOperation(store, 'op3', 'abort', 'user:ops');
    const back = await settled(c.id, 'running');
    assert.equal(back.state, 'running', back.stateReason);
    kube.blockedByPdb.delete(w.hostname);
    assert.ok(
      back.members.some((m) => m.hostname === w.hostname),
      'kept',
    );
    assert.equal(kube.cordoned.has(w.hostname), false, 'uncordoned');
    assert.equal((await store.getMachine(w.machineId)).state, 'deployed');
    const op = await opOf(out.job!.id);
    assert.equal(op.state, 'aborted');
    assert.match(op.progress.nodes[0].message ?? '', /^kept: the scale was aborted/);
    assert.ok((await types(c.id, out.job!.id)).includes('cluster.node.kept'));
  });

  it('halts naming the node that failed; a retry resumes the same operation and finishes it', async () => {
    const c = await running('op4', 14);
    const [spare] = await readyMachines(store, 'general', 1);
    failBootstrap[spare.hostname] = 'kubeadm join: connection refused';
    const out = await scaleCluster(store, 'op4', { workers: 2, actor: 'user:test' });
    const failed = await settled(c.id, 'failed_updating');
    assert.equal(failed.state, 'failed_updating');
    const op = await opOf(out.job!.id);
    assert.equal(op.state, 'failed');
    assert.match(op.reason, new RegExp(`${spare.hostname}.*connection refused`));
    const n = op.progress.nodes.find((x) => x.hostname === spare.hostname)!;
    assert.equal(n.state, 'failed');
    assert.match(n.message ?? '', /connection refused/);
    assert.ok((await types(c.id, out.job!.id)).includes('cluster.operation.failed'));

    delete failBootstrap[spare.hostname];
    const retried = await clusterAction(store, 'op4', 'retry', 'user:ops');
    assert.equal(retried.job?.params.operation, op.id, 'the same operation');
    const grown = await settled(c.id, 'running');
    assert.equal(grown.state, 'running', grown.stateReason);
    const done = await store.getOperation(op.id);
    assert.equal(done.state, 'succeeded', done.reason);
    assert.deepEqual(
      done.progress.nodes.map((x) => [x.hostname, x.state, x.step]),
      [[spare.hostname, 'done', 'ready']],
    );
  });

  it("a remediation's replacement is a `remediate` operation: it may be paused, not aborted", async () => {
    const c = await running('op5', 15);
    const [dead] = c.members.filter((m) => m.role === 'worker');
    await kube.deleteNode((await store.clusterKubeconfig(c.id))!, dead.hostname);
    const [spare] = await readyMachines(store, 'general', 1);
    const out = await replaceWorker(store, 'op5', {
      node: dead.hostname,
      spare: spare.id,
      reason: 'remediation: Node not Ready',
      actor: 'remediator',
    });
    const op = await opOf(out.job.id);
    assert.equal(op.kind, 'remediate');
    await assert.rejects(controlClusterOperation(store, 'op5', 'abort', 'user:ops'), (e: Error) => {
      assert.match(e.message, /^cannot abort remediate op-\S+: a remediation's replacement runs to its end/);
      return true;
    });
    assert.equal((await store.getOperation(op.id)).state, 'running', 'a refusal changes nothing');
    await awaitClusterJob(store, out.job.id, 60_000);
    const done = await store.getOperation(op.id);
    assert.equal(done.state, 'succeeded', done.reason);
    assert.deepEqual(
      done.progress.nodes.map((x) => [x.hostname, x.state, x.step]),
      [
        [spare.hostname, 'done', 'ready'],
        [dead.hostname, 'done', 'released'],
      ],
    );
  });
});
