/**
 * The `operation` step of a drain (kind `drain`, started by drain-start.ts): each call does one
 * thing and records it on the operation — cordon the node (step `cordoned`), then one eviction
 * attempt through the Eviction API, PodDisruptionBudgets honoured (KubePort.drainNode, at most
 * ATTEMPT_MS): drained → the operation succeeded (`cluster.node.drained`, the pods evicted and
 * kept), the node left cordoned for its maintenance. A PDB that refuses an eviction is the
 * node's message ("blocked by PDB ns/name", `cluster.node.drain-blocked` once per reason) and the
 * drain asks again; an API that does not answer is asked again with backoff. At the timeout
 * (`timeoutSeconds`, from the start) the operation ends failed with the reason and what to do
 * (`cluster.node.drain-failed`), the node left cordoned, and the job done: nothing is
 * half-done, so the cluster runs again (not failed_updating).
 *
 * A region taking the job over (its lease expired: the region running it died) says so
 * (`cluster.node.drain-takeover`) and re-runs the drain from the cordon — both are idempotent —
 * with its clock started again. A drain the hardware watch started tells its end on the
 * machine's timeline too (HARDWARE_RISK_EVENT, with its episode).
 */
import { ErrorCode, toIngotError } from '../../core/errors.ts';
import type { NewEvent } from '../../core/event.ts';
import { HARDWARE_RISK_EVENT, HardwareAction } from '../../core/hardware-drain.ts';
import { attemptMs, drainLeftMs, retryDelayMs } from '../../core/node-drain.ts';
import type { ClusterOperation, OperationProgress } from '../../core/operation.ts';
import type { DrainResult } from '../../kube/drain.ts';
import type { StepOutcome } from '../steps.ts';
import { type ClusterStepContext, kubeconfig } from './context.ts';
import { ACTIVE, clone, now, operationEvent } from './operation-record.ts';

/** One eviction attempt at most: PDBs are asked again within it (drain.ts), then the step records. */
const ATTEMPT_MS = 30_000;
/** The longest wait between two attempts after the API did not answer. */
const BACKOFF_CAP_MS = 30_000;

const ev = (
  ctx: ClusterStepContext,
  op: ClusterOperation,
  type: string,
  level: NewEvent['level'],
  message: string,
  data: Record<string, unknown> = {},
): NewEvent =>
  operationEvent(
    ctx,
    op,
    type,
    level,
    message,
    { node: op.params.node, ...data },
    op.progress.nodes[0]?.machineId,
  );

/** The hardware watch's line on the machine when its drain ends (its episode, so it is not repeated). */
function hardwareEnd(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  ok: boolean,
  text: string,
  more: Record<string, unknown> = {},
): NewEvent[] {
  if (!op.params.episode) return [];
  const node = op.params.node;
  return [
    {
      ...ev(
        ctx,
        op,
        HARDWARE_RISK_EVENT,
        ok ? 'warning' : 'error',
        `${node}'s hardware is at risk (${op.params.reason}): ${text}`,
      ),
      actor: 'hardware',
      data: {
        node,
        reason: op.params.reason,
        episode: op.params.episode,
        policy: HardwareAction.Drain,
        action: HardwareAction.Drain,
        operation: op.id,
        ...more,
      },
    },
  ];
}

/** The pods of `a` and those of `b` (an unknown detail: none), each once. */
const union = (a: readonly string[], b: unknown): string[] => [
  ...new Set([...a, ...(Array.isArray(b) ? b.filter((x): x is string => typeof x === 'string') : [])]),
];

async function save(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  progress: OperationProgress,
  events: NewEvent[],
  end?: { to: 'succeeded' | 'failed'; reason: string },
): Promise<boolean> {
  return (
    (await ctx.store.updateOperation(
      op.id,
      { from: ACTIVE, progress, ...(end ? { to: end.to, reason: end.reason } : {}) },
      events,
    )) !== null
  );
}

export async function runDrain(ctx: ClusterStepContext, op: ClusterOperation): Promise<StepOutcome> {
  const node = op.params.node;
  if (!node || !op.progress.drain || op.progress.nodes.length !== 1)
    return { kind: 'fail', reason: `operation ${op.id} is a drain without its node` };
  if (op.state === 'succeeded' || op.state === 'failed')
    return { kind: 'done', message: `drain ${op.id} ${op.state}: ${op.reason}` };
  if (op.state === 'aborted')
    return { kind: 'done', message: `drain ${op.id} ${op.reason}; ${node} stays cordoned` };
  if (op.state === 'paused') return { kind: 'wait', ms: ctx.limits.pollMs, message: `paused: ${op.reason}` };
  const progress = clone(op.progress);
  const n = progress.nodes[0];
  const d = progress.drain!;
  const runner = ctx.job.leaseOwner;
  const timeoutS = op.params.timeoutSeconds ?? 300;

  // A region taking the job over says so, and drains again from the cordon with a fresh clock.
  if (runner && d.runner !== runner) {
    const events = d.runner
      ? [
          ev(
            ctx,
            op,
            'cluster.node.drain-takeover',
            'warning',
            `drain of ${node}: taken over by ${runner} after step ${n.step ?? 'none'} (${d.runner}, which ran it, stopped); draining again from the cordon`,
            { step: n.step, from: d.runner, to: runner },
          ),
        ]
      : [];
    if (d.runner) {
      n.step = null;
      d.startedAt = now();
      d.attempts = 0;
    }
    d.runner = runner;
    if (!(await save(ctx, op, progress, events))) return { kind: 'wait', ms: 0 };
    return { kind: 'wait', ms: 0, message: `drain: ${node} from the cordon` };
  }

  const fail = async (why: string, data: Record<string, unknown> = {}): Promise<StepOutcome> => {
    const reason = `drain of ${node} failed: ${why}; ${node} stays cordoned (\`ingot cluster uncordon ${ctx.cluster.name} ${node}\` gives it back)`;
    n.state = 'failed';
    n.message = why;
    n.endedAt = now();
    await save(
      ctx,
      op,
      progress,
      [
        ev(ctx, op, 'cluster.node.drain-failed', 'warning', reason, data),
        ...hardwareEnd(ctx, op, false, `drain stopped, the node stays cordoned: ${why}`),
      ],
      { to: 'failed', reason },
    );
    // Nothing is half-done: the job ends done, and the cluster runs again.
    return { kind: 'done', message: reason };
  };
  /** The attempt did not go through: ask again (after `ms`) until the timeout, then fail. */
  const again = async (why: string, ms: number, pdb: string | null): Promise<StepOutcome> => {
    const left = drainLeftMs(d, timeoutS, Date.now());
    if (left <= 0) {
      const todo = pdb
        ? `: relax the PodDisruptionBudget ${pdb} or add replicas elsewhere, then drain again`
        : '';
      return fail(`${why} after ${timeoutS} s (the timeout)${todo}`, pdb ? { pdb } : {});
    }
    const events =
      d.waiting === why
        ? []
        : [
            ev(
              ctx,
              op,
              'cluster.node.drain-blocked',
              'warning',
              `drain of ${node} waits: ${why}`,
              pdb ? { pdb } : {},
            ),
          ];
    d.attempts += 1;
    d.waiting = why;
    if (pdb) d.pdb = pdb;
    n.message = why;
    if (!(await save(ctx, op, progress, events))) return { kind: 'wait', ms: 0 };
    return { kind: 'wait', ms: Math.min(ms, Math.max(0, left)), message: `${node}: ${why}` };
  };

  const k = await kubeconfig(ctx);
  if (!k) return fail(`cluster ${ctx.cluster.name} has no admin kubeconfig`);
  const unreachable = (e: unknown) =>
    again(
      `the cluster API does not answer: ${toIngotError(e).message}`,
      retryDelayMs(d.attempts + 1, ctx.limits.pollMs, BACKOFF_CAP_MS),
      null,
    );

  if (n.step === null) {
    if (n.state === 'pending') {
      n.state = 'running';
      n.startedAt = now();
    }
    try {
      await ctx.kube.cordon(k, node);
    } catch (e) {
      if (toIngotError(e).retryable) return unreachable(e);
      return fail(toIngotError(e).message);
    }
    n.step = 'cordoned';
    n.message = 'cordoned; evicting its pods (Eviction API)';
    if (!(await save(ctx, op, progress, []))) return { kind: 'wait', ms: 0 };
    return { kind: 'wait', ms: 0, message: `${node} cordoned` };
  }

  // One eviction attempt. A refusal is told on the node's progress as it happens (written in
  // order, before the attempt's own write), once per reason.
  let writes: Promise<unknown> = Promise.resolve();
  const onBlocked = (pod: string, reason: string) => {
    const why = `${reason} (pod ${pod})`;
    if (why === d.waiting) return;
    const pdb = /^blocked by PDB (\S+)$/.exec(reason)?.[1] ?? null;
    d.waiting = why;
    if (pdb) d.pdb = pdb;
    n.message = why;
    const p = clone(progress);
    const line = ev(
      ctx,
      op,
      'cluster.node.drain-blocked',
      'warning',
      `drain of ${node} waits: ${why}`,
      pdb ? { pdb } : {},
    );
    writes = writes.then(() => save(ctx, op, p, [line]).catch(() => undefined));
  };
  let r: DrainResult;
  try {
    r = await ctx.kube.drainNode(k, node, {
      timeoutMs: attemptMs(drainLeftMs(d, timeoutS, Date.now()), ATTEMPT_MS),
      force: op.params.force ?? false,
      onBlocked,
    });
  } catch (e) {
    await writes;
    const err = toIngotError(e);
    if (err.code === ErrorCode.DrainBlocked) {
      const pdb = typeof err.details.pdb === 'string' ? err.details.pdb : null;
      const pod = String(err.details.pod ?? 'a pod');
      return again(pdb ? `blocked by PDB ${pdb} (pod ${pod})` : err.message, ctx.limits.pollMs, pdb);
    }
    if (err.code === ErrorCode.Timeout) {
      // Evicted, still terminating: counted as evicted (the next attempt may not see them).
      d.evicted = union(d.evicted, err.details.pods);
      return again(err.message, ctx.limits.pollMs, null);
    }
    if (err.retryable) return unreachable(err);
    return fail(err.message);
  }
  await writes;
  n.step = 'drained';
  n.state = 'done';
  n.endedAt = now();
  d.evicted = union(d.evicted, r.evicted);
  d.kept = [...r.kept];
  d.waiting = null;
  n.message = `${d.evicted.length} pod(s) evicted, ${r.kept.length} kept; stays cordoned`;
  const message = `${node} drained: ${d.evicted.length} pod(s) evicted, ${r.kept.length} kept (DaemonSet, mirror, finished); it stays cordoned`;
  await save(
    ctx,
    op,
    progress,
    [
      ev(ctx, op, 'cluster.node.drained', 'info', message, { evicted: d.evicted, kept: d.kept }),
      ...hardwareEnd(ctx, op, true, `drained, ${d.evicted.length} pod(s) evicted; replace the part`, {
        evicted: d.evicted,
      }),
    ],
    { to: 'succeeded', reason: message },
  );
  return { kind: 'done', message };
}
