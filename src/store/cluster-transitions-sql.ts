/**
 * The one writer of a cluster's lifecycle state: a compare-and-set `UPDATE clusters … WHERE
 * state = from`, and the `cluster.transition` event. A cluster job's end calls it in the same
 * transaction as the job's end (jobs-sql.ts finishJob), as a machine job's end moves its machine.
 */
import { type ClusterState, clusterTransitionAllowed } from '../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { NewEvent } from '../core/event.ts';
import type { Job } from '../core/job.ts';
import { freeMemberAddresses } from './cluster-addresses-sql.ts';
import type { Db } from './db.ts';

export interface ClusterMove {
  clusterId: string;
  from: ClusterState;
  to: ClusterState;
  reason: string;
}

/**
 * True when the cluster moved; false when it had left `from`. A move the lifecycle table does
 * not allow is refused before anything is written (INGOT_INVALID_TRANSITION).
 */
export async function writeClusterTransition(t: Db, m: ClusterMove, now: number): Promise<boolean> {
  if (!clusterTransitionAllowed(m.from, m.to))
    throw new IngotError(
      ErrorCode.InvalidTransition,
      `a cluster cannot move from ${m.from} to ${m.to}: the cluster lifecycle table has no such transition`,
      { details: { from: m.from, to: m.to } },
    );
  const n = await t.run(
    'UPDATE clusters SET state = ?, state_reason = ?, state_entered_at = ?, updated_at = ? WHERE id = ? AND state = ?',
    [m.to, m.reason, now, now, m.clusterId, m.from],
  );
  if (n === 1 && m.to === 'deleted') await forgetMembers(t, m.clusterId);
  return n === 1;
}

/** `writeClusterTransition`, refusing with INGOT_CONCURRENT_UPDATE when the cluster had left `from`. */
export async function moveClusterOrRefuse(t: Db, m: ClusterMove, now: number): Promise<void> {
  if (await writeClusterTransition(t, m, now)) return;
  const [current] = await t.query<{ name: string; state: string }>(
    'SELECT name, state FROM clusters WHERE id = ?',
    [m.clusterId],
  );
  if (!current)
    throw new IngotError(
      ErrorCode.NotFound,
      `cluster ${m.clusterId} does not exist; list clusters with \`ingot cluster ls\``,
      { details: { cluster: m.clusterId } },
    );
  throw new IngotError(
    ErrorCode.ConcurrentUpdate,
    `cluster ${current.name} is ${current.state}, not ${m.from}: another change won the race; re-read and retry`,
    { details: { id: m.clusterId, expected: m.from, state: current.state } },
  );
}

/**
 * A deleted cluster lets its machines go (the release jobs returned them to ready), their planned
 * addresses, its admin kubeconfig and its rotated backup S3 keys with them; its row stays, with the members named on the event.
 */
async function forgetMembers(t: Db, clusterId: string): Promise<void> {
  await freeMemberAddresses(t, clusterId);
  await t.run('DELETE FROM cluster_members WHERE cluster_id = ?', [clusterId]);
  const rows = await t.query<{ kubeconfig_secret_id: string | null; backup_s3_secret_id: string | null }>(
    'SELECT kubeconfig_secret_id, backup_s3_secret_id FROM clusters WHERE id = ?',
    [clusterId],
  );
  const held = [rows[0]?.kubeconfig_secret_id, rows[0]?.backup_s3_secret_id].filter((x) => !!x);
  if (held.length > 0) {
    await t.run('UPDATE clusters SET kubeconfig_secret_id = NULL, backup_s3_secret_id = NULL WHERE id = ?', [
      clusterId,
    ]);
    for (const secret of held) await t.run('DELETE FROM secrets WHERE id = ?', [secret]);
  }
}

export function clusterTransitionEvent(m: ClusterMove, actor: string, jobId: string | null): NewEvent {
  return {
    type: 'cluster.transition',
    level: m.to.startsWith('failed_') ? 'error' : 'info',
    clusterId: m.clusterId,
    jobId,
    actor,
    message: `${m.from} → ${m.to}: ${m.reason}`,
    data: { from: m.from, to: m.to, reason: m.reason },
  };
}

/** A cluster job's end: the cluster's move, or a note that it had already left the state. */
export async function endClusterWorkflow(
  t: Db,
  clusterId: string,
  job: Pick<Job, 'id' | 'kind' | 'params'>,
  move: Omit<ClusterMove, 'clusterId'>,
  actor: string,
  now: number,
): Promise<NewEvent[]> {
  const m = { ...move, clusterId };
  if (await writeClusterTransition(t, m, now)) {
    // The cluster's PKI (CA keys), join token and backup S3 keys go with it; the delete job
    // carries the create's secret ids.
    if (m.to === 'deleted')
      for (const id of [job.params.pkiSecret, job.params.joinTokenSecret, job.params.backupS3Secret])
        if (typeof id === 'string') await t.run('DELETE FROM secrets WHERE id = ?', [id]);
    return [clusterTransitionEvent(m, actor, job.id)];
  }
  return [
    {
      type: 'cluster.transition.skipped',
      level: 'warning',
      clusterId,
      jobId: job.id,
      actor,
      message: `${job.kind} ended but the cluster had left ${move.from}; its state was not changed`,
    },
  ];
}
