/**
 * How a job's end changes its machine: a pure decision, persisted by the worker in the same
 * transaction as the job's end. Only a machine still in the workflow's running state moves;
 * one that left it (abort, watchdog) keeps its state.
 */
import type { NewEvent } from '../core/event.ts';
import type { Job } from '../core/job.ts';
import { successFields, WORKFLOW_RULES, type WorkflowKind, workflowFailureState } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { JobFinish } from '../store/store.ts';

export function jobEnd(
  job: Pick<Job, 'id' | 'machineId'> & { kind: WorkflowKind },
  machine: Pick<Machine, 'state'>,
  status: 'done' | 'failed',
  error: string | null,
  actor: string,
  now: string,
): { transition: JobFinish['transition']; event: NewEvent } {
  const { running, success } = WORKFLOW_RULES[job.kind];
  let transition: JobFinish['transition'];
  if (running !== null && machine.state === running) {
    const to = status === 'done' ? success : workflowFailureState(running);
    if (to !== null)
      transition =
        status === 'done'
          ? { from: running, to, reason: `${job.kind} finished`, set: successFields(job.kind, now) }
          : { from: running, to, reason: error ?? `${job.kind} failed` };
  }
  const event: NewEvent = {
    type: status === 'done' ? 'job.done' : 'job.failed',
    level: status === 'done' ? 'info' : 'error',
    actor,
    machineId: job.machineId,
    jobId: job.id,
    message: status === 'done' ? `${job.kind} finished` : `${job.kind} failed: ${error}`,
    data: { kind: job.kind },
  };
  return { transition, event };
}
