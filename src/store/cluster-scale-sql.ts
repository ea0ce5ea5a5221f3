/**
 * A cluster's scale (docs/day2.md "Scale"): the cluster moves running → updating, each new
 * worker's machine is allocated (compare-and-set ready → allocated, owned by the cluster) and
 * becomes a member, and the scale job is queued — all in one transaction, so two scales, or a
 * scale and a create, never share a machine and a refused scale leaves nothing behind. A
 * released worker leaves the members when its machine is back in the pool.
 */
import type { Cluster, ClusterMember } from '../core/cluster.ts';
import type { ClusterState } from '../core/cluster-lifecycle.ts';
import type { NewEvent } from '../core/event.ts';
import type { Job } from '../core/job.ts';
import { clusterTransitionEvent, moveClusterOrRefuse } from './cluster-transitions-sql.ts';
import { allocateMembers, getCluster } from './clusters-sql.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';
import { insertJob } from './jobs-sql.ts';
import { activeOperation, insertOperation, type NewOperation, operationRunning } from './operations-sql.ts';
import { insertEvents, placeholders } from './sql-util.ts';
import type { NewJob } from './types.ts';

export interface ScaleClusterRequest {
  clusterId: string;
  from: ClusterState;
  to: ClusterState;
  reason: string;
  actor: string;
  /** New members: each machine must be ready. */
  add: ClusterMember[];
  job: NewJob;
  /**
   * The operation the scale is (core/scale-operation.ts): written running with the job, which
   * names it; refused with INGOT_OPERATION_RUNNING while another operation holds the cluster.
   */
  operation?: Pick<NewOperation, 'kind' | 'params' | 'progress'>;
}

export async function scaleCluster(
  db: Db,
  req: ScaleClusterRequest,
): Promise<{ cluster: Cluster; job: Job }> {
  return db.tx(async (t) => {
    const now = Date.now();
    const move = { clusterId: req.clusterId, from: req.from, to: req.to, reason: req.reason };
    await moveClusterOrRefuse(t, move, now);
    const { name } = await getCluster(t, req.clusterId);
    const events: NewEvent[] = [clusterTransitionEvent(move, req.actor, null)];
    events.push(
      ...(await allocateMembers(
        t,
        { id: req.clusterId, name },
        req.add,
        req.actor,
        now,
        ' (scale)',
        'scale again',
      )),
    );
    const op = req.operation;
    const opId = op ? newId('op') : null;
    if (op) {
      const active = await activeOperation(t, req.clusterId);
      if (active) throw operationRunning(active);
    }
    const job = await insertJob(
      t,
      { clusterId: req.clusterId },
      opId ? { ...req.job, params: { ...req.job.params, operation: opId } } : req.job,
      req.actor,
      now,
    );
    if (op && opId) {
      await insertOperation(
        t,
        opId,
        { ...op, clusterId: req.clusterId, actor: req.actor, message: req.reason, jobId: job.id },
        now,
      );
      events.push({
        type: 'cluster.operation.started',
        level: 'info',
        clusterId: req.clusterId,
        jobId: job.id,
        actor: req.actor,
        message: req.reason,
        data: { operation: opId, kind: op.kind },
      });
    }
    await insertEvents(t, events, now);
    return { cluster: await getCluster(t, req.clusterId), job };
  });
}

/**
 * Allocates ready machines to a running cluster as members (each ready → allocated, owned by the
 * cluster, its address reserved) without moving the cluster or queueing a job: a remediation's
 * control-plane replace takes its spare this way before bringing it up, so no scale or create
 * takes the same machine meanwhile. A machine another change took refuses all of them.
 */
export async function addClusterMembers(
  db: Db,
  clusterId: string,
  add: readonly ClusterMember[],
  actor: string,
  why: string,
): Promise<Cluster> {
  return db.tx(async (t) => {
    const now = Date.now();
    const { name } = await getCluster(t, clusterId);
    const events = await allocateMembers(
      t,
      { id: clusterId, name },
      add,
      actor,
      now,
      ` (${why})`,
      'try again with another machine',
    );
    await insertEvents(t, events, now);
    return getCluster(t, clusterId);
  });
}

/** Drops released members (their machines back in the pool) from the cluster, with an event each. */
export async function removeClusterMembers(
  db: Db,
  clusterId: string,
  machineIds: readonly string[],
  actor: string,
  jobId: string | null,
): Promise<void> {
  if (machineIds.length === 0) return;
  await db.tx(async (t) => {
    const rows = await t.query<{ machine_id: string; hostname: string }>(
      `SELECT machine_id, hostname FROM cluster_members WHERE cluster_id = ? AND machine_id IN (${placeholders(machineIds.length)})`,
      [clusterId, ...machineIds],
    );
    if (rows.length === 0) return;
    await t.run(
      `DELETE FROM cluster_members WHERE cluster_id = ? AND machine_id IN (${placeholders(rows.length)})`,
      [clusterId, ...rows.map((r) => r.machine_id)],
    );
    await insertEvents(
      t,
      rows.map((r) => ({
        type: 'cluster.node.removed',
        clusterId,
        machineId: r.machine_id,
        jobId,
        actor,
        message: `${r.hostname}: no longer a member of the cluster`,
        data: { hostname: r.hostname },
      })),
      Date.now(),
    );
  });
}
