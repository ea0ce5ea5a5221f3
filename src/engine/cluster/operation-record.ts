/**
 * What a running cluster operation writes (operation-run.ts): its progress, compare-and-set on
 * the operation still being active, with the events of the same step; a node's line on the
 * cluster and machine timelines; the halt at the first failure, with the node and the reason.
 */
import type { NewEvent } from '../../core/event.ts';
import type { ClusterOperation, OperationNode, OperationProgress } from '../../core/operation.ts';
import type { StepOutcome } from '../steps.ts';
import type { ClusterStepContext } from './context.ts';

export const ACTIVE = ['running', 'paused'] as const;
export const now = () => new Date().toISOString();
export const clone = (p: OperationProgress): OperationProgress =>
  JSON.parse(JSON.stringify(p)) as OperationProgress;

/** An operation's line on the cluster's timeline (and a machine's, when it names one). */
export function operationEvent(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  type: string,
  level: NewEvent['level'],
  message: string,
  data: Record<string, unknown>,
  machineId: string | null = null,
): NewEvent {
  return {
    type,
    level,
    clusterId: ctx.cluster.id,
    machineId,
    jobId: ctx.job.id,
    actor: `engine:operation:${op.id}`,
    message,
    data: { operation: op.id, ...data },
  };
}

export function nodeEvent(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  n: Pick<OperationNode, 'hostname' | 'machineId'>,
  type: string,
  message: string,
  level: NewEvent['level'] = 'info',
): NewEvent {
  return {
    type,
    level,
    clusterId: ctx.cluster.id,
    machineId: n.machineId,
    jobId: ctx.job.id,
    actor: `engine:operation:${op.id}`,
    message: `${n.hostname}: ${message}`,
    data: { operation: op.id, hostname: n.hostname },
  };
}

/** Writes the progress (the state must still be active); false when the operation ended meanwhile. */
export async function record(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  progress: OperationProgress,
  events: NewEvent[],
) {
  return (await ctx.store.updateOperation(op.id, { from: ACTIVE, progress }, events)) !== null;
}

/**
 * A rolling operation's drain of `n`, told as it waits: each new refusal ("blocked by PDB
 * ns/name") becomes the node's message and a warning on the timeline, written in order while
 * the drain goes on; `settled` before the next write of the progress. A drain that gets through
 * clears the message (`done`).
 */
export function drainWaits(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  progress: OperationProgress,
  n: OperationNode,
) {
  let writes: Promise<unknown> = Promise.resolve();
  let last = '';
  return {
    onBlocked(pod: string, reason: string) {
      const why = `drain waits: ${reason} (pod ${pod})`;
      if (why === last) return;
      last = why;
      n.message = why;
      const p = clone(progress);
      const line = nodeEvent(ctx, op, n, 'cluster.operation.node', why, 'warning');
      writes = writes.then(() => record(ctx, op, p, [line]).catch(() => undefined));
    },
    async done(): Promise<void> {
      await writes;
      if (last) n.message = null;
    },
    settled: () => writes,
  };
}

export async function halt(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  progress: OperationProgress,
  node: OperationNode | null,
  why: string,
): Promise<StepOutcome> {
  const reason = node ? `${node.hostname}: ${why}` : why;
  if (node) {
    const n = progress.nodes.find((x) => x.hostname === node.hostname)!;
    n.state = 'failed';
    n.message = why;
    n.endedAt = now();
  }
  // A remediation's reprovision gives its cluster back on a halt: the ladder replaces the node next.
  const giveBack = op.params.abortOnHalt === true;
  await ctx.store.updateOperation(
    op.id,
    { from: ACTIVE, to: giveBack ? 'aborted' : 'failed', reason: `halted: ${reason}`, progress },
    [
      {
        type: 'cluster.operation.halted',
        level: 'error',
        clusterId: ctx.cluster.id,
        machineId: node?.machineId ?? null,
        jobId: ctx.job.id,
        actor: `engine:operation:${op.id}`,
        message: `halted: ${reason}`,
        data: { operation: op.id, hostname: node?.hostname ?? null },
      },
    ],
  );
  if (giveBack)
    return { kind: 'done', message: `${op.kind} ${op.id} halted: ${reason} (the cluster given back)` };
  return { kind: 'fail', reason: `${op.kind} halted: ${reason}` };
}
