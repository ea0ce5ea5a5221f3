/**
 * A restore of a cluster's etcd from a backup as a durable operation (docs/day2.md "Backups"):
 * the procedure of src/kube/etcd/restore.ts cut into steps, each recorded on the operation when
 * it is done, so a region that takes the job over resumes at the next one. Pure: the steps,
 * their order, and what comes next from what is recorded.
 *
 *   pending → copied (the members read, the snapshot on every control plane, checked)
 *           → stopped (static pods stopped, etcd silent) → restored (every new data directory)
 *           → swapped (the data directories swapped, the old ones kept) → started (manifests
 *           back, every etcd answers) → done (the API answers)
 *
 * Each step may run again after a crash in it: the node commands are written so (see
 * restore.ts), and nothing before `swapped` is run again once a swap may have happened.
 */
import { ErrorCode, IngotError } from './errors.ts';

/** A control plane's etcd member, from its static pod manifest. */
export interface RestoreMember {
  readonly node: string;
  readonly name: string;
  readonly peerUrl: string;
  readonly dataDir: string;
}

export const RESTORE_STEPS = [
  'pending',
  'copied',
  'stopped',
  'restored',
  'swapped',
  'started',
  'done',
] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];

export interface RestoreProgress {
  /** The last step done. */
  step: RestoreStep;
  /** The members, read from the etcd manifests at the first step (later steps cannot: moved away). */
  members: RestoreMember[];
  /** When the procedure started (the API's seconds count from here). */
  startedAt: string;
  /** When the last step was recorded. */
  stepAt?: string;
  /** The worker (lease owner) that ran the last step: another one resuming is a takeover. */
  runner: string | null;
  /** The old data directories, kept (`node:path`), once swapped. */
  keptDataDirs: string[];
  /** Seconds from the start until the API answered again, once done. */
  apiAfterSeconds: number | null;
  /** A failure whose way back put the old data in place and started the control plane again. */
  rolledBack?: boolean;
}

export function newRestoreProgress(at: string): RestoreProgress {
  return {
    step: 'pending',
    members: [],
    startedAt: at,
    runner: null,
    keptDataDirs: [],
    apiAfterSeconds: null,
  };
}

/** The step to run next, or null when the procedure is done. */
export function nextRestoreStep(p: Pick<RestoreProgress, 'step'>): Exclude<RestoreStep, 'pending'> | null {
  const i = RESTORE_STEPS.indexOf(p.step);
  if (i < 0) throw new IngotError(ErrorCode.Internal, `unknown restore step "${p.step}"`);
  return (RESTORE_STEPS[i + 1] as Exclude<RestoreStep, 'pending'> | undefined) ?? null;
}

/** Whether the data directories may have been swapped already: no step before the swap may run again. */
export const maySwapped = (step: RestoreStep): boolean =>
  RESTORE_STEPS.indexOf(step) >= RESTORE_STEPS.indexOf('restored');

/** What each step does, as the timeline says it. */
export const RESTORE_STEP_TEXT: Readonly<Record<Exclude<RestoreStep, 'pending'>, string>> = {
  copied: 'the snapshot copied to every control plane and its SHA-256 checked there',
  stopped: "the control plane's static pods stopped on every control plane; etcd no longer answers",
  restored: 'every member restored into a new data directory',
  swapped: 'the data directories swapped (the old ones kept)',
  started: 'the static pods put back; every etcd member answers',
  done: 'the API answers',
};
