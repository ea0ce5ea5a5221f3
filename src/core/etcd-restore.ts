/**
 * A restore of a cluster's etcd from a backup as a durable operation (docs/day2.md "Backups"):
 * the procedure of src/kube/etcd/restore.ts cut into steps, each recorded on the operation when
 * it is done, so a region that takes the job over resumes at the next one. Pure: the steps,
 * their order, and what comes next from what is recorded.
 *
 *   pending → copied (the members read, the snapshot on every control plane, checked)
 *           → stopped (static pods stopped, etcd silent) → restored (every new data directory)
 *           → swapped (the data directories swapped, the old ones kept) → started (manifests
 *           back, every etcd answers) → answered (the API answers) → done (every node's kubelet
 *           heard on the restored data and its Node Ready, or the ones that were not named
 *           after the wait)
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
  'answered',
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
  /** When every etcd answered on the restored data: a kubelet heard after it is back. */
  startedAgainAt?: string;
  /**
   * The nodes once done: how many of them were back (their kubelet's lease renewed after the
   * control plane started again, and Ready), and the ones not back when the wait ended; null
   * when they could not be read (no kubeconfig, or the API stopped answering).
   */
  nodes?: RestoreNodes | null;
  /** Seconds from the start until every node was back, once done (null: not all were). */
  nodesAfterSeconds?: number | null;
  /**
   * The kubelets restarted, once, on the nodes not back half-way through the nodes' wait (a
   * kubelet holding a watch or a lease from before the restore may not come back by itself; the
   * etcd restore runbook restarts the components): when, which, and the ones whose restart failed.
   */
  kubeletsRestarted?: KubeletRestarts | null;
  /** A failure whose way back put the old data in place and started the control plane again. */
  rolledBack?: boolean;
}

export interface KubeletRestarts {
  readonly at: string;
  readonly nodes: string[];
  /** The nodes whose restart failed, with why. */
  readonly failed: { readonly node: string; readonly error: string }[];
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

export interface RestoreNodes {
  readonly back: number;
  readonly total: number;
  /** The nodes not back when the wait ended, by name. */
  readonly notBack: string[];
}

/** One Node as the restored API has it: Ready, and when its kubelet last renewed its lease. */
export interface NodeHeard {
  readonly node: string;
  readonly ready: boolean;
  readonly heardAt: string | null;
}

/** Which nodes are back on the restored data: Ready, and their kubelet heard since `since`. */
export function nodesBack(nodes: readonly NodeHeard[], since: string): RestoreNodes {
  const t = Date.parse(since);
  const notBack = nodes
    .filter((n) => !(n.ready && n.heardAt !== null && Date.parse(n.heardAt) >= t))
    .map((n) => n.node)
    .sort();
  return { back: nodes.length - notBack.length, total: nodes.length, notBack };
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
  answered: 'the API answers',
  done: "every node's kubelet heard on the restored data and its Node Ready",
};
