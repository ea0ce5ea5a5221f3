/**
 * Cluster operations (migration 12, core/operation.ts). Starting one is one transaction: the
 * "one active per cluster" check (and the partial unique index behind it, for two regions
 * racing), the cluster's compare-and-set move into `updating`, the operation's job and the
 * operation row. Every later write is a compare-and-set on the operation's state, so an
 * operator's pause or abort and the engine's progress never overwrite each other's state.
 */
import type { ClusterState } from '../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { NewEvent } from '../core/event.ts';
import type { Job } from '../core/job.ts';
import type {
  ClusterOperation,
  OperationKind,
  OperationProgress,
  OperationState,
  ReconfigureParams,
} from '../core/operation.ts';
import { clusterTransitionEvent, writeClusterTransition } from './cluster-transitions-sql.ts';
import type { Db, Row, SqlValue } from './db.ts';
import { newId } from './ids.ts';
import { cancelActiveJobs, insertJob } from './jobs-sql.ts';
import { iso, json } from './rows.ts';
import { insertEvents } from './sql-util.ts';
import type { NewJob } from './types.ts';

export interface NewOperation {
  clusterId: string;
  /** The cluster's state the operation starts from (compare-and-set), and where it moves it. */
  from: ClusterState;
  to: ClusterState;
  kind: OperationKind;
  params: ReconfigureParams;
  progress: OperationProgress;
  job: NewJob;
  actor: string;
  /** Said on the cluster's timeline: what the operation will do. */
  message: string;
  /** More lines for the timeline in the same write (the job's and the operation's ids added). */
  events?: readonly NewEvent[];
}

export interface OperationUpdate {
  /** The states the operation must be in for the write to happen. */
  from: readonly OperationState[];
  to?: OperationState;
  reason?: string;
  progress?: OperationProgress;
  /** On a successful end: the cluster's new Cluster file. */
  clusterFile?: string;
  /** On an upgrade's successful end: the cluster's Kubernetes version (`v1.21.3`). */
  version?: string;
}

function operationFromRow(r: Row): ClusterOperation {
  return {
    id: r.id as string,
    clusterId: r.cluster_id as string,
    cluster: r.cluster_name as string,
    kind: r.kind as OperationKind,
    state: r.state as OperationState,
    reason: r.reason as string,
    params: json<ReconfigureParams>(r.params, {} as ReconfigureParams),
    progress: json<OperationProgress>(r.progress, { snapshot: { state: 'pending' }, nodes: [] }),
    jobId: (r.job_id as string | null) ?? null,
    actor: r.actor as string,
    createdAt: iso(r.created_at as number)!,
    updatedAt: iso(r.updated_at as number)!,
    finishedAt: iso(r.finished_at as number | null),
  };
}

const SELECT = `SELECT o.*, c.name AS cluster_name FROM cluster_operations o JOIN clusters c ON c.id = o.cluster_id`;

export async function getOperation(db: Db, id: string): Promise<ClusterOperation> {
  const rows = await db.query(`${SELECT} WHERE o.id = ?`, [id]);
  if (rows.length === 0)
    throw new IngotError(
      ErrorCode.NotFound,
      `operation ${id} does not exist; list a cluster's with \`ingot cluster operations NAME\``,
      { details: { operation: id } },
    );
  return operationFromRow(rows[0]);
}

/** A cluster's operations, newest first. */
export async function listOperations(db: Db, clusterId: string, limit = 50): Promise<ClusterOperation[]> {
  const rows = await db.query(
    `${SELECT} WHERE o.cluster_id = ? ORDER BY o.created_at DESC, o.id DESC LIMIT ?`,
    [clusterId, limit],
  );
  return rows.map(operationFromRow);
}

/** The cluster's running or paused operation, if any. */
export async function activeOperation(db: Db, clusterId: string): Promise<ClusterOperation | null> {
  const rows = await db.query(`${SELECT} WHERE o.cluster_id = ? AND o.state IN ('running', 'paused')`, [
    clusterId,
  ]);
  return rows.length ? operationFromRow(rows[0]) : null;
}

export function operationRunning(op: ClusterOperation): IngotError {
  return new IngotError(
    ErrorCode.OperationRunning,
    `cluster ${op.cluster} already runs operation ${op.id} (${op.kind}, ${op.state}); wait for it, or pause/abort it with \`ingot cluster abort ${op.cluster}\``,
    { details: { cluster: op.cluster, operation: op.id, kind: op.kind, state: op.state } },
  );
}

/** The operation's row, running, for a job queued in the same transaction. */
export async function insertOperation(
  t: Db,
  id: string,
  o: Pick<NewOperation, 'clusterId' | 'kind' | 'params' | 'progress' | 'actor' | 'message'> & {
    jobId: string;
  },
  now: number,
): Promise<void> {
  await t.run(
    `INSERT INTO cluster_operations (id, cluster_id, kind, state, reason, params, progress, job_id, actor, created_at, updated_at)
     VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      o.clusterId,
      o.kind,
      o.message,
      JSON.stringify(o.params),
      JSON.stringify(o.progress),
      o.jobId,
      o.actor,
      now,
      now,
    ],
  );
}

/** Starts an operation: all of it (check, cluster move, job, row, events) or nothing. */
export async function startOperation(
  db: Db,
  o: NewOperation,
): Promise<{ operation: ClusterOperation; job: Job }> {
  try {
    return await db.tx(async (t) => {
      const now = Date.now();
      const active = await activeOperation(t, o.clusterId);
      if (active) throw operationRunning(active);
      const move = { clusterId: o.clusterId, from: o.from, to: o.to, reason: o.message };
      if (!(await writeClusterTransition(t, move, now))) {
        const rows = await t.query<{ name: string; state: string }>(
          'SELECT name, state FROM clusters WHERE id = ?',
          [o.clusterId],
        );
        throw new IngotError(
          ErrorCode.ConcurrentUpdate,
          `cluster ${rows[0]?.name} is ${rows[0]?.state}, not ${o.from}: another change won the race; re-read and retry`,
          { details: { id: o.clusterId, expected: o.from, state: rows[0]?.state } },
        );
      }
      await cancelActiveJobs(t, { clusterId: o.clusterId }, o.message, o.actor, now);
      // The job names its operation: the step reads the roll's progress there.
      const id = newId('op');
      const job = await insertJob(
        t,
        { clusterId: o.clusterId },
        { ...o.job, params: { ...o.job.params, operation: id } },
        o.actor,
        now,
      );
      await insertOperation(t, id, { ...o, jobId: job.id }, now);
      await insertEvents(
        t,
        [
          clusterTransitionEvent(move, o.actor, job.id),
          {
            type: 'cluster.operation.started',
            level: 'info',
            clusterId: o.clusterId,
            jobId: job.id,
            actor: o.actor,
            message: o.message,
            data: { operation: id, kind: o.kind },
          },
          ...(o.events ?? []).map((e) => ({ ...e, jobId: job.id, data: { ...e.data, operation: id } })),
        ],
        now,
      );
      return { operation: await getOperation(t, id), job };
    });
  } catch (e) {
    // Two regions racing past the check: the partial unique index refuses the second.
    const text = `${(e as { message?: string }).message ?? ''} ${(e as { constraint?: string }).constraint ?? ''}`;
    if (
      (e as { code?: string }).code === '23505' ||
      /UNIQUE constraint failed: cluster_operations/.test(text)
    ) {
      const active = await activeOperation(db, o.clusterId);
      if (active) throw operationRunning(active);
    }
    throw e;
  }
}

export interface OperationRetry {
  operationId: string;
  clusterId: string;
  /** The cluster's failed state (compare-and-set) and the state it re-enters. */
  from: ClusterState;
  to: ClusterState;
  /** The progress it resumes with (core's retryProgress). */
  progress: OperationProgress;
  job: NewJob;
  actor: string;
  message: string;
}

/**
 * Retries a halted operation as itself, all or nothing: the cluster's move back into
 * `updating`, a new job for the operation (its agent tasks are keyed by job, so the failed
 * one is not replayed), and the operation failed → running with that job and its progress.
 */
export async function retryOperation(
  db: Db,
  r: OperationRetry,
): Promise<{ operation: ClusterOperation; job: Job }> {
  return db.tx(async (t) => {
    const now = Date.now();
    const move = { clusterId: r.clusterId, from: r.from, to: r.to, reason: r.message };
    if (!(await writeClusterTransition(t, move, now)))
      throw new IngotError(
        ErrorCode.ConcurrentUpdate,
        `the cluster is no longer ${r.from}: another change won the race; re-read and retry`,
        { details: { id: r.clusterId, expected: r.from } },
      );
    await cancelActiveJobs(t, { clusterId: r.clusterId }, r.message, r.actor, now);
    const job = await insertJob(
      t,
      { clusterId: r.clusterId },
      { ...r.job, params: { ...r.job.params, operation: r.operationId } },
      r.actor,
      now,
    );
    const n = await t.run(
      `UPDATE cluster_operations SET state = 'running', reason = ?, progress = ?, job_id = ?, finished_at = NULL, updated_at = ?
       WHERE id = ? AND state = 'failed'`,
      [r.message, JSON.stringify(r.progress), job.id, now, r.operationId],
    );
    if (n !== 1)
      throw new IngotError(
        ErrorCode.ConcurrentUpdate,
        `operation ${r.operationId} is no longer failed: another change won the race; re-read and retry`,
        { details: { operation: r.operationId } },
      );
    const op = await getOperation(t, r.operationId);
    await insertEvents(
      t,
      [
        clusterTransitionEvent(move, r.actor, job.id),
        {
          type: 'cluster.operation.retried',
          level: 'info',
          clusterId: r.clusterId,
          jobId: job.id,
          actor: r.actor,
          message: `${op.kind} ${op.id}: ${r.message}`,
          data: { operation: op.id, kind: op.kind },
        },
      ],
      now,
    );
    return { operation: op, job };
  });
}

/**
 * A compare-and-set write of the operation (its state, reason, progress) with its events; on a
 * successful end also the cluster's new Cluster file. Null when the operation had left `from`.
 */
export async function updateOperation(
  db: Db,
  id: string,
  u: OperationUpdate,
  events: readonly NewEvent[] = [],
): Promise<ClusterOperation | null> {
  return db.tx(async (t) => {
    const now = Date.now();
    const sets = ['updated_at = ?'];
    const args: SqlValue[] = [now];
    if (u.to) {
      sets.push('state = ?');
      args.push(u.to);
      if (u.to !== 'running' && u.to !== 'paused') {
        sets.push('finished_at = ?');
        args.push(now);
      }
    }
    if (u.reason !== undefined) {
      sets.push('reason = ?');
      args.push(u.reason);
    }
    if (u.progress) {
      sets.push('progress = ?');
      args.push(JSON.stringify(u.progress));
    }
    const n = await t.run(
      `UPDATE cluster_operations SET ${sets.join(', ')} WHERE id = ? AND state IN (${u.from.map(() => '?').join(', ')})`,
      [...args, id, ...u.from],
    );
    if (n !== 1) return null;
    const op = await getOperation(t, id);
    if (u.clusterFile !== undefined)
      await t.run('UPDATE clusters SET cluster_file = ?, updated_at = ? WHERE id = ?', [
        u.clusterFile,
        now,
        op.clusterId,
      ]);
    if (u.version !== undefined)
      await t.run('UPDATE clusters SET version = ?, updated_at = ? WHERE id = ?', [
        u.version,
        now,
        op.clusterId,
      ]);
    await insertEvents(t, events, now);
    return op;
  });
}
