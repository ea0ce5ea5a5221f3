/**
 * A scale job run as a cluster operation (core/scale-operation.ts): the operation is written
 * with the scale's job (store.scaleCluster), every step of the scale workflow passes through
 * `scaleGated` — paused: wait; aborted: skip, and the last step gives back what is not
 * finished; running: run the step, then record its nodes' progress on the operation from the
 * notes it wrote — and the job's end ends the operation with it (store/operation-end-sql.ts).
 */
import type { Plan, PlannedNode } from '../../cluster/plan/types.ts';
import type { Cluster } from '../../core/cluster.ts';
import { ClusterWorkflow } from '../../core/cluster-lifecycle.ts';
import type { ClusterOperation, OperationKind } from '../../core/operation.ts';
import { abortedScale, applyScaleNotes, finishScaleStep, scaleProgress } from '../../core/scale-operation.ts';
import type { ScaleClusterRequest } from '../../store/cluster-scale-sql.ts';
import type { StepEvent, StepOutcome } from '../steps.ts';
import { type ClusterStepContext, kubeconfig, note } from './context.ts';
import { clone, now } from './operation-record.ts';
import { forgetJoinToken, noted, releaseMembers } from './scale-steps.ts';

type Run = (ctx: ClusterStepContext) => Promise<StepOutcome>;

/** The operation a scale writes with its job: its nodes added (planned) and removed (members). */
export function scaleOperation(
  kind: typeof OperationKind.Scale | typeof OperationKind.Remediate,
  cluster: Cluster,
  plan: Plan,
  added: readonly PlannedNode[],
  leaving: readonly string[],
  controlPlanes: boolean,
): NonNullable<ScaleClusterRequest['operation']> {
  const domain = (h: string) => {
    const p = [...plan.nodes, ...added].find((n) => n.hostname === h);
    return p ? `${p.zone}/${p.rack}` : '';
  };
  const addedNodes = added.map((n) => ({
    hostname: n.hostname,
    machineId: n.machineId,
    role: n.role === 'worker' ? ('worker' as const) : ('control-plane' as const),
    domain: domain(n.hostname),
  }));
  const leavingNodes = leaving.flatMap((h) =>
    cluster.members
      .filter((m) => m.hostname === h)
      .map((m) => ({
        hostname: h,
        machineId: m.machineId,
        role: m.role === 'worker' ? ('worker' as const) : ('control-plane' as const),
        domain: domain(h),
      })),
  );
  return {
    kind,
    params: {
      apiServerArgs: {},
      changes: [],
      clusterFile: cluster.clusterFile,
      maxUnavailable: 1,
      scale: { add: added.map((n) => n.hostname), remove: [...leaving], controlPlanes },
    },
    progress: scaleProgress([...addedNodes, ...leavingNodes]),
  };
}

/** `run`, one step of the scale workflow, under its operation's state (a job with none runs as it is). */
export function scaleGated(step: string, run: Run): Run {
  return async (ctx) => {
    const id = ctx.job.params.operation;
    if (ctx.job.kind !== ClusterWorkflow.Scale || typeof id !== 'string') return run(ctx);
    const op = await ctx.store.getOperation(id);
    if (op.state === 'paused')
      return { kind: 'wait', ms: ctx.limits.pollMs, message: `paused: ${op.reason}` };
    if (op.state === 'aborted')
      return step === 'scale-release'
        ? giveBack(ctx, op)
        : { kind: 'done', message: `skipped: ${op.kind} ${op.id} ${op.reason}` };
    const out = await run(ctx);
    const progress = clone(op.progress);
    const at = now();
    let changed = applyScaleNotes(progress, out.events ?? [], at);
    if (out.kind === 'done') changed = finishScaleStep(progress, step, at) || changed;
    if (out.kind === 'fail') {
      // The node the reason names (the steps' reasons start with it), else the first one running.
      const n =
        progress.nodes.find((x) => x.state !== 'done' && out.reason.includes(x.hostname)) ??
        progress.nodes.find((x) => x.state === 'running');
      if (n) {
        n.state = 'failed';
        n.message = out.reason;
        n.endedAt = at;
        changed = true;
      }
    }
    // Only the engine writes progress; an operator's pause or abort meanwhile changes the state alone.
    if (changed) await ctx.store.updateOperation(id, { from: ['running', 'paused', 'aborted'], progress });
    return out;
  };
}

/**
 * An aborted scale's last step: added nodes that have not joined are released (a Node one may
 * have registered deleted first) and leave the members; removed nodes whose Node is deleted
 * are released as the scale would have; the others are uncordoned and stay.
 */
async function giveBack(ctx: ClusterStepContext, op: ClusterOperation): Promise<StepOutcome> {
  const scale = op.params.scale ?? { add: [], remove: [], controlPlanes: false };
  const { release, keep, finish } = abortedScale(op.progress, scale);
  const members = (hs: readonly string[]) => ctx.cluster.members.filter((m) => hs.includes(m.hostname));
  const k = await kubeconfig(ctx);
  const events: StepEvent[] = [];
  const progress = clone(op.progress);
  const said = await noted(ctx, 'cluster.node.kept');
  for (const m of members(keep)) {
    if (k) await ctx.kube.uncordon(k, m.hostname).catch(() => undefined);
    const n = progress.nodes.find((x) => x.hostname === m.hostname);
    if (n) n.message = 'kept: the scale was aborted (uncordoned)';
    if (!said.has(m.machineId))
      events.push(note(m, 'cluster.node.kept', 'kept in the cluster: the scale was aborted (uncordoned)'));
  }
  const leaving = members([...release, ...finish]);
  if (k) for (const m of members(release)) await ctx.kube.deleteNode(k, m.hostname).catch(() => false);
  const why = `given back: ${op.kind} ${op.id} of cluster ${ctx.cluster.name} ${op.reason}`;
  const r = await releaseMembers(ctx, leaving, why);
  if (r) return { ...r, events: [...events, ...(r.events ?? [])] };
  await forgetJoinToken(ctx);
  for (const n of progress.nodes.filter((x) => leaving.some((m) => m.hostname === x.hostname))) {
    n.message = release.includes(n.hostname)
      ? 'given back: released (the scale was aborted before it joined)'
      : 'done: released, no longer a member';
    if (finish.includes(n.hostname)) {
      n.state = 'done';
      n.step = 'released';
    }
    n.endedAt = now();
  }
  await ctx.store.updateOperation(op.id, { from: ['aborted'], progress });
  return {
    kind: 'done',
    message:
      [
        release.length ? `released ${release.join(', ')}` : '',
        finish.length ? `removed ${finish.join(', ')}` : '',
        keep.length ? `kept ${keep.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ') || `${op.kind} ${op.id} aborted before it changed anything`,
    events,
  };
}
