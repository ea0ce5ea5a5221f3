/**
 * The cluster workflows' steps. Like the machine's (../steps.ts), a step returns an outcome —
 * done, wait and ask again, fail — and the runner persists it under the job's lease; each is
 * safe to run again after a crash: it reads where the members are and carries on from there.
 *
 * Members are driven through what already exists: each machine's own deploy and release jobs
 * (requested as actions, so the machine lifecycle table decides), and the agent-tasks port
 * for the `bootstrap` task the node agent runs. A step's notes about a member go on that
 * machine's timeline too (`events` with its machineId).
 */
import type { NodeRender } from '../../cluster/render/index.ts';
import { AgentTask, type BootstrapRole, checkBootstrapResult } from '../../core/agent-protocol.ts';
import { type Cluster, type ClusterMember, clusterOwner } from '../../core/cluster.ts';
import { CLUSTER_STEPS, type ClusterStep } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import type { Machine } from '../../core/machine.ts';
import type { KubePort } from '../../kube/port.ts';
import type { Store } from '../../store/store.ts';
import { requestAction } from '../actions.ts';
import type { AgentPort } from '../agent-port.ts';
import type { StepEvent, StepOutcome } from '../steps.ts';

export interface ClusterStepContext {
  readonly cluster: Cluster;
  readonly job: Job;
  readonly store: Store;
  readonly agent: AgentPort;
  readonly kube: KubePort;
  /** Each node's user-data, network-config and bootstrap script, by hostname. */
  nodes(): Promise<ReadonlyMap<string, NodeRender>>;
  readonly limits: ClusterLimits;
}

export interface ClusterLimits {
  /** Member deploys in flight at once (the per-rack limit of machine jobs still applies). @default 200 */
  deploys: number;
  /** Worker joins at once. @default 50 */
  joins: number;
  /** How often a waiting step asks again. @default 5000 */
  pollMs: number;
}

export const DEFAULT_CLUSTER_LIMITS: ClusterLimits = { deploys: 200, joins: 50, pollMs: 5_000 };

export interface ClusterStepDef {
  /** How long the step may wait before it fails. */
  readonly timeoutMs: number;
  run(ctx: ClusterStepContext): Promise<StepOutcome>;
}

const min = 60_000;

/** The actor of the member actions a cluster job requests: how a step knows its own. */
export const memberActor = (ctx: Pick<ClusterStepContext, 'cluster' | 'job'>): string =>
  `cluster:${ctx.cluster.name}:${ctx.job.id}`;

/** The bootstrap role a member's node agent is asked for. */
function bootstrapRole(m: ClusterMember): BootstrapRole {
  return m.role === 'init' ? 'init' : m.role === 'worker' ? 'worker' : 'control-plane';
}

function note(
  m: ClusterMember,
  type: string,
  message: string,
  level: StepEvent['level'] = 'info',
): StepEvent {
  return {
    type,
    level,
    machineId: m.machineId,
    message: `${m.hostname}: ${message}`,
    data: { hostname: m.hostname },
  };
}

/** Whether the machine's newest job was requested by this cluster job (and so its failure is ours). */
async function lastJobIsOurs(ctx: ClusterStepContext, machineId: string): Promise<boolean> {
  const [last] = await ctx.store.listJobs({ machineId }, 1);
  return last?.actor === memberActor(ctx);
}

/**
 * The members' machines, read as pages of the machines the cluster owns (one query per 1,000,
 * not one per member: a waiting step asks often); a member no longer owned (released) is read
 * on its own.
 */
async function machinesOf(ctx: ClusterStepContext, members: readonly ClusterMember[]): Promise<Machine[]> {
  const owned = new Map<string, Machine>();
  let cursor: string | null = null;
  do {
    const page = await ctx.store.listMachines({ owner: clusterOwner(ctx.cluster.name) }, 1000, cursor);
    for (const m of page.items) owned.set(m.id, m);
    cursor = page.next;
  } while (cursor);
  return Promise.all(members.map((m) => owned.get(m.machineId) ?? ctx.store.getMachine(m.machineId)));
}

/**
 * Deploys every member with the node image and its user-data through the machine's deploy
 * job, at most `limits.deploys` at once; done when all are deployed. A deploy this job
 * started that failed fails the step with the machine's reason; one that failed before (a
 * retry) is deployed again.
 */
async function deployNodes(ctx: ClusterStepContext): Promise<StepOutcome> {
  const members = ctx.cluster.members;
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
  for (const m of waiting.slice(0, Math.max(0, ctx.limits.deploys - inflight))) {
    const render = nodes.get(m.hostname);
    if (!render) return { kind: 'fail', reason: `${m.hostname} is not in the cluster's plan` };
    const image = typeof ctx.job.params.image === 'string' ? ctx.job.params.image : undefined;
    await requestAction(ctx.store, {
      machineId: m.machineId,
      action: 'deploy',
      actor: memberActor(ctx),
      params: image ? { image } : {},
      sealedUserData: render.userData,
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

function byRole(ctx: ClusterStepContext, roles: readonly ClusterMember['role'][]): ClusterMember[] {
  return ctx.cluster.members.filter((m) => roles.includes(m.role)).sort((a, b) => a.order - b.order);
}

/**
 * `kubeadm init` on the first control plane; its admin kubeconfig is sealed in the store.
 * External etcd members come first: the init control plane needs their etcd.
 */
async function bootstrapInit(ctx: ClusterStepContext): Promise<StepOutcome> {
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

/** Joins members one after another (control planes: etcd membership changes one at a time). */
async function joinInOrder(ctx: ClusterStepContext, members: readonly ClusterMember[]): Promise<StepOutcome> {
  const events: StepEvent[] = [];
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

/** Joins the workers, at most `limits.joins` bootstrapping at once. */
async function joinBounded(ctx: ClusterStepContext, members: readonly ClusterMember[]): Promise<StepOutcome> {
  const events: StepEvent[] = [];
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

async function kubeconfig(ctx: ClusterStepContext): Promise<string | null> {
  return ctx.store.clusterKubeconfig(ctx.cluster.id);
}

/** Running when the API answers and every Kubernetes node of the cluster is Ready. */
async function waitReady(ctx: ClusterStepContext): Promise<StepOutcome> {
  const k = await kubeconfig(ctx);
  if (!k) return { kind: 'fail', reason: 'no admin kubeconfig: the init node never returned one' };
  const c = await ctx.kube.conditions(k);
  await ctx.store.setClusterConditions(ctx.cluster.id, c);
  // External etcd members run etcd only: they never register as Kubernetes nodes.
  const want = ctx.cluster.members.filter((m) => m.role !== 'etcd').length;
  if (!c.apiReachable)
    return { kind: 'wait', ms: ctx.limits.pollMs, message: `API not answering: ${c.apiError}` };
  const ready = c.nodes?.ready ?? 0;
  if (ready >= want) return { kind: 'done', message: `nodes Ready ${ready}/${want}` };
  return { kind: 'wait', ms: ctx.limits.pollMs, message: `nodes Ready ${ready}/${want}` };
}

/** Cordon and evict before the machines go; skipped (with a note) when the API is down. */
async function drain(ctx: ClusterStepContext): Promise<StepOutcome> {
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
async function releaseNodes(ctx: ClusterStepContext): Promise<StepOutcome> {
  const members = ctx.cluster.members;
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
        comment: `cluster ${ctx.cluster.name} is being deleted`,
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
async function forgetUserData(ctx: ClusterStepContext, machineId: string): Promise<void> {
  for (const j of await ctx.store.listJobs({ machineId }, 50))
    if (j.kind === 'deploy' && typeof j.params.userDataSecret === 'string')
      await ctx.store.deleteSecret(j.params.userDataSecret);
}

export const CLUSTER_STEP_DEFS: Readonly<Record<ClusterStep, ClusterStepDef>> = {
  'deploy-nodes': { timeoutMs: 90 * min, run: deployNodes },
  'bootstrap-init': { timeoutMs: 30 * min, run: bootstrapInit },
  'bootstrap-control-planes': {
    timeoutMs: 60 * min,
    run: (ctx) => joinInOrder(ctx, byRole(ctx, ['control-plane'])),
  },
  'bootstrap-workers': { timeoutMs: 60 * min, run: (ctx) => joinBounded(ctx, byRole(ctx, ['worker'])) },
  'wait-ready': { timeoutMs: 30 * min, run: waitReady },
  drain: { timeoutMs: 15 * min, run: drain },
  'release-nodes': { timeoutMs: 90 * min, run: releaseNodes },
};

/** The step of a stored cluster job (its names are checked: a job row is data from the store). */
export function clusterStepDef(name: string): ClusterStepDef {
  if (!(CLUSTER_STEPS as readonly string[]).includes(name))
    throw new IngotError(ErrorCode.Internal, `unknown cluster workflow step "${name}"`);
  return CLUSTER_STEP_DEFS[name as ClusterStep];
}
