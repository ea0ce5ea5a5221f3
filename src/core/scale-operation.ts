/**
 * A scale as a cluster operation (docs/day2.md "Scale"): the scale workflow's steps do the work
 * (engine/cluster/scale-steps.ts); this is what the operation records of it and what pause and
 * abort mean for it. Pure: node progress from the notes the steps write on the timeline, the
 * progress a finished step implies, and what an abort gives back.
 *
 * A node added: running (`cluster.node.deploy`) → `joined` (`cluster.node.bootstrapped`, or a
 * control plane's `cluster.node.cp-join` → `joining`) → done `ready` (wait-ready passed; a
 * control plane's `cluster.node.cp-ready`). A node removed: running (`cluster.node.drain`) →
 * `drained` → `deleted` (its Node deleted) → done `released` (scale-release passed).
 *
 * Pause holds the scale before its next step poll (a node task already asked goes on: it is
 * waited for on resume). Abort is taken at the next step poll: the steps left are skipped and
 * the last one gives back what is not finished — added nodes that have not joined are released
 * (their machines wiped, back in the pool), removed nodes whose Node was not deleted are
 * uncordoned and stay; what joined or was deleted stays done. A control-plane scale and a
 * remediation's replacement refuse abort (an etcd membership change or a dead node's swap half
 * given back leaves the cluster worse than either end): they can be paused.
 */
import type { NewEvent } from './event.ts';
import {
  type ClusterOperation,
  newProgress,
  type NodeStep,
  type OperationNode,
  type OperationProgress,
  OperationKind,
} from './operation.ts';

/** The timeline notes that move a scale's node, and where to. */
const MOVES: Readonly<Record<string, { step: NodeStep | null; done?: boolean }>> = {
  'cluster.node.deploy': { step: null },
  'cluster.node.bootstrapped': { step: 'joined' },
  'cluster.node.cp-join': { step: 'joining' },
  'cluster.node.cp-ready': { step: 'ready', done: true },
  'cluster.node.drain': { step: null },
  'cluster.node.drained': { step: 'drained' },
  'cluster.node.deleted': { step: 'deleted' },
};

/** The progress of a new scale over the nodes it adds, then those it removes. */
export function scaleProgress(
  nodes: readonly Pick<OperationNode, 'hostname' | 'machineId' | 'role' | 'domain'>[],
): OperationProgress {
  // A scale takes no etcd snapshot of its own: nothing it does rewrites etcd's data.
  return { ...newProgress(nodes), snapshot: { state: 'skipped', note: 'a scale takes no etcd snapshot' } };
}

/**
 * Moves the scale's nodes by the notes a step wrote (`events` with a machine). Returns whether
 * anything changed; `progress` is changed in place.
 */
export function applyScaleNotes(
  progress: OperationProgress,
  events: readonly Pick<NewEvent, 'type' | 'machineId' | 'message' | 'level'>[],
  at: string,
): boolean {
  let changed = false;
  for (const e of events) {
    const move = MOVES[e.type];
    const n = move && progress.nodes.find((x) => x.machineId === e.machineId);
    if (!n || n.state === 'done') continue;
    if (n.state === 'pending') {
      n.state = 'running';
      n.startedAt = at;
    }
    if (move.step !== null) n.step = move.step;
    n.message = e.message;
    n.stepAt = at;
    if (move.done) {
      n.state = 'done';
      n.endedAt = at;
    }
    changed = true;
  }
  return changed;
}

/**
 * What a finished step of the scale workflow means for its nodes: after `wait-ready` every
 * joined node is Ready; after `scale-release` every deleted node is released.
 */
export function finishScaleStep(progress: OperationProgress, step: string, at: string): boolean {
  const [from, to, message] =
    step === 'wait-ready'
      ? (['joined', 'ready', 'done: Ready'] as const)
      : step === 'scale-release'
        ? (['deleted', 'released', 'done: released, no longer a member'] as const)
        : [null, null, null];
  if (!from) return false;
  let changed = false;
  for (const n of progress.nodes.filter((x) => x.state !== 'done' && x.step === from)) {
    n.step = to;
    n.state = 'done';
    n.message = message;
    n.endedAt = at;
    n.stepAt = at;
    changed = true;
  }
  return changed;
}

/** Why this scale cannot be aborted, or null when it can. */
export function scaleAbortRefusal(op: Pick<ClusterOperation, 'kind' | 'params'>): string | null {
  if (op.kind === OperationKind.Remediate)
    return "a remediation's replacement runs to its end (its dead node is fenced already); pause it, or wait";
  if (op.kind === OperationKind.Scale && op.params.scale?.controlPlanes)
    return 'a control-plane scale runs to its end (each join or removal changes etcd membership); pause it between control planes, or wait';
  return null;
}

/** What an aborted scale gives back, by hostname (from the nodes' progress and the scale's lists). */
export function abortedScale(
  progress: OperationProgress,
  scale: Pick<NonNullable<ClusterOperation['params']['scale']>, 'add' | 'remove'>,
): { release: string[]; keep: string[]; finish: string[] } {
  const step = (h: string) => progress.nodes.find((n) => n.hostname === h)?.step ?? null;
  const joined = (h: string) => ['joined', 'joining', 'ready'].includes(step(h) ?? '');
  const deleted = (h: string) => ['deleted', 'released'].includes(step(h) ?? '');
  return {
    release: scale.add.filter((h) => !joined(h)),
    keep: scale.remove.filter((h) => !deleted(h)),
    finish: scale.remove.filter(deleted),
  };
}

/**
 * The steps a retried scale job runs: the failed job's remaining ones, after `scale-token`
 * again when it is not among them — the join token is made per job (its node-agent task is keyed
 * by the job), so the new job's joins need their own.
 */
export function scaleRetrySteps(remaining: readonly string[]): string[] {
  return remaining.includes('scale-token') ? [...remaining] : ['scale-token', ...remaining];
}
