/**
 * What a cluster step gets (the cluster as it is now, its job, the store, the agent and
 * Kubernetes ports, the rendered node files, the limits) and the helpers the create and delete
 * steps share: whose member actions are the job's own, notes on a member's timeline, and the
 * members' machines in one read.
 */
import type { NodeRender } from '../../cluster/render/index.ts';
import { type Cluster, type ClusterMember, clusterOwner, type JoinToken } from '../../core/cluster.ts';
import type { Job } from '../../core/job.ts';
import type { Machine } from '../../core/machine.ts';
import type { NodeShell } from '../../kube/etcd/shell.ts';
import type { KubePort } from '../../kube/port.ts';
import type { Store } from '../../store/store.ts';
import type { AgentPort } from '../agent-port.ts';
import type { StepEvent, StepOutcome } from '../steps.ts';
import type { ClusterRestoreDeps } from './restore-run.ts';

export interface ClusterStepContext {
  readonly cluster: Cluster;
  readonly job: Job;
  readonly store: Store;
  readonly agent: AgentPort;
  readonly kube: KubePort;
  /** Each node's user-data, network-config and bootstrap script, by hostname. */
  nodes(): Promise<ReadonlyMap<string, NodeRender>>;
  /** The create's join token (sealed in the store; never put in an event). */
  joinToken(): Promise<JoinToken>;
  readonly limits: ClusterLimits;
  /** Where an operation takes its etcd snapshot (a shell on the nodes) and keeps it; absent: skipped. */
  readonly snapshots?: ClusterSnapshots;
  /** What a restore operation needs (restore-run.ts); absent: this region runs none. */
  readonly restore?: ClusterRestoreDeps;
}

export interface ClusterSnapshots {
  readonly shell: NodeShell;
  /** The region's artifact store (src/kube/etcd/snapshot.ts keeps them under it). */
  readonly artifacts: string;
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

/** The actor of the member actions a cluster job requests: how a step knows its own. */
export const memberActor = (ctx: Pick<ClusterStepContext, 'cluster' | 'job'>): string =>
  `cluster:${ctx.cluster.name}:${ctx.job.id}`;

export function note(
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
export async function lastJobIsOurs(ctx: ClusterStepContext, machineId: string): Promise<boolean> {
  const [last] = await ctx.store.listJobs({ machineId }, 1);
  return last?.actor === memberActor(ctx);
}

/**
 * The members' machines, read as pages of the machines the cluster owns (one query per 1,000,
 * not one per member: a waiting step, and the console, ask often); a member no longer owned
 * (released) is read on its own.
 */
export async function clusterMachines(
  store: Store,
  cluster: Pick<Cluster, 'name'>,
  members: readonly ClusterMember[],
): Promise<Machine[]> {
  const owned = new Map<string, Machine>();
  let cursor: string | null = null;
  do {
    const page = await store.listMachines({ owner: clusterOwner(cluster.name) }, 1000, cursor);
    for (const m of page.items) owned.set(m.id, m);
    cursor = page.next;
  } while (cursor);
  return Promise.all(members.map((m) => owned.get(m.machineId) ?? store.getMachine(m.machineId)));
}

export const machinesOf = (ctx: ClusterStepContext, members: readonly ClusterMember[]): Promise<Machine[]> =>
  clusterMachines(ctx.store, ctx.cluster, members);

/** The sealed admin kubeconfig, or null before the init node returned it. */
export async function kubeconfig(ctx: ClusterStepContext): Promise<string | null> {
  return ctx.store.clusterKubeconfig(ctx.cluster.id);
}

/**
 * A scale job that deploys a remediation's control-plane spare (control-plane-spare.ts): the
 * spare is deployed, not joined (its `kubeadm join --control-plane` comes with the etcd member
 * swap, remediate-control-plane.ts), and the dead control plane it replaces is neither deployed,
 * asked for a join token, nor waited for.
 */
export function controlPlaneSpareOf(job: Job): { hostname: string; replaces: string } | null {
  const s = job.params.controlPlaneSpare as { hostname?: unknown; replaces?: unknown } | undefined;
  return s && typeof s.hostname === 'string' && typeof s.replaces === 'string'
    ? { hostname: s.hostname, replaces: s.replaces }
    : null;
}

/** The members a job leaves alone: the dead ones a replace names (`broken`, a spare's `replaces`), a reprovision's `dead`. */
export function deadMembersOf(job: Job): Set<string> {
  const out = new Set(Object.keys((job.params.broken as Record<string, unknown> | undefined) ?? {}));
  // A reprovision's dead node (an os-replace operation's `dead`, operation-os-replace.ts).
  for (const h of Array.isArray(job.params.dead) ? job.params.dead : [])
    if (typeof h === 'string') out.add(h);
  const spare = controlPlaneSpareOf(job);
  if (spare) out.add(spare.replaces);
  return out;
}
