/**
 * The create steps: deploy every member through its own deploy job, bootstrap the init control
 * plane, the other control planes one at a time and the workers a bounded number at once
 * through the node agent's `bootstrap` task, then wait until every node is Ready.
 */
import type { NodeRender } from '../../cluster/render/index.ts';
import { controlPlaneScaleOf } from './scale-control-planes.ts';
import { AgentTask } from '../../core/agent-protocol.ts';
import { type BootstrapRole, checkBootstrapResult } from '../../core/node-agent-protocol.ts';
import { type ClusterMember, clusterOwner } from '../../core/cluster.ts';
import type { Machine } from '../../core/machine.ts';
import { requestAction } from '../actions.ts';
import { checkNetworkConfigs } from '../network-config.ts';
import type { StepEvent, StepOutcome } from '../steps.ts';
import {
  type ClusterStepContext,
  controlPlaneSpareOf,
  deadMembersOf,
  kubeconfig,
  lastJobIsOurs,
  machinesOf,
  memberActor,
  note,
} from './context.ts';

/** The bootstrap role a member's node agent is asked for. */
function bootstrapRole(m: ClusterMember): BootstrapRole {
  return m.role === 'init' ? 'init' : m.role === 'worker' ? 'worker' : 'control-plane';
}

/**
 * Deploys every member with the node image and its user-data through the machine's deploy
 * job, at most `limits.deploys` at once; done when all are deployed. A deploy this job
 * started that failed fails the step with the machine's reason; one that failed before (a
 * retry) is deployed again.
 */
export async function deployNodes(ctx: ClusterStepContext): Promise<StepOutcome> {
  // A replace's dead member is not deployed again (its machine may be powered off, or broken).
  const dead = deadMembersOf(ctx.job);
  const members = ctx.cluster.members.filter((m) => !dead.has(m.hostname));
  // A poll while every member is deploying or deployed (the usual case once all were started):
  // counts of the cluster's machines, not every machine read (not with a dead member: its
  // machine is still the cluster's, deployed, and counted).
  const counts = await ctx.store.countMachinesByState({ owner: clusterOwner(ctx.cluster.name) });
  const deploying = counts.deploying ?? 0;
  const done = counts.deployed ?? 0;
  if (dead.size === 0 && deploying + done === members.length && (deploying > 0 || done === members.length)) {
    if (done === members.length) return { kind: 'done', message: `${done} nodes deployed` };
    return {
      kind: 'wait',
      ms: ctx.limits.pollMs,
      message: `${done}/${members.length} nodes deployed, ${deploying} deploying`,
      // Looked at again as soon as the last of them ends in this region, not at the next poll.
      wakeOn: { machines: members.map((m) => m.machineId), count: deploying },
    };
  }
  const machines = await machinesOf(ctx, members);
  const events: StepEvent[] = [];
  let deployed = 0;
  let inflight = 0;
  const waiting: ClusterMember[] = [];
  for (const [i, m] of members.entries()) {
    const machine = machines[i];
    if (machine.state === 'deployed') deployed++;
    else if (machine.state === 'deploying') inflight++;
    else if (machine.state === 'failed_deploying' && (await lastJobIsOurs(ctx, m.machineId)))
      return { kind: 'fail', reason: `${m.hostname} failed to deploy: ${machine.stateReason}`, events };
    else if (machine.state === 'allocated' || machine.state === 'failed_deploying') waiting.push(m);
    else
      return {
        kind: 'fail',
        reason: `${m.hostname} is ${machine.state}, so it cannot be deployed for the cluster: ${machine.stateReason}`,
      };
  }
  if (deployed === members.length) return { kind: 'done', message: `${deployed} nodes deployed`, events };
  const nodes = waiting.length ? await ctx.nodes() : new Map<string, NodeRender>();
  // The waiting nodes' network-configs checked in one batch (one cloud-init process for all);
  // each deploy below then finds its own checked already.
  await checkNetworkConfigs(
    waiting.flatMap((m) => {
      const r = nodes.get(m.hostname);
      return r ? [{ text: r.networkConfig, who: `machine ${m.hostname}` }] : [];
    }),
  );
  for (const m of waiting.slice(0, Math.max(0, ctx.limits.deploys - inflight))) {
    const render = nodes.get(m.hostname);
    if (!render) return { kind: 'fail', reason: `${m.hostname} is not in the cluster's plan` };
    const image = typeof ctx.job.params.image === 'string' ? ctx.job.params.image : undefined;
    await requestAction(ctx.store, {
      machineId: m.machineId,
      action: 'deploy',
      actor: memberActor(ctx),
      // The node's planned address, bond and VLANs: checked by netplan and cloud-init here.
      params: { ...(image ? { image } : {}), networkConfig: render.networkConfig },
      sealedUserData: render.userData,
      // Recorded with the member allocation: the deploy only checks it is this machine's.
      staticAddresses: [m.address.split('/')[0]],
      comment: `node of cluster ${ctx.cluster.name}`,
    });
    inflight++;
    events.push(note(m, 'cluster.node.deploy', `deploy started (${m.role})`));
  }
  return {
    kind: 'wait',
    ms: ctx.limits.pollMs,
    message: `${deployed}/${members.length} nodes deployed, ${inflight} deploying`,
    events,
    wakeOn: { machines: members.map((m) => m.machineId), count: inflight },
  };
}

/** Asks one member's node agent for its bootstrap; `done` carries the checked result. */
async function bootstrap(
  ctx: ClusterStepContext,
  m: ClusterMember,
  machine: Machine,
): Promise<
  | { status: 'pending'; message: string }
  | { status: 'failed'; reason: string }
  | { status: 'done'; kubeconfig?: string; phases: string[] }
> {
  const render = (await ctx.nodes()).get(m.hostname);
  if (!render) return { status: 'failed', reason: `${m.hostname} is not in the cluster's plan` };
  const role = bootstrapRole(m);
  const r = await ctx.agent.task(machine, ctx.job.id, AgentTask.Bootstrap, {
    role,
    script: render.bootstrap,
  });
  if (r.status === 'pending')
    return { status: 'pending', message: `${m.hostname}: ${r.lastMessage ?? 'bootstrapping'}` };
  if (r.status === 'failed')
    return { status: 'failed', reason: `${m.hostname} failed to bootstrap: ${r.reason}` };
  try {
    const result = checkBootstrapResult(r.result, role);
    return { status: 'done', kubeconfig: result.adminKubeconfig, phases: result.phases };
  } catch (e) {
    return { status: 'failed', reason: `${m.hostname}: ${(e as Error).message}` };
  }
}

export function byRole(ctx: ClusterStepContext, roles: readonly ClusterMember['role'][]): ClusterMember[] {
  return ctx.cluster.members.filter((m) => roles.includes(m.role)).sort((a, b) => a.order - b.order);
}

/**
 * `kubeadm init` on the first control plane; its admin kubeconfig is sealed in the store.
 * External etcd members come first: the init control plane needs their etcd.
 */
export async function bootstrapInit(ctx: ClusterStepContext): Promise<StepOutcome> {
  const [init] = byRole(ctx, ['init']);
  if (!init) return { kind: 'fail', reason: 'the cluster has no init control plane' };
  const etcd = byRole(ctx, ['etcd']);
  if (etcd.length > 0) {
    const first = await joinInOrder(ctx, etcd);
    if (first.kind !== 'done') return first;
  }
  const r = await bootstrap(ctx, init, await ctx.store.getMachine(init.machineId));
  if (r.status === 'pending') return { kind: 'wait', ms: ctx.limits.pollMs, message: r.message };
  if (r.status === 'failed') return { kind: 'fail', reason: r.reason };
  // The one write a step makes itself: the kubeconfig is sealed, and writing the same one twice
  // (a step repeated after a crash reads the same task result) changes nothing.
  await ctx.store.setClusterKubeconfig(ctx.cluster.id, r.kubeconfig!);
  return {
    kind: 'done',
    message: `${init.hostname} initialised the cluster (${r.phases.join(' → ')}); admin kubeconfig stored`,
    events: [
      note(
        init,
        'cluster.node.bootstrapped',
        `bootstrapped as the init control plane: ${r.phases.join(' → ')}`,
      ),
    ],
  };
}

/**
 * When this region last found a job's join token valid on its cluster (`cluster/job`): asked
 * again on every poll, the check hit the API while a control plane's etcd member joined, and
 * its blips used up the step's retries (a 3-control-plane create failed so on the bed,
 * 2026-12-04: `join token on the control plane: fetch failed (ECONNRESET)`). A token lives
 * hours; it is checked again after 10 min, and after a restart of the region.
 */
const tokenConfirmed = new Map<string, number>();
const TOKEN_RECHECK_MS = 10 * 60_000;

/**
 * Before joiners are asked: the create's join token is valid on the control plane. kubeadm
 * init wrote it with its short lifetime; when a join starts after that (a retry hours later)
 * it is re-created there with a fresh expiry, so the joiners' configs (deployed with it) work.
 * Nothing before the init node returned its kubeconfig (external etcd members need no token).
 */
async function joinTokenReady(ctx: ClusterStepContext): Promise<StepEvent[]> {
  const key = `${ctx.cluster.id}/${ctx.job.id}`;
  const at = tokenConfirmed.get(key);
  if (at !== undefined && Date.now() - at < TOKEN_RECHECK_MS) return [];
  const k = await kubeconfig(ctx);
  if (!k) return [];
  const r = await ctx.kube.ensureBootstrapToken(k, await ctx.joinToken());
  tokenConfirmed.set(key, Date.now());
  for (const [x, t] of tokenConfirmed) if (Date.now() - t >= TOKEN_RECHECK_MS) tokenConfirmed.delete(x);
  if (r === 'valid') return [];
  return [
    {
      type: 'cluster.join-token.created',
      level: 'warning',
      message: `the join token had expired on the control plane: re-created for ${Math.round((await ctx.joinToken()).ttlSeconds / 60)} min`,
    },
  ];
}

/** Joins members one after another (control planes: etcd membership changes one at a time). */
export async function joinInOrder(
  ctx: ClusterStepContext,
  members: readonly ClusterMember[],
): Promise<StepOutcome> {
  const events: StepEvent[] = members.length ? await joinTokenReady(ctx) : [];
  const [machines, noted] = await Promise.all([machinesOf(ctx, members), alreadyNoted(ctx)]);
  for (const [i, m] of members.entries()) {
    const r = await bootstrap(ctx, m, machines[i]);
    if (r.status === 'pending') return { kind: 'wait', ms: ctx.limits.pollMs, message: r.message, events };
    if (r.status === 'failed') return { kind: 'fail', reason: r.reason, events };
    if (!noted.has(m.machineId))
      events.push(note(m, 'cluster.node.bootstrapped', `joined as ${m.role}: ${r.phases.join(' → ')}`));
  }
  return { kind: 'done', message: `${members.length} joined`, events };
}

/**
 * Kubernetes 1.20's first API server goes stale once the other control planes' etcd members
 * joined (kubernetes/kubernetes#97294: watches stop delivering, so kube-proxy never learns a
 * new Service). A kubeadm 1.20 cluster with more than one control plane needs it restarted
 * after the last join; later releases have the fix.
 */
export function needsApiServerRestart(
  c: { distribution: string; version: string },
  controlPlanes: number,
): boolean {
  return c.distribution === 'kubeadm' && /^v?1\.20\./.test(c.version) && controlPlanes > 1;
}

/**
 * The other control planes, one at a time; then, where needsApiServerRestart says so, the init
 * node's kube-apiserver restarted by its node agent (`restart-apiserver`) before any worker joins.
 */
export async function bootstrapControlPlanes(ctx: ClusterStepContext): Promise<StepOutcome> {
  const cps = byRole(ctx, ['control-plane']);
  const joined = await joinInOrder(ctx, cps);
  if (joined.kind !== 'done' || !needsApiServerRestart(ctx.cluster, cps.length + 1)) return joined;
  const [init] = byRole(ctx, ['init']);
  if (!init) return { kind: 'fail', reason: 'the cluster has no init control plane' };
  const r = await ctx.agent.task(
    await ctx.store.getMachine(init.machineId),
    ctx.job.id,
    AgentTask.RestartApiServer,
    {},
  );
  const why = 'Kubernetes 1.20’s stale first API server, kubernetes#97294';
  if (r.status === 'pending')
    return {
      kind: 'wait',
      ms: ctx.limits.pollMs,
      message: `${init.hostname}: ${r.lastMessage ?? 'restarting its kube-apiserver'} (${why})`,
      events: joined.events,
    };
  if (r.status === 'failed')
    return {
      kind: 'fail',
      reason: `${init.hostname} failed to restart its kube-apiserver after the control-plane joins (${why}): ${r.reason}`,
      events: joined.events,
    };
  return {
    kind: 'done',
    message: `${joined.message}; ${init.hostname}'s kube-apiserver restarted (${why})`,
    events: [
      ...(joined.events ?? []),
      note(
        init,
        'cluster.node.apiserver-restarted',
        `kube-apiserver restarted after the last control-plane join (${why})`,
      ),
    ],
  };
}

/** Joins the workers, at most `limits.joins` bootstrapping at once. */
export async function joinBounded(
  ctx: ClusterStepContext,
  members: readonly ClusterMember[],
): Promise<StepOutcome> {
  const events: StepEvent[] = members.length ? await joinTokenReady(ctx) : [];
  let pending = 0;
  let done = 0;
  let last = '';
  const [machines, noted] = await Promise.all([machinesOf(ctx, members), alreadyNoted(ctx)]);
  for (const [i, m] of members.entries()) {
    if (pending >= ctx.limits.joins) break;
    const r = await bootstrap(ctx, m, machines[i]);
    if (r.status === 'failed') return { kind: 'fail', reason: r.reason, events };
    if (r.status === 'pending') {
      pending++;
      last = r.message;
    } else {
      done++;
      if (!noted.has(m.machineId))
        events.push(note(m, 'cluster.node.bootstrapped', `joined as worker: ${r.phases.join(' → ')}`));
    }
  }
  if (done === members.length) return { kind: 'done', message: `${done} workers joined`, events };
  return {
    kind: 'wait',
    ms: ctx.limits.pollMs,
    message: `${done}/${members.length} workers joined; ${last}`,
    events,
  };
}

/** Members whose bootstrap is already on the timeline for this job (a step asked again), in one read. */
async function alreadyNoted(ctx: ClusterStepContext): Promise<Set<string>> {
  const ev = await ctx.store.listEvents({ clusterId: ctx.cluster.id, jobId: ctx.job.id, limit: 1_000_000 });
  return new Set(
    ev.filter((e) => e.type === 'cluster.node.bootstrapped' && e.machineId).map((e) => e.machineId!),
  );
}

/** Running when the API answers and every Kubernetes node of the cluster is Ready. */
export async function waitReady(ctx: ClusterStepContext): Promise<StepOutcome> {
  const k = await kubeconfig(ctx);
  if (!k) return { kind: 'fail', reason: 'no admin kubeconfig: the init node never returned one' };
  const c = await ctx.kube.conditions(k);
  await ctx.store.setClusterConditions(ctx.cluster.id, c);
  // External etcd members run etcd only: they never register as Kubernetes nodes; a dead
  // node a replace drops (the job's `broken`, a spare's `replaces`) never comes back; a
  // control-plane spare joins after the job (controlPlaneSpareOf).
  // A control-plane scale's leaving ones had their Node deleted before (scale-control-planes).
  const dead = deadMembersOf(ctx.job);
  const spare = controlPlaneSpareOf(ctx.job)?.hostname;
  const leaving = new Set(controlPlaneScaleOf(ctx.job.params)?.remove ?? []);
  const want = ctx.cluster.members.filter(
    (m) => m.role !== 'etcd' && !dead.has(m.hostname) && m.hostname !== spare && !leaving.has(m.hostname),
  ).length;
  if (!c.apiReachable)
    return { kind: 'wait', ms: ctx.limits.pollMs, message: `API not answering: ${c.apiError}` };
  const ready = c.nodes?.ready ?? 0;
  if (ready >= want) return { kind: 'done', message: `nodes Ready ${ready}/${want}` };
  return { kind: 'wait', ms: ctx.limits.pollMs, message: `nodes Ready ${ready}/${want}` };
}
