/**
 * The delete steps: drain the nodes (skipped when the API does not answer), then release and
 * wipe every member through its own release job until all are back in the ready pool.
 */
import type { ClusterMember } from '../../core/cluster.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { requestAction } from '../actions.ts';
import type { StepEvent, StepOutcome } from '../steps.ts';
import {
  type ClusterStepContext,
  kubeconfig,
  lastJobIsOurs,
  machinesOf,
  memberActor,
  note,
} from './context.ts';

/** Cordon and evict before the machines go; skipped (with a note) when the API is down. */
export async function drain(ctx: ClusterStepContext): Promise<StepOutcome> {
  const k = await kubeconfig(ctx);
  if (!k) return { kind: 'done', message: 'skipped: the cluster has no admin kubeconfig' };
  const nodes = ctx.cluster.members.filter((m) => m.role !== 'etcd').map((m) => m.hostname);
  try {
    const r = await ctx.kube.drain(k, nodes);
    return { kind: 'done', message: `${r.cordoned} nodes cordoned, ${r.evicted} pods evicted` };
  } catch (e) {
    if (e instanceof IngotError && (e.retryable || e.code === ErrorCode.Unreachable))
      return { kind: 'done', message: `skipped: the API does not answer (${e.message})` };
    throw e;
  }
}

/**
 * Releases (and wipes) every member through its release job; done when all are back in the
 * pool. A member still deploying (a failed create's) is aborted first.
 */
export async function releaseNodes(
  ctx: ClusterStepContext,
  members: readonly ClusterMember[] = ctx.cluster.members,
  why = `cluster ${ctx.cluster.name} is being deleted`,
): Promise<StepOutcome> {
  const machines = await machinesOf(ctx, members);
  const events: StepEvent[] = [];
  let free = 0;
  let releasing = 0;
  const wipe = ctx.job.params.wipe === 'secure' ? 'secure' : undefined;
  for (const [i, m] of members.entries()) {
    const machine = machines[i];
    const act = (action: 'release' | 'abort') =>
      requestAction(ctx.store, {
        machineId: m.machineId,
        action,
        actor: memberActor(ctx),
        params: action === 'release' && wipe ? { wipe } : undefined,
        comment: why,
      });
    switch (machine.state) {
      case 'ready':
      case 'new':
      case 'broken':
      case 'retired':
        await forgetUserData(ctx, m.machineId);
        free++;
        break;
      case 'releasing':
        releasing++;
        break;
      case 'failed_releasing':
        if (await lastJobIsOurs(ctx, m.machineId))
          return { kind: 'fail', reason: `${m.hostname} failed to release: ${machine.stateReason}`, events };
        await act('release');
        releasing++;
        events.push(note(m, 'cluster.node.release', 'release started'));
        break;
      case 'deploying':
      case 'commissioning':
        await act('abort');
        releasing++;
        events.push(note(m, 'cluster.node.release', `${machine.state} aborted to release it`, 'warning'));
        break;
      case 'allocated':
      case 'deployed':
      case 'failed_deploying':
        await act('release');
        releasing++;
        events.push(note(m, 'cluster.node.release', `release started${wipe ? ' (secure wipe)' : ''}`));
        break;
      default:
        return {
          kind: 'fail',
          reason: `${m.hostname} is ${machine.state}; it cannot be released: ${machine.stateReason}`,
        };
    }
  }
  if (free === members.length) return { kind: 'done', message: `${free} machines released`, events };
  return {
    kind: 'wait',
    ms: ctx.limits.pollMs,
    message: `${free}/${members.length} machines released, ${releasing} releasing`,
    events,
  };
}

/** The sealed user-data of a released member's cluster deploys goes with the machine's release. */
export async function forgetUserData(ctx: ClusterStepContext, machineId: string): Promise<void> {
  for (const j of await ctx.store.listJobs({ machineId }, 50))
    if (j.kind === 'deploy' && typeof j.params.userDataSecret === 'string')
      await ctx.store.deleteSecret(j.params.userDataSecret);
}
