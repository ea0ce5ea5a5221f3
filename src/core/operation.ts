/**
 * Durable cluster operations (issue 16, docs/day2.md): one operation per cluster at a time,
 * each a rolling walk over the cluster's nodes that an operator can pause, resume and abort,
 * and that halts at the first failure naming the node and the reason. Pure: the states, who
 * may move them, and — given the progress stored on the operation — what the engine does
 * next (src/engine/cluster/operation-*.ts performs it and records what it did).
 *
 *   running ⇄ paused      running | paused → aborted (operator)
 *   running → succeeded   running → failed (halted: node and reason)
 */
import { ErrorCode, IngotError } from './errors.ts';
import type { RestoreProgress } from './etcd-restore.ts';
import type { DrainProgress } from './node-drain.ts';
import { type RollNode, type RollPhase, rollingPlan } from './rolling-plan.ts';

/**
 * What an operation does. `reconfigure` (kube-apiserver flags from a changed Cluster file),
 * `cert-rotate` (`kubeadm certs renew all` on each control plane), `upgrade` (kubeadm
 * upgrade, control planes then worker batches) and `os-replace` (control planes one at a time,
 * then workers: drained, redeployed with an OS image, rejoined; the remediation's reprovision is
 * one of one node) and `restore`
 * (the cluster's etcd put back to a backup on every control plane: core/etcd-restore.ts) and
 * `drain` (one node cordoned and its pods evicted through the Eviction API: core/node-drain.ts),
 * `scale` (workers or control planes added and removed: the scale workflow's steps, recorded
 * per node on the operation: core/scale-operation.ts) and `remediate` (a remediation's
 * replacement of a dead worker by a spare, the same steps) run today.
 */
export const OperationKind = {
  Reconfigure: 'reconfigure',
  CertRotate: 'cert-rotate',
  Upgrade: 'upgrade',
  Scale: 'scale',
  Remediate: 'remediate',
  OsReplace: 'os-replace',
  Restore: 'restore',
  Drain: 'drain',
} as const;
export type OperationKind = (typeof OperationKind)[keyof typeof OperationKind];
export const OPERATION_KINDS: readonly OperationKind[] = Object.values(OperationKind);
/** The kinds the engine can run now. */
export const RUNNABLE_OPERATION_KINDS: readonly OperationKind[] = [
  OperationKind.Reconfigure,
  OperationKind.CertRotate,
  OperationKind.Upgrade,
  OperationKind.OsReplace,
  OperationKind.Restore,
  OperationKind.Drain,
  OperationKind.Scale,
  OperationKind.Remediate,
];

export const OperationState = {
  Running: 'running',
  Paused: 'paused',
  Aborted: 'aborted',
  Failed: 'failed',
  Succeeded: 'succeeded',
} as const;
export type OperationState = (typeof OperationState)[keyof typeof OperationState];
export const OPERATION_STATES: readonly OperationState[] = Object.values(OperationState);
/** An operation in one of these holds its cluster: no second one may start. */
export const ACTIVE_OPERATION_STATES: readonly OperationState[] = ['running', 'paused'];

export const isActiveOperation = (s: OperationState): boolean => ACTIVE_OPERATION_STATES.includes(s);

/** What an operator may do to a running operation. */
export const OperationControl = { Pause: 'pause', Resume: 'resume', Abort: 'abort' } as const;
export type OperationControl = (typeof OperationControl)[keyof typeof OperationControl];
export const OPERATION_CONTROLS: readonly OperationControl[] = Object.values(OperationControl);

const CONTROL_RULES: Readonly<
  Record<OperationControl, { from: readonly OperationState[]; to: OperationState }>
> = {
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  abort: { from: ['running', 'paused'], to: 'aborted' },
};

/** An operation may be retried (its cluster's `retry`) only once it halted. */
export function checkRetryable(state: OperationState, id: string): void {
  if (state === 'failed') return;
  throw new IngotError(
    ErrorCode.InvalidTransition,
    `cannot retry operation ${id} while it is ${state}; only a failed (halted) operation is retried`,
    { details: { operation: id, state } },
  );
}

/** The controls allowed in a state, in table order (what a 409 lists). */
export function allowedControls(state: OperationState): OperationControl[] {
  return OPERATION_CONTROLS.filter((c) => CONTROL_RULES[c].from.includes(state));
}

/** The state a control moves an operation in `state` to, or an INGOT_INVALID_TRANSITION. */
export function controlOperation(
  control: OperationControl,
  state: OperationState,
  id: string,
): OperationState {
  const rule = CONTROL_RULES[control];
  if (rule.from.includes(state)) return rule.to;
  const allowed = allowedControls(state);
  throw new IngotError(
    ErrorCode.InvalidTransition,
    `cannot ${control} operation ${id} while it is ${state}; allowed: ${allowed.join(', ') || 'none (it has ended)'}`,
    { details: { operation: id, state, control, allowed } },
  );
}

/** Where a node is in its part of the roll. */
export const NodeProgressState = {
  Pending: 'pending',
  Running: 'running',
  Done: 'done',
  Failed: 'failed',
} as const;
export type NodeProgressState = (typeof NodeProgressState)[keyof typeof NodeProgressState];

/**
 * The last sub-step a node finished. A control plane: `reconfigured` (its static pod manifest
 * rewritten by its node agent) or, rotating certificates, `renewed` (its certificates renewed
 * and its static pods restarted on them) or, upgrading, `drained` (cordoned, pods evicted: its
 * kubelet restarts next) → `upgraded` (kubeadm upgrade and its kubelet restarted) → `healthy` (the
 * cluster's API answers again; an upgraded control plane uncordoned). A worker: `drained` (cordoned, pods
 * evicted through the Eviction API) → (upgrading: `upgraded`; replacing its OS: `redeployed` —
 * its Node deleted, its machine's disk written again with the image and booted — → `joined`,
 * kubeadm join with a fresh token) → `uncordoned` → `ready`. A control plane replacing its OS:
 * `drained` (the quorum checked first) → `member-removed` (its etcd member removed through another
 * member) → `redeployed` → `joining` (`kubeadm join --control-plane` asked of its node agent with
 * fresh credentials) → `joined` → `ready` (its member started and healthy, its Node Ready,
 * uncordoned). A drain's one node: `cordoned` →
 * `drained` (its pods evicted; it stays cordoned).
 */
export const NodeStep = {
  Reconfigured: 'reconfigured',
  Cordoned: 'cordoned',
  Renewed: 'renewed',
  Upgraded: 'upgraded',
  MemberRemoved: 'member-removed',
  Redeployed: 'redeployed',
  Joining: 'joining',
  Joined: 'joined',
  Healthy: 'healthy',
  Drained: 'drained',
  Uncordoned: 'uncordoned',
  Ready: 'ready',
  Deleted: 'deleted',
  Released: 'released',
} as const;
export type NodeStep = (typeof NodeStep)[keyof typeof NodeStep];

export interface OperationNode {
  readonly hostname: string;
  readonly machineId: string;
  readonly role: RollNode['role'];
  /** Failure domain (`zone/rack`): worker batches never mix them. */
  readonly domain: string;
  state: NodeProgressState;
  step: NodeStep | null;
  message: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** When its last sub-step was recorded (an OS replacement's control plane: its Ready deadline). */
  stepAt?: string | null;
}

export interface OperationProgress {
  /** The etcd snapshot taken before any node was touched. */
  snapshot: { state: 'pending' | 'done' | 'skipped'; id?: string; node?: string; note?: string };
  nodes: OperationNode[];
  /** A restore's procedure: the last step done, the members, the result (core/etcd-restore.ts). */
  restore?: RestoreProgress;
  /** A drain's attempts and result (core/node-drain.ts). */
  drain?: DrainProgress;
}

/**
 * An operation's parameters. A reconfigure: the flags that change and how many workers at once.
 * A certificate rotation changes no flag (`changes` empty, `clusterFile` the cluster's own) and
 * rolls the control planes only.
 */
export interface ReconfigureParams {
  /** kube-apiserver flags after the change (name → value; the whole set of the Cluster file's). */
  apiServerArgs: Record<string, string>;
  /** Flags whose value changes, with before and after (null: absent). */
  changes: { flag: string; from: string | null; to: string | null }[];
  /** The new Cluster file, stored on the cluster when the operation succeeds. */
  clusterFile: string;
  maxUnavailable: number | string;
  /** An upgrade's target version (`v1.21.3`); absent for the other kinds. */
  target?: string;
  /** An OS replacement's image (a ready OS image of the region). */
  image?: string;
  /**
   * An OS replacement's nodes that are dead already (the remediation's reprovision: fenced, their
   * Node deleted): not drained, only redeployed and rejoined.
   */
  dead?: string[];
  /**
   * A halt ends the operation `aborted` rather than `failed`, so its cluster runs again (not
   * failed_updating): a remediation's reprovision, whose ladder goes on to replace the node.
   */
  abortOnHalt?: boolean;
  /** A restore's backup (its id). */
  backup?: string;
  /** A drain's node, its deadline in seconds, whether pods no controller owns go too, and why. */
  node?: string;
  timeoutSeconds?: number;
  force?: boolean;
  reason?: string;
  /** A hardware-driven drain's episode (core/hardware-drain.ts): its end is told on the machine too. */
  episode?: string;
  /** A scale's (or a remediation's replacement's) nodes added and removed, and whether they are control planes. */
  scale?: ScaleOperationParams;
}

export interface ScaleOperationParams {
  add: string[];
  remove: string[];
  controlPlanes: boolean;
}

export interface ClusterOperation {
  readonly id: string;
  readonly clusterId: string;
  readonly cluster: string;
  readonly kind: OperationKind;
  readonly state: OperationState;
  /** Why it is in its state: who paused it, the node and reason it halted on. */
  readonly reason: string;
  readonly params: ReconfigureParams;
  readonly progress: OperationProgress;
  readonly jobId: string | null;
  readonly actor: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

/** What the engine does next for an operation, decided from its stored state and progress. */
export type OperationNext =
  | { readonly kind: 'paused' }
  | { readonly kind: 'end'; readonly state: 'aborted' | 'succeeded' | 'failed' }
  | { readonly kind: 'snapshot' }
  | {
      readonly kind: 'control-plane';
      readonly node: string;
      readonly first: boolean;
      readonly step: NodeStep | null;
    }
  | { readonly kind: 'workers'; readonly nodes: readonly string[] };

/** The operation's remaining roll, as rolling-plan.ts orders it (nodes done are left out). */
export function remainingRoll(op: Pick<ClusterOperation, 'params' | 'progress'>): RollPhase[] {
  const p = op.progress;
  return rollingPlan({
    nodes: p.nodes.map((n) => ({ node: n.hostname, role: n.role, domain: n.domain })),
    maxUnavailable: op.params.maxUnavailable,
    done: p.nodes.filter((n) => n.state === 'done').map((n) => n.hostname),
    snapshotTaken: p.snapshot.state !== 'pending',
  });
}

/**
 * The next thing to do. An ended operation ends; a paused one waits; a running one takes the
 * first phase of its remaining roll. A worker batch already started keeps its nodes (a resumed
 * roll finishes the batch it was in before planning the next).
 */
export function nextOperationStep(
  op: Pick<ClusterOperation, 'state' | 'params' | 'progress'>,
): OperationNext {
  if (op.state === 'aborted' || op.state === 'failed' || op.state === 'succeeded')
    return { kind: 'end', state: op.state };
  if (op.state === 'paused') return { kind: 'paused' };
  const started = op.progress.nodes.filter((n) => n.state === 'running');
  if (started.some((n) => n.role === 'worker'))
    return { kind: 'workers', nodes: started.filter((n) => n.role === 'worker').map((n) => n.hostname) };
  const [phase] = remainingRoll(op);
  if (!phase) return { kind: 'end', state: 'succeeded' };
  if (phase.kind === 'snapshot') return phase;
  if (phase.kind === 'workers') return phase;
  const n = op.progress.nodes.find((x) => x.hostname === phase.node)!;
  return { kind: 'control-plane', node: phase.node, first: phase.first, step: n.step };
}

/** The progress of a new operation over `nodes`: nothing done, snapshot pending. */
export function newProgress(
  nodes: readonly Pick<OperationNode, 'hostname' | 'machineId' | 'role' | 'domain'>[],
): OperationProgress {
  return {
    snapshot: { state: 'pending' },
    nodes: nodes.map((n) => ({
      ...n,
      state: 'pending',
      step: null,
      message: null,
      startedAt: null,
      endedAt: null,
    })),
  };
}

/**
 * The progress a retried (halted) operation resumes with: the node that failed is running
 * again at the sub-step it had finished (its message says what it failed with), nodes done stay
 * done and are not touched again, and every node in the batch it was in restarts its clock
 * (`startedAt`) so the health and Ready deadlines count from the retry.
 */
export function retryProgress(p: OperationProgress, at: string): OperationProgress {
  return {
    snapshot: { ...p.snapshot },
    ...(p.restore ? { restore: JSON.parse(JSON.stringify(p.restore)) as RestoreProgress } : {}),
    ...(p.drain ? { drain: JSON.parse(JSON.stringify(p.drain)) as DrainProgress } : {}),
    nodes: p.nodes.map((n) =>
      n.state === 'failed'
        ? {
            ...n,
            state: 'running',
            message: `retried after: ${n.message ?? 'a failure'}`,
            startedAt: at,
            endedAt: null,
          }
        : n.state === 'running'
          ? { ...n, startedAt: at }
          : { ...n },
    ),
  };
}

/** The flags whose value differs between two kube-apiserver flag sets, sorted by name. */
export function flagChanges(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): ReconfigureParams['changes'] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .filter((f) => before[f] !== after[f])
    .map((f) => ({ flag: f, from: before[f] ?? null, to: after[f] ?? null }));
}

/** A change as the timeline says it: `--audit-log-maxage=30 (was 7)`. */
export function describeChange(c: ReconfigureParams['changes'][number]): string {
  if (c.to === null) return `--${c.flag} removed (was ${c.from})`;
  return `--${c.flag}=${c.to}${c.from === null ? ' (new)' : ` (was ${c.from})`}`;
}
