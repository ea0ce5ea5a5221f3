/**
 * A cluster job's end while its operation is still running or paused — a scale's, whose steps
 * do not end the operation themselves, or an operation's job failed by a step's deadline: the
 * operation ends with it, in the job's end transaction (jobs-sql.ts finishJob) — succeeded, or
 * failed with the job's reason — so no operation is left running with no job behind it.
 */
import type { Job } from '../core/job.ts';
import type { NewEvent } from '../core/event.ts';
import type { Db } from './db.ts';

export async function endJobOperation(
  t: Db,
  job: Pick<Job, 'id' | 'clusterId' | 'params'>,
  status: 'done' | 'failed',
  reason: string,
  actor: string,
  now: number,
): Promise<NewEvent[]> {
  const id = job.params.operation;
  if (typeof id !== 'string') return [];
  const to = status === 'done' ? 'succeeded' : 'failed';
  const why = status === 'done' ? 'every node done' : reason;
  const n = await t.run(
    `UPDATE cluster_operations SET state = ?, reason = ?, finished_at = ?, updated_at = ?
     WHERE id = ? AND job_id = ? AND state IN ('running', 'paused')`,
    [to, why, now, now, id, job.id],
  );
  if (n !== 1) return [];
  const [op] = await t.query<{ kind: string; cluster_id: string }>(
    'SELECT kind, cluster_id FROM cluster_operations WHERE id = ?',
    [id],
  );
  return [
    {
      type: `cluster.operation.${to}`,
      level: status === 'done' ? 'info' : 'error',
      clusterId: op.cluster_id,
      jobId: job.id,
      actor,
      message: status === 'done' ? `${op.kind} ${id} succeeded` : `${op.kind} ${id} failed: ${why}`,
      data: { operation: id },
    },
  ];
}
