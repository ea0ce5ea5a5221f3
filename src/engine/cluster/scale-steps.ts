/**
 * The scale workflow's own steps (docs/day2.md "Scale"); deploy-nodes and wait-ready are the
 * create's. Scale out: `scale-token` asks a control plane's node agent for a fresh kubeadm join
 * token (1 h) — the new workers' files are rendered with it, not with the create's 24 h token —
 * then the deploy, then `scale-join` bootstraps the new workers as the create joins its own.
 * Scale in: `scale-drain` cordons and drains each leaving worker through the Eviction API
 * (PodDisruptionBudgets respected: a blocked drain puts the PDB on the timeline and waits),
 * then deletes its Node; `scale-release` releases (wipes) its machine and drops the member.
 * A remediation's replace (remediate-replace.ts) names the dead node in `broken` too, with
 * the reason: its Node is deleted without a drain (its kubelet is gone, its pods were deleted
 * with the fence), and its machine is marked broken with the reason, its owner cleared, never
 * released (a wipe needs the machine to boot). A remediation's control-plane spare
 * (control-plane-spare.ts, `controlPlaneSpare` in the params) is deployed by a scale job too,
 * but not joined here: its `kubeadm join --control-plane` comes with the etcd member swap; the
 * dead control plane it replaces is neither deployed, asked for the token, nor waited for.
 */
import { AgentTask } from '../../core/agent-protocol.ts';
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import { ErrorCode, IngotError, isIngotError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { checkJoinTokenResult, JOIN_TOKEN_SECRET } from '../../core/node-agent-protocol.ts';
import type { Store } from '../../store/store.ts';
import type { AgentPort } from '../agent-port.ts';
import type { StepEvent, StepOutcome } from '../steps.ts';
import {
  type ClusterStepContext,
  controlPlaneSpareOf,
  deadMembersOf,
  kubeconfig,
  memberActor,
  note,
} from './context.ts';
import { joinBounded } from './create-steps.ts';
import { forgetUserData, releaseNodes } from './delete-steps.ts';

/** How long one drain attempt waits on a PodDisruptionBudget before the step asks again. */
const DRAIN_ATTEMPT_MS = 60_000;

const names = (job: Job, key: 'add' | 'remove'): string[] =>
  Array.isArray(job.params[key]) ? (job.params[key] as unknown[]).filter((x) => typeof x === 'string') : [];

/** The hostnames a replace names as broken, with the reason (empty for a plain scale). */
export function brokenMembers(job: Job): Map<string, string> {
  const b = job.params.broken;
  if (!b || typeof b !== 'object') return new Map();
  return new Map(Object.entries(b as Record<string, unknown>).map(([h, r]) => [h, String(r)]));
}

/** The members a scale job adds or removes, in its order. */
export function scaleMembers(cluster: Cluster, job: Job, key: 'add' | 'remove'): ClusterMember[] {
  return names(job, key).flatMap((h) => cluster.members.filter((m) => m.hostname === h));
}

/** The control plane asked for the join token: the first by join order but a dead one the job replaces. */
function tokenSource(cluster: Cluster, job: Job): ClusterMember | undefined {
  const dead = deadMembersOf(job);
  return [...cluster.members]
    .filter((m) => (m.role === 'init' || m.role === 'control-plane') && !dead.has(m.hostname))
    .sort((a, b) => a.order - b.order)[0];
}

/**
 * The scale job's join token, once the control plane's node agent made it (the same task
 * asked again answers from the store: a job runs `kubeadm token create` once). Null while
 * it is pending; throws when it failed.
 */
export async function scaleJoinToken(
  store: Store,
  agent: AgentPort,
  cluster: Cluster,
  job: Job,
): Promise<{ token: string } | { pending: string }> {
  const cp = tokenSource(cluster, job);
  if (!cp)
    throw new IngotError(
      ErrorCode.Conflict,
      `cluster ${cluster.name} has no control plane to make a join token`,
    );
  const r = await agent.task(await store.getMachine(cp.machineId), job.id, AgentTask.JoinToken);
  if (r.status === 'pending')
    return { pending: `${cp.hostname}: ${r.lastMessage ?? 'creating a join token'}` };
  if (r.status === 'failed')
    throw new IngotError(ErrorCode.StepFailed, `${cp.hostname} could not create a join token: ${r.reason}`);
  return checkJoinTokenResult(r.result);
}

export async function scaleToken(ctx: ClusterStepContext): Promise<StepOutcome> {
  if (names(ctx.job, 'add').length === 0) return { kind: 'done', message: 'no workers to add' };
  const r = await scaleJoinToken(ctx.store, ctx.agent, ctx.cluster, ctx.job);
  if ('pending' in r) return { kind: 'wait', ms: ctx.limits.pollMs, message: r.pending };
  const cp = tokenSource(ctx.cluster, ctx.job)!;
  return {
    kind: 'done',
    message: `${cp.hostname} created a join token (valid 1 h) for ${names(ctx.job, 'add').join(', ')}`,
    events: [
      note(
        cp,
        'cluster.node.join-token',
        'join token created for the new workers (kubeadm token create --ttl 1h)',
      ),
    ],
  };
}

export async function scaleJoin(ctx: ClusterStepContext): Promise<StepOutcome> {
  // A control-plane spare joins with the etcd member swap after the job (control-plane-spare.ts).
  // A control-plane scale's new ones join one at a time in scale-control-planes.
  const spare = controlPlaneSpareOf(ctx.job)?.hostname;
  const add = scaleMembers(ctx.cluster, ctx.job, 'add').filter((m) => m.role === 'worker');
  if (add.length === 0)
    return {
      kind: 'done',
      message: spare
        ? `${spare} deployed; it joins as a control plane with its etcd member swap`
        : names(ctx.job, 'add').length
          ? `${names(ctx.job, 'add').join(', ')} deployed; they join as control planes one at a time`
          : 'no workers to add',
    };
  return joinBounded(ctx, add);
}

/** Members whose `type` event this job already wrote. */
export async function noted(ctx: ClusterStepContext, type: string): Promise<Set<string>> {
  const ev = await ctx.store.listEvents({ clusterId: ctx.cluster.id, jobId: ctx.job.id, limit: 1_000_000 });
  return new Set(ev.filter((e) => e.type === type && e.machineId).map((e) => e.machineId!));
}

export async function scaleDrain(ctx: ClusterStepContext): Promise<StepOutcome> {
  const leaving = scaleMembers(ctx.cluster, ctx.job, 'remove');
  if (leaving.length === 0) return { kind: 'done', message: 'no workers to remove' };
  const k = await kubeconfig(ctx);
  if (!k) return { kind: 'fail', reason: 'no admin kubeconfig: the cluster API cannot be asked to drain' };
  const deleted = await noted(ctx, 'cluster.node.deleted');
  const started = await noted(ctx, 'cluster.node.drain');
  const events: StepEvent[] = [];
  const broken = brokenMembers(ctx.job);
  // One at a time: each leaving worker's pods go elsewhere before the next one is drained.
  for (const m of leaving) {
    if (deleted.has(m.machineId)) continue;
    if (broken.has(m.hostname)) {
      // Dead: nothing to evict from; its Node goes (gone already when the remediation deleted it).
      const was = await ctx.kube.deleteNode(k, m.hostname);
      events.push(
        note(m, 'cluster.node.deleted', was ? 'Node deleted (broken: not drained)' : 'Node was already gone'),
      );
      continue;
    }
    if (!started.has(m.machineId))
      events.push(note(m, 'cluster.node.drain', 'cordoned; draining (Eviction API)'));
    try {
      const r = await ctx.kube.drainNode(k, m.hostname, { timeoutMs: DRAIN_ATTEMPT_MS, force: false });
      events.push(
        note(
          m,
          'cluster.node.drained',
          `drained: ${r.evicted.length} pods evicted, ${r.kept.length} kept (DaemonSet, mirror)`,
        ),
      );
    } catch (e) {
      if (isIngotError(e, ErrorCode.DrainBlocked)) {
        events.push({
          ...note(m, 'cluster.node.drain-blocked', `drain waits: ${e.message}`, 'warning'),
          data: { hostname: m.hostname, pdb: e.details.pdb, pod: e.details.pod },
        });
        return {
          kind: 'wait',
          ms: ctx.limits.pollMs,
          message: `${m.hostname}: blocked by PDB ${e.details.pdb}`,
          events,
        };
      }
      if (!isIngotError(e, ErrorCode.NotFound)) throw e;
      // The Node is gone already (deleted by hand, or a crash after the delete): nothing to drain.
    }
    const was = await ctx.kube.deleteNode(k, m.hostname);
    events.push(
      note(m, 'cluster.node.deleted', was ? 'Node deleted from the cluster API' : 'Node was already gone'),
    );
  }
  return {
    kind: 'done',
    message: `${leaving.map((m) => m.hostname).join(', ')} drained and deleted`,
    events,
  };
}

export async function scaleRelease(ctx: ClusterStepContext): Promise<StepOutcome> {
  const leaving = scaleMembers(ctx.cluster, ctx.job, 'remove');
  const broken = brokenMembers(ctx.job);
  for (const m of leaving.filter((x) => broken.has(x.hostname)))
    await markReplacedBroken(
      ctx.store,
      m.machineId,
      ctx.cluster.name,
      broken.get(m.hostname)!,
      memberActor(ctx),
    );
  const r = await releaseMembers(ctx, leaving, `removed from cluster ${ctx.cluster.name} by a scale`);
  if (r) return r;
  await forgetJoinToken(ctx);
  const add = names(ctx.job, 'add');
  return {
    kind: 'done',
    message:
      [
        add.length ? `added ${add.join(', ')}` : '',
        leaving.length ? `removed ${leaving.map((m) => m.hostname).join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ') || 'nothing left to do',
  };
}

/**
 * Releases (wipes) `leaving` and, once every machine is back, forgets their user-data and drops
 * them from the members; the release's outcome while it is not done yet, else null.
 */
export async function releaseMembers(
  ctx: ClusterStepContext,
  leaving: readonly ClusterMember[],
  why: string,
): Promise<StepOutcome | null> {
  if (leaving.length === 0) return null;
  const r = await releaseNodes(ctx, [...leaving], why);
  if (r.kind !== 'done') return r;
  for (const m of leaving) await forgetUserData(ctx, m.machineId);
  await ctx.store.removeClusterMembers(
    ctx.cluster.id,
    leaving.map((m) => m.machineId),
    memberActor(ctx),
    ctx.job.id,
  );
  return null;
}

/**
 * A replaced member's machine marked broken with the reason (never released: a wipe needs it to
 * boot), its owner cleared: out of the cluster, an operator repairs it and marks it fixed.
 */
export async function markReplacedBroken(
  store: Store,
  machineId: string,
  cluster: string,
  why: string,
  actor: string,
): Promise<void> {
  const machine = await store.getMachine(machineId);
  if (machine.state === 'broken') return;
  await store.transition({
    machineId,
    from: machine.state,
    to: 'broken',
    reason: `broken, replaced in cluster ${cluster}: ${why}`,
    actor,
    set: { owner: '' },
    cancelJobs: true,
    data: { action: 'mark-broken' },
  });
}

/** The sealed join token goes once the scale is done (kubeadm lets it expire after 1 h anyway). */
export async function forgetJoinToken(ctx: ClusterStepContext): Promise<void> {
  const row = await ctx.store.findAgentTask(ctx.job.id, AgentTask.JoinToken);
  const id = (row?.result as Record<string, unknown> | null | undefined)?.[JOIN_TOKEN_SECRET];
  if (typeof id === 'string') await ctx.store.deleteSecret(id).catch(() => undefined);
}
