/**
 * One step of a durable etcd restore (core/etcd-restore.ts): given what is recorded, runs the
 * next step of src/kube/etcd/restore.ts on the nodes and answers the progress to record. The
 * caller (restore-run.ts) records it before asking for the next, so a region that takes the job
 * over runs the step after the last one recorded — again from its start when the region died in
 * it, which each step allows (restore.ts: the moves skip what is moved, a swap reads the node).
 *
 * A failure whose way back put the old data in place (restore.ts's `rolledBack`) answers
 * `rolledBack`: nothing changed on the cluster. Any other failure leaves the progress where it
 * was: a retry resumes there.
 */
import { ErrorCode, IngotError, isIngotError } from '../../core/errors.ts';
import {
  type KubeletRestarts,
  type NodeHeard,
  nextRestoreStep,
  nodesBack,
  RESTORE_STEP_TEXT,
  type RestoreProgress,
} from '../../core/etcd-restore.ts';
import {
  copySnapshot,
  readMembers,
  restoreMembers,
  startControlPlane,
  stopControlPlane,
  swapDataDirs,
} from '../../kube/etcd/restore.ts';
import type { NodeShell } from '../../kube/etcd/shell.ts';
import type { SnapshotRecord } from '../../kube/etcd/snapshot.ts';

export interface RestoreStepInput {
  readonly shell: NodeShell;
  readonly progress: RestoreProgress;
  readonly backup: string;
  /** The nodes running the API servers (their static pods stopped and started around the restore). */
  readonly controlPlanes: readonly string[];
  /** The nodes running the etcd members. @default controlPlanes (stacked etcd) */
  readonly etcdNodes?: readonly string[];
  /** The backup's bytes, checked against its SHA-256 (read only by the step that copies them). */
  snapshot(): Promise<{ record: SnapshotRecord; data: Buffer }>;
  /** Whether the cluster's API answers (null: the region has no kubeconfig: etcd answering is the end). */
  apiAnswers: (() => Promise<boolean>) | null;
  /** How long the API may take after the control plane started. @default 300 s */
  apiWithinMs?: number;
  /**
   * Every Node with its Ready condition and its kubelet's last lease renewal, from the restored
   * API (null: no kubeconfig, or a Kubernetes port that cannot say: the API answering is the end).
   */
  nodesHeard: (() => Promise<NodeHeard[]>) | null;
  /** How long the nodes may take to be back after the API answered. @default 300 s */
  nodesWithinMs?: number;
  /**
   * When the kubelets of the nodes not back yet are restarted (once), after the API answered.
   * @default half of nodesWithinMs
   */
  kubeletRestartAfterMs?: number;
  say?: (line: string) => void;
  /** Test timing: how long etcd may take to go silent and to answer again. */
  silentWithinMs?: number;
  answerWithinMs?: number;
  now?: () => number;
}

/** `systemctl restart kubelet` on each node, all at once; a node that refuses is named, not fatal. */
async function restartKubelets(
  shell: NodeShell,
  nodes: readonly string[],
  at: string,
): Promise<KubeletRestarts> {
  const failed: { node: string; error: string }[] = [];
  await Promise.all(
    nodes.map((node) =>
      shell.exec(node, ['systemctl', 'restart', 'kubelet']).catch((e: unknown) => {
        failed.push({ node, error: ((e as Error).message ?? String(e)).slice(0, 300) });
      }),
    ),
  );
  failed.sort((a, b) => a.node.localeCompare(b.node));
  return { at, nodes: [...nodes], failed };
}

export type RestoreStepResult =
  | { readonly kind: 'recorded'; readonly progress: RestoreProgress; readonly text: string }
  | { readonly kind: 'wait'; readonly message: string }
  | { readonly kind: 'rolled-back'; readonly progress: RestoreProgress; readonly error: IngotError };

/** Runs the step after `progress.step`. */
export async function restoreStep(i: RestoreStepInput): Promise<RestoreStepResult> {
  const now = i.now ?? Date.now;
  const next = nextRestoreStep(i.progress);
  if (!next) return { kind: 'recorded', progress: i.progress, text: 'done already' };
  const p: RestoreProgress = JSON.parse(JSON.stringify(i.progress)) as RestoreProgress;
  const members = p.members;
  const others = i.controlPlanes;
  const done = (text: string = RESTORE_STEP_TEXT[next]): RestoreStepResult => {
    p.step = next;
    p.stepAt = new Date(now()).toISOString();
    return { kind: 'recorded', progress: p, text };
  };
  try {
    switch (next) {
      case 'copied': {
        const snapshot = await i.snapshot();
        p.members = await readMembers(i.shell, i.etcdNodes ?? i.controlPlanes);
        await copySnapshot(i.shell, p.members, snapshot);
        return done();
      }
      case 'stopped':
        await stopControlPlane(i.shell, members, { say: i.say, silentWithinMs: i.silentWithinMs, others });
        return done();
      case 'restored':
        await restoreMembers(i.shell, members, i.backup, { say: i.say, others });
        return done();
      case 'swapped':
        p.keptDataDirs = await swapDataDirs(i.shell, members, i.backup, { others });
        return done(`${RESTORE_STEP_TEXT.swapped}: ${p.keptDataDirs.join(', ')}`);
      case 'started':
        await startControlPlane(i.shell, members, { say: i.say, answerWithinMs: i.answerWithinMs, others });
        p.startedAgainAt = new Date(now()).toISOString();
        return done();
      case 'answered': {
        if (i.apiAnswers && !(await i.apiAnswers().catch(() => false))) {
          const within = i.apiWithinMs ?? 300_000;
          if (now() - Date.parse(p.stepAt ?? p.startedAt) > within)
            throw new IngotError(
              ErrorCode.Timeout,
              `etcd is back on the restored data but the API did not answer in ${within / 1000} s`,
            );
          return { kind: 'wait', message: 'waiting for the API on the restored data' };
        }
        p.apiAfterSeconds = Math.round((now() - Date.parse(p.startedAt)) / 100) / 10;
        return done(`the API answered after ${p.apiAfterSeconds} s`);
      }
      case 'done': {
        // The nodes: each kubelet must have renewed its lease with the restored API (a Node's
        // Ready alone may be the snapshot's), and its Node be Ready. A node that is not back
        // when the wait ends does not fail the restore: it is named, to be looked at.
        if (!i.nodesHeard) {
          p.nodes = null;
          return done('the nodes not checked (no kubeconfig)');
        }
        const since = p.startedAgainAt ?? p.stepAt ?? p.startedAt;
        const waited = now() - Date.parse(p.stepAt ?? p.startedAt);
        const within = i.nodesWithinMs ?? 300_000;
        let seen: ReturnType<typeof nodesBack> | null = null;
        let error = '';
        try {
          seen = nodesBack(await i.nodesHeard(), since);
        } catch (e) {
          error = (e as Error).message;
        }
        if (seen && seen.notBack.length === 0) {
          p.nodes = seen;
          p.nodesAfterSeconds = Math.round((now() - Date.parse(p.startedAt)) / 100) / 10;
          return done(`${RESTORE_STEP_TEXT.done}: ${seen.back}/${seen.total} after ${p.nodesAfterSeconds} s`);
        }
        const restartAfter = i.kubeletRestartAfterMs ?? within / 2;
        if (
          seen &&
          seen.notBack.length > 0 &&
          !p.kubeletsRestarted &&
          waited > restartAfter &&
          waited <= within
        ) {
          p.kubeletsRestarted = await restartKubelets(i.shell, seen.notBack, new Date(now()).toISOString());
          const failed = p.kubeletsRestarted.failed;
          return {
            kind: 'recorded',
            progress: p,
            text: `not back after ${Math.round(waited / 1000)} s: the kubelet restarted on ${seen.notBack.join(', ')}${
              failed.length
                ? `; the restart failed on ${failed.map((f) => `${f.node} (${f.error})`).join(', ')}`
                : ''
            }`,
          };
        }
        if (waited <= within)
          return {
            kind: 'wait',
            message: seen
              ? `waiting for the nodes on the restored data: ${seen.back}/${seen.total} back, not yet ${seen.notBack.join(', ')}`
              : `waiting for the nodes on the restored data: ${error}`,
          };
        p.nodes = seen;
        p.nodesAfterSeconds = null;
        return done(
          seen
            ? `${seen.back}/${seen.total} nodes back after ${within / 1000} s; not back: ${seen.notBack.join(', ')} (their kubelet has not renewed its lease with the restored API, or the Node is not Ready${
                p.kubeletsRestarted
                  ? `, though the kubelet was restarted at ${p.kubeletsRestarted.at.slice(11, 19)}`
                  : ''
              }): look at them`
            : `the nodes could not be read in ${within / 1000} s: ${error}`,
        );
      }
    }
  } catch (e) {
    // Nothing copied yet is nothing changed: the cluster runs as it did.
    const rolledBack =
      next === 'copied' ||
      (isIngotError(e) && (e.details as { rolledBack?: unknown } | undefined)?.rolledBack === true);
    if (!rolledBack) throw e;
    const error = isIngotError(e)
      ? e
      : new IngotError(ErrorCode.StepFailed, (e as Error).message, { cause: e });
    return {
      kind: 'rolled-back',
      progress: { ...p, step: 'pending', members, rolledBack: true },
      error,
    };
  }
}
