import type { ClusterWorkflow } from './cluster-lifecycle.ts';
import type { WorkflowKind } from './lifecycle.ts';

/** A job runs a machine's workflow or a cluster's. */
export type JobKind = WorkflowKind | ClusterWorkflow;

/**
 * A durable job runs one workflow on its subject — one machine, or one cluster — as an ordered
 * list of single-action steps.
 * Workers lease jobs (owner + expiry) and heartbeat; a job whose owner died is taken over
 * when its lease expires, and resumes at the step it had not finished.
 */
export const JobStatus = {
  Queued: 'queued',
  Running: 'running',
  Done: 'done',
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];
export const JOB_STATUSES: readonly JobStatus[] = Object.values(JobStatus);

export interface JobStep {
  readonly name: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Attempts made so far at this step (1 on the first try). */
  attempts: number;
  error: string | null;
}

export interface Job {
  readonly id: string;
  /** The job's subject: exactly one of machineId and clusterId is set. */
  readonly machineId: string | null;
  readonly clusterId: string | null;
  readonly kind: JobKind;
  readonly status: JobStatus;
  readonly steps: readonly JobStep[];
  /** Index of the first unfinished step. */
  readonly stepIndex: number;
  /** Earliest time the worker may run the next attempt (backoff, polling). */
  readonly runAfter: string;
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: string | null;
  /** Rack and BMC host, copied from the machine for the concurrency limits. */
  readonly rack: string;
  readonly bmcHost: string;
  readonly error: string | null;
  /** Free-form parameters of the workflow (image to deploy, tests to run…). */
  readonly params: Record<string, unknown>;
  /** Per-job scratch data kept across steps and crashes (e.g. when the agent was first awaited). */
  readonly scratch: Record<string, unknown>;
  readonly actor: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

/** Capped exponential backoff: base·2^(attempt-1), at most cap, with ±20% jitter from `rand`. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, rand: number): number {
  const raw = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const jitter = 0.8 + 0.4 * rand;
  return Math.round(Math.min(capMs, raw * jitter));
}
