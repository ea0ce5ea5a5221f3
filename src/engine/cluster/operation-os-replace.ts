/**
 * The OS rolling replacement (immutable upgrade, docs/day2.md "OS replacement"): an
 * `os-replace` operation walks the control planes named one at a time (operation-os-replace-cp.ts),
 * then the workers in batches like an upgrade, and each drained
 * worker is redeployed and rejoined here, one sub-step per call (operation-run.ts records each):
 *
 *   drained → its Node deleted, its machine's `redeploy` (deployed → deploying: the deploy
 *   workflow writes the image again from the ephemeral OS and boots it) with the node's files
 *   rendered with the operation's fresh join token (1 h, made by a control plane's node agent,
 *   as a scale's) → `redeployed` once the machine is deployed again → its node agent's
 *   `bootstrap` (kubeadm join) → `joined` → (operation-run.ts) uncordoned → Ready.
 *
 * Control planes go first, one at a time, each with an etcd member swap
 * (operation-os-replace-cp.ts: quorum checked, drained, its member removed, then the same
 * redeploy, then `kubeadm join --control-plane` with fresh credentials).
 * The remediation's reprovision rung is the same operation over one dead node (`dead`: fenced,
 * its Node deleted already, so it is not drained; remediation-loop.ts starts it and awaits it).
 * Durable like every operation: which sub-step a node is at is the operation's
 * progress, and whether its redeploy was started is the machine's newest job (this job's).
 */
import type { Plan } from '../../cluster/plan/types.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { AgentTask } from '../../core/agent-protocol.ts';
import { checkBootstrapResult } from '../../core/node-agent-protocol.ts';
import { CLUSTER_WORKFLOW_RULES, ClusterWorkflow } from '../../core/cluster-lifecycle.ts';
import { invalid } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import {
  type ClusterOperation,
  newProgress,
  type OperationNode,
  OperationKind,
} from '../../core/operation.ts';
import { controlPlaneRollGap } from '../../core/control-plane-replace.ts';
import { batchSize } from '../../core/rolling-plan.ts';
import type { Store } from '../../store/store.ts';
import { deployImage, requestAction } from '../actions.ts';
import type { StepOutcome } from '../steps.ts';
import { type ClusterStepContext, kubeconfig, memberActor } from './context.ts';
import { checkCanStart, kubeadmOnly, rollNodes } from './operation-actions.ts';
import { lastPlan } from './scale.ts';
import { scaleJoinToken } from './scale-steps.ts';
import type { drainWaits } from './operation-record.ts';

export interface OsReplaceRequest {
  /** A ready OS image of the region. */
  image: string;
  /** Workers at once: a count or a percentage. @default 1 */
  maxUnavailable?: number | string;
  /**
   * The nodes to replace (hostnames): control planes (a kubeadm cluster with stacked etcd and 3
   * or more of them) go one at a time before the workers. @default every worker
   */
  nodes?: readonly string[];
  /** Of those, the ones dead already (a reprovision): not drained. */
  dead?: readonly string[];
  /** A halt ends it aborted, the cluster running (a remediation's reprovision). */
  abortOnHalt?: boolean;
  actor: string;
}

/**
 * Starts an OS replacement: refuses (changing nothing) an image that is not a ready OS image,
 * a node that is not the cluster's, a control plane of a cluster with external etcd or fewer
 * than 3 control planes (core's controlPlaneRollGap), and a cluster that runs another
 * operation or is not running.
 */
export async function startOsReplace(
  store: Store,
  ref: string,
  req: OsReplaceRequest,
): Promise<{ operation: ClusterOperation; job: Job }> {
  const cluster = await store.getCluster(ref);
  const spec = parseClusterFile(cluster.clusterFile, 'Cluster file');
  kubeadmOnly(spec, 'an OS replacement rejoins');
  let image: string;
  try {
    image = (await deployImage(store, req.image)) as string;
  } catch (e) {
    throw invalid('image', (e as Error).message.replace(/^params\.image: /, ''));
  }
  const last = await lastPlan(store, cluster);
  const plan = last.plan as Plan;
  const all = rollNodes(cluster, plan);
  const names = req.nodes ?? all.filter((n) => n.role === 'worker').map((n) => n.hostname);
  const controlPlanes = all.filter((n) => n.role !== 'worker').length;
  const gap = controlPlaneRollGap({ controlPlanes, externalEtcd: spec.spec.etcd.topology === 'external' });
  for (const [i, h] of names.entries()) {
    const n = all.find((x) => x.hostname === h);
    if (!n)
      throw invalid(
        `nodes[${i}]`,
        `${h} is not a node of cluster ${cluster.name}; its nodes: ${all.map((x) => x.hostname).join(', ')}`,
      );
    if (names.indexOf(h) !== i) throw invalid(`nodes[${i}]`, `${h} is named twice`);
    if (n.role !== 'worker' && gap)
      throw invalid(
        `nodes[${i}]`,
        `${h} is a control plane and cannot be replaced: ${gap}; name workers only`,
      );
  }
  if (names.length === 0) throw invalid('nodes', `cluster ${cluster.name} has no workers to replace`);
  await checkCanStart(store, cluster, 'replace the OS of');
  const maxUnavailable = req.maxUnavailable ?? 1;
  batchSize(maxUnavailable, names.length);
  const progress = newProgress(all.filter((n) => names.includes(n.hostname)));
  // Control planes leave etcd and rejoin it: the operation's snapshot first (as an upgrade's).
  if (!progress.nodes.some((n) => n.role !== 'worker'))
    progress.snapshot = { state: 'skipped', note: 'workers only: etcd is not touched' };
  const dead = (req.dead ?? []).filter((h) => names.includes(h));
  const workflow = ClusterWorkflow.Operation;
  return store.startOperation({
    clusterId: cluster.id,
    from: cluster.state,
    to: CLUSTER_WORKFLOW_RULES[workflow].running,
    kind: OperationKind.OsReplace,
    params: {
      apiServerArgs: {},
      changes: [],
      clusterFile: cluster.clusterFile,
      maxUnavailable,
      image,
      ...(dead.length ? { dead } : {}),
      ...(req.abortOnHalt ? { abortOnHalt: true } : {}),
    },
    progress,
    job: {
      kind: workflow,
      steps: [...CLUSTER_WORKFLOW_RULES[workflow].steps],
      // The newest plan (a scale's workers are in it); the image is the one later scales deploy.
      // `dead` here too: no node command (the join token, the snapshot) goes to a dead node.
      params: {
        plan,
        pkiSecret: last.pkiSecret,
        image,
        freshJoinToken: true,
        ...(dead.length ? { dead } : {}),
      },
    },
    actor: req.actor,
    message: `${dead.length ? 'reprovision' : 'OS replacement'} with image ${image} requested by ${req.actor}: ${names.join(', ')}`,
  });
}

/** What operation-run.ts lends a sub-step: the recording of progress and the halt. */
export interface OperationRecorder {
  record(events: { node: OperationNode; message: string; level?: 'info' | 'warning' }[]): Promise<boolean>;
  halt(node: OperationNode, why: string): Promise<StepOutcome>;
  /** A drain of `node` told as it waits (operation-record.ts drainWaits). */
  drainWaits(node: OperationNode): ReturnType<typeof drainWaits>;
}

/**
 * The batch's drained and redeployed nodes moved on by one sub-step each where they can (a
 * redeploy started, a redeploy found done, a join found done); null when every node of the
 * batch has joined (the batch goes on to uncordon and Ready).
 */
export async function osReplaceStep(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  batch: readonly OperationNode[],
  say: OperationRecorder,
): Promise<StepOutcome | null> {
  const poll = ctx.limits.pollMs;
  // The batch's nodes go side by side: one node's redeploy or join never holds another's.
  const waits: string[] = [];
  for (const n of batch.filter((x) => x.step === 'drained')) {
    const r = await redeployNode(ctx, op, n, say);
    if (typeof r !== 'string') return r;
    waits.push(r);
  }
  for (const n of batch.filter((x) => x.step === 'redeployed')) {
    // The node files are rendered with the token: asked again after a restart, it may be pending.
    const waiting = await tokenPending(ctx);
    if (waiting) return waiting;
    const render = (await ctx.nodes()).get(n.hostname);
    if (!render) return say.halt(n, `${n.hostname} is not in the cluster's plan`);
    // The token lives 1 h from the job's start: a roll that outlasts it gets it re-made on the
    // control plane (same token, fresh expiry) before a join starts with it.
    const renewed = await renewJoinToken(ctx);
    if (renewed)
      await say.record([
        { node: n, message: `the operation's join token had less than 15 min left: ${renewed}` },
      ]);
    const machine = await ctx.store.getMachine(n.machineId);
    const r = await ctx.agent.task(machine, ctx.job.id, AgentTask.Bootstrap, {
      role: 'worker',
      script: render.bootstrap,
    });
    if (r.status === 'pending') {
      waits.push(`${n.hostname}: ${r.lastMessage ?? 'joining'}`);
      continue;
    }
    if (r.status === 'failed') return say.halt(n, `join failed: ${r.reason}`);
    let phases: string[];
    try {
      phases = checkBootstrapResult(r.result, 'worker').phases;
    } catch (e) {
      return say.halt(n, `join: ${(e as Error).message}`);
    }
    n.step = 'joined';
    await say.record([{ node: n, message: `joined again: ${phases.join(' → ')}` }]);
    return { kind: 'wait', ms: 0 };
  }
  return waits.length ? { kind: 'wait', ms: poll, message: waits.join('; ') } : null;
}

/**
 * One node's redeploy moved on by one sub-step (a worker once drained, a control plane once its
 * etcd member is removed): its Node deleted and its machine's redeploy requested with the node's
 * files rendered with the operation's fresh token, or that redeploy found done (step
 * `redeployed`, recorded: a wait of 0 ms), failed (the halt), or still running (what it waits
 * for, a string). Whether the redeploy was started is the machine's newest job (this job's).
 */
export async function redeployNode(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  n: OperationNode,
  say: OperationRecorder,
): Promise<StepOutcome | string> {
  const machine = await ctx.store.getMachine(n.machineId);
  const [last] = await ctx.store.listJobs({ machineId: n.machineId }, 1);
  const ours = last?.kind === 'deploy' && last.actor === memberActor(ctx);
  if (ours) {
    if (machine.state === 'deployed' && last.status === 'done') {
      // A Node the old OS registered again before its disk was written (it booted once more
      // on the deploy's first power cycle) would make kubeadm join refuse: gone before the join.
      const k = await kubeconfig(ctx);
      if (k) await ctx.kube.deleteNode(k, n.hostname);
      n.step = 'redeployed';
      await say.record([{ node: n, message: `redeployed with image ${op.params.image} and booted` }]);
      return { kind: 'wait', ms: 0 };
    }
    if (machine.state === 'failed_deploying' || last.status === 'failed' || last.status === 'cancelled')
      return say.halt(n, `redeploy failed: ${machine.stateReason || last.error || last.status}`);
    return `${n.hostname}: redeploying (${machine.state})`;
  }
  // A failed deploy (a retried halt) is deployed again; a deployed machine is redeployed.
  const action =
    machine.state === 'deployed' ? 'redeploy' : machine.state === 'failed_deploying' ? 'deploy' : null;
  if (!action) return say.halt(n, `its machine is ${machine.state}, not deployed: ${machine.stateReason}`);
  const waiting = await tokenPending(ctx);
  if (waiting) return waiting;
  const render = (await ctx.nodes()).get(n.hostname);
  const member = ctx.cluster.members.find((m) => m.hostname === n.hostname);
  if (!render || !member) return say.halt(n, `${n.hostname} is not in the cluster's plan`);
  const k = await kubeconfig(ctx);
  const was = k ? await ctx.kube.deleteNode(k, n.hostname) : false;
  await requestAction(ctx.store, {
    machineId: n.machineId,
    action,
    actor: memberActor(ctx),
    params: { image: op.params.image, networkConfig: render.networkConfig },
    sealedUserData: render.userData,
    staticAddresses: [member.address.split('/')[0]],
    comment: `OS replacement of cluster ${ctx.cluster.name}'s node`,
  });
  await say.record([
    {
      node: n,
      message: `${was ? 'Node deleted; ' : ''}redeploy with image ${op.params.image} started (a fresh join token, 1 h)`,
    },
  ]);
  return `${n.hostname}: redeploying`;
}

/**
 * Re-creates the operation's join token (ctx.joinToken: the job's fresh one) on the control
 * plane when it is gone or about to be, as a create's joins do; what was done, or null.
 */
async function renewJoinToken(ctx: ClusterStepContext): Promise<string | null> {
  const k = await kubeconfig(ctx);
  if (!k) return null;
  const t = await ctx.joinToken();
  const r = await ctx.kube.ensureBootstrapToken(k, t);
  return r === 'created' ? `re-created for ${Math.round(t.ttlSeconds / 60)} min` : null;
}

/**
 * A wait while the operation's fresh join token is not made yet (the first control plane's
 * node agent makes it once per job, `kubeadm token create --ttl 1h`); null once it is.
 */
export async function tokenPending(ctx: ClusterStepContext): Promise<StepOutcome | null> {
  const token = await scaleJoinToken(ctx.store, ctx.agent, ctx.cluster, ctx.job);
  return 'pending' in token ? { kind: 'wait', ms: ctx.limits.pollMs, message: token.pending } : null;
}
