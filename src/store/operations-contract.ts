/**
 * The cluster operations part of the store contract (store-contract.ts runs it on SQLite and
 * PostgreSQL): starting one moves the cluster and queues the job naming it, in one write; one
 * active operation per cluster (a second, or two racing, gets INGOT_OPERATION_RUNNING naming
 * the one that runs, and writes nothing); writes are compare-and-set on the operation's state.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ClusterMember } from '../core/cluster.ts';
import { ErrorCode, isIngotError } from '../core/errors.ts';
import { newProgress } from '../core/operation.ts';
import type { NewOperation, OperationRetry } from './operations-sql.ts';
import type { SqlStore } from './sql-store.ts';
import { type Harness, machineInput, rejectsWith, runningClusterRecord } from './testing.ts';

let seq = 0;

async function runningCluster(
  store: SqlStore,
): Promise<{ id: string; name: string; members: ClusterMember[] }> {
  seq++;
  const ms = [];
  for (let i = 0; i < 2; i++)
    ms.push(await store.createMachine(machineInput({ state: 'ready', stateReason: 'test' }), 'user:test'));
  const members: ClusterMember[] = ms.map((m, i) => ({
    machineId: m.id,
    hostname: m.hostname,
    role: i === 0 ? 'init' : 'worker',
    order: i,
    address: `10.0.0.${10 + i}/24`,
  }));
  const cluster = await runningClusterRecord(store, {
    name: `op-${process.pid}-${seq}`,
    clusterFile: 'before',
    version: '1.30.2',
    endpoint: '10.0.0.5:6443',
    members,
  });
  return { id: cluster.id, name: cluster.name, members };
}

function newOp(c: { id: string; members: ClusterMember[] }): NewOperation {
  return {
    clusterId: c.id,
    from: 'running',
    to: 'updating',
    kind: 'reconfigure',
    params: {
      apiServerArgs: { a: '1' },
      changes: [{ flag: 'a', from: null, to: '1' }],
      clusterFile: 'after',
      maxUnavailable: 1,
    },
    progress: newProgress(
      c.members.map((m) => ({
        hostname: m.hostname,
        machineId: m.machineId,
        role: m.role as 'init' | 'worker',
        domain: 'z1/r1',
      })),
    ),
    job: { kind: 'cluster-operation', steps: ['operation'], params: { plan: {} } },
    actor: 'user:test',
    message: 'reconfigure requested by user:test',
  };
}

export function operationsContract(harness: () => Harness): void {
  const h = {
    get store() {
      return harness().store;
    },
  };

  it('starts an operation with the cluster’s move and a job naming it, in one write', async () => {
    const c = await runningCluster(h.store);
    const { operation, job } = await h.store.startOperation(newOp(c));
    assert.equal(operation.state, 'running');
    assert.equal(operation.cluster, c.name);
    assert.equal(operation.jobId, job.id);
    assert.equal(job.params.operation, operation.id);
    assert.equal(job.kind, 'cluster-operation');
    assert.equal((await h.store.getCluster(c.id)).state, 'updating');
    assert.equal((await h.store.activeOperation(c.id))?.id, operation.id);
    assert.deepEqual(
      operation.progress.nodes.map((n) => [n.hostname, n.state]),
      c.members.map((m) => [m.hostname, 'pending']),
    );
    const types = (await h.store.listEvents({ clusterId: c.id, limit: 50 })).map((e) => e.type);
    assert.ok(types.includes('cluster.operation.started'));
  });

  it('refuses a second operation on the cluster with INGOT_OPERATION_RUNNING naming the first, writing nothing', async () => {
    const c = await runningCluster(h.store);
    const { operation } = await h.store.startOperation(newOp(c));
    const jobs = (await h.store.listJobs({ clusterId: c.id }, 50)).length;
    const e = await rejectsWith(
      h.store.startOperation({ ...newOp(c), from: 'updating' }),
      ErrorCode.OperationRunning,
    );
    assert.equal(e.details.operation, operation.id);
    assert.equal((await h.store.listJobs({ clusterId: c.id }, 50)).length, jobs, 'no second job');
    assert.equal((await h.store.listOperations(c.id)).length, 1);
  });

  it('lets exactly one of two racing starts win', async () => {
    const c = await runningCluster(h.store);
    const results = await Promise.allSettled([
      h.store.startOperation(newOp(c)),
      h.store.startOperation(newOp(c)),
    ]);
    assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1);
    const lost = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
    assert.ok(
      isIngotError(lost.reason) &&
        (lost.reason.code === ErrorCode.OperationRunning || lost.reason.code === ErrorCode.ConcurrentUpdate),
      String(lost.reason),
    );
    assert.equal((await h.store.listOperations(c.id)).length, 1);
  });

  it('writes compare-and-set on the state: a paused operation refuses a write meant for a running one', async () => {
    const c = await runningCluster(h.store);
    const { operation } = await h.store.startOperation(newOp(c));
    const paused = await h.store.updateOperation(operation.id, {
      from: ['running'],
      to: 'paused',
      reason: 'paused by t',
    });
    assert.equal(paused?.state, 'paused');
    assert.equal(await h.store.updateOperation(operation.id, { from: ['running'], to: 'failed' }), null);
    const progress = structuredClone(operation.progress);
    progress.nodes[0].state = 'done';
    const moved = await h.store.updateOperation(operation.id, { from: ['running', 'paused'], progress });
    assert.equal(moved?.progress.nodes[0].state, 'done');
    assert.equal(moved?.state, 'paused');
  });

  it('ends an operation (its Cluster file and an upgrade’s version kept on success), after which another may start', async () => {
    const c = await runningCluster(h.store);
    const { operation } = await h.store.startOperation(newOp(c));
    const done = await h.store.updateOperation(operation.id, {
      from: ['running'],
      to: 'succeeded',
      reason: 'every node done',
      clusterFile: 'after',
      version: 'v1.31.0',
    });
    assert.equal(done?.state, 'succeeded');
    assert.ok(done?.finishedAt);
    assert.equal((await h.store.getCluster(c.id)).clusterFile, 'after');
    assert.equal((await h.store.getCluster(c.id)).version, 'v1.31.0');
    assert.equal(await h.store.activeOperation(c.id), null);
    await h.store.clusterTransition({
      clusterId: c.id,
      from: 'updating',
      to: 'running',
      reason: 't',
      actor: 't',
    });
    const next = await h.store.startOperation(newOp(c));
    assert.equal(next.operation.state, 'running');
    assert.deepEqual(
      (await h.store.listOperations(c.id)).map((o) => o.id),
      [next.operation.id, operation.id],
      'newest first',
    );
  });

  it('retries a halted operation as itself in one write: the cluster back to updating, a new job naming it, failed → running', async () => {
    const c = await runningCluster(h.store);
    const { operation, job } = await h.store.startOperation(newOp(c));
    const progress = structuredClone(operation.progress);
    progress.nodes[1].state = 'failed';
    await h.store.updateOperation(operation.id, {
      from: ['running'],
      to: 'failed',
      reason: 'halted',
      progress,
    });
    await h.store.clusterTransition({
      clusterId: c.id,
      from: 'updating',
      to: 'failed_updating',
      reason: 'halted',
      actor: 't',
    });
    const retry: OperationRetry = {
      operationId: operation.id,
      clusterId: c.id,
      from: 'failed_updating' as const,
      to: 'updating' as const,
      progress: { ...progress, nodes: progress.nodes.map((n) => ({ ...n, state: 'running' as const })) },
      job: { kind: 'cluster-operation', steps: ['operation'], params: { plan: {} } },
      actor: 'user:test',
      message: 'retried by user:test',
    };
    const r = await h.store.retryOperation(retry);
    assert.equal(r.operation.id, operation.id);
    assert.equal(r.operation.state, 'running');
    assert.equal(r.operation.finishedAt, null);
    assert.equal(r.operation.jobId, r.job.id);
    assert.notEqual(r.job.id, job.id);
    assert.equal(r.job.params.operation, operation.id);
    assert.equal(r.operation.progress.nodes[1].state, 'running');
    assert.equal((await h.store.getCluster(c.id)).state, 'updating');
    assert.equal((await h.store.activeOperation(c.id))?.id, operation.id);
    // A second retry finds the cluster moved on: refused, nothing written.
    const jobs = (await h.store.listJobs({ clusterId: c.id }, 50)).length;
    await rejectsWith(h.store.retryOperation(retry), ErrorCode.ConcurrentUpdate);
    assert.equal((await h.store.listJobs({ clusterId: c.id }, 50)).length, jobs);
  });
}
