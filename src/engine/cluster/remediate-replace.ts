/**
 * The `replace` rung: the spares (the region's ready machines that the failed node's role could
 * have been planned onto — the Cluster file's selectors, through the planner's `mismatch` —
 * each with its failure domain `zone/rack`, the planner's rackKey; core/remediation.ts's
 * pickSpare chooses one of the failed node's rack, else of its zone), and the replacement
 * itself: a scale job (scale-steps.ts) that allocates the spare atomically with the cluster's
 * move, deploys it, joins it with a fresh token, and drops the failed member, its machine
 * marked broken with the reason (never wiped: it is dead) instead of released.
 */
import type { Plan } from '../../cluster/plan/types.ts';
import { mismatch } from '../../cluster/plan/select.ts';
import { rackKey } from '../../cluster/plan/quorum.ts';
import type { ClusterSpec, MachineSelector } from '../../cluster/spec/types.ts';
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import { CLUSTER_WORKFLOW_RULES, ClusterWorkflow, planClusterAction } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { MachineState } from '../../core/lifecycle.ts';
import type { Machine } from '../../core/machine.ts';
import { OperationKind } from '../../core/operation.ts';
import type { Store } from '../../store/store.ts';
import { lastPlan, planWorkers } from './scale.ts';
import { scaleOperation } from './scale-operation.ts';

/**
 * The ready machines that may replace `failed` (a control plane or a worker): those matching a
 * selector of its role that the failed machine itself matches (its worker pool, when the
 * cluster has several), or any selector of the role when it matches none (selectors edited
 * since the plan).
 */
export function sparesFor(
  spec: ClusterSpec,
  failed: Machine,
  role: 'control-plane' | 'worker',
  ready: readonly Machine[],
): { machineId: string; domain: string }[] {
  const selectors: MachineSelector[] =
    role === 'control-plane' ? [spec.spec.controlPlane.machines] : spec.spec.workers.map((w) => w.machines);
  const asReady = { ...failed, state: MachineState.Ready };
  const own = selectors.filter((s) => mismatch(asReady, s) === null);
  const use = own.length > 0 ? own : selectors;
  return ready
    .filter((m) => m.id !== failed.id && use.some((s) => mismatch(m, s) === null))
    .map((m) => ({ machineId: m.id, domain: rackKey(m) }));
}

/** The region's ready machines (all pages). */
export async function readyMachines(store: Store): Promise<Machine[]> {
  const out: Machine[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listMachines({ state: ['ready'] }, 1000, cursor);
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}

export interface ReplaceWorkerInput {
  /** The failed worker's hostname. */
  readonly node: string;
  /** The ready machine that replaces it. */
  readonly spare: string;
  /** Why (the machine is marked broken with it). */
  readonly reason: string;
  readonly actor: string;
}

/**
 * Starts a worker's replacement: the spare planned as a worker of the failed node's pool (the
 * create's placement and IPAM), allocated with the cluster's running → updating move and the
 * scale job in one transaction (store.scaleCluster), the failed node in the job's `remove`
 * and `broken` (scale-steps.ts: Node deleted without a drain, machine marked broken, member
 * dropped). Control planes are refused here: their replacement is remediate-control-plane.ts's
 * etcd member swap.
 */
export async function replaceWorker(
  store: Store,
  ref: string,
  req: ReplaceWorkerInput,
): Promise<{ cluster: Cluster; job: Job; hostname: string }> {
  const cluster = await store.getCluster(ref);
  const failed = cluster.members.find((m) => m.hostname === req.node);
  if (!failed)
    throw new IngotError(ErrorCode.NotFound, `cluster ${cluster.name} has no node ${req.node}`, {
      details: { cluster: cluster.name, node: req.node },
    });
  if (failed.role !== 'worker')
    throw new IngotError(
      ErrorCode.Conflict,
      `${req.node} is a ${failed.role} node: a control plane is replaced by the etcd member swap (remediate-control-plane.ts), not by a scale job`,
      { details: { cluster: cluster.name, node: req.node, role: failed.role } },
    );
  const decision = planClusterAction('scale', cluster.state);
  if (!decision.ok)
    throw new IngotError(
      ErrorCode.InvalidTransition,
      `cannot replace ${req.node} of cluster ${cluster.name} while it is ${cluster.state}`,
      { details: { cluster: cluster.name, state: cluster.state } },
    );
  const last = await lastPlan(store, cluster);
  const plan = last.plan as Plan;
  const pool = plan.nodes.find((n) => n.hostname === req.node)?.pool;
  const [added] = await planWorkers(store, cluster, pool, 1, req.spare);
  const top = Math.max(0, ...cluster.members.map((m) => m.order));
  const member: ClusterMember = {
    machineId: added.machineId,
    hostname: added.hostname,
    role: 'worker',
    order: top + 1,
    address: added.address,
  };
  const r = await store.scaleCluster({
    clusterId: cluster.id,
    from: cluster.state,
    to: decision.to,
    reason: `${req.node} replaced by ${added.hostname} (remediation by ${req.actor}): ${req.reason}`,
    actor: req.actor,
    add: [member],
    job: {
      kind: ClusterWorkflow.Scale,
      steps: [...CLUSTER_WORKFLOW_RULES[ClusterWorkflow.Scale].steps],
      params: {
        plan: { ...plan, nodes: [...plan.nodes.filter((n) => n.hostname !== req.node), added] },
        pkiSecret: last.pkiSecret,
        ...(typeof last.image === 'string' ? { image: last.image } : {}),
        add: [added.hostname],
        remove: [req.node],
        broken: { [req.node]: req.reason },
      },
    },
    operation: scaleOperation(OperationKind.Remediate, cluster, plan, [added], [req.node], false),
  });
  return { ...r, hostname: added.hostname };
}

/** Waits for a cluster job to end; throws with its error when it did not succeed in time. */
export async function awaitClusterJob(store: Store, jobId: string, timeoutMs: number): Promise<Job> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const j = await store.getJob(jobId);
    if (j.status === 'done') return j;
    if (j.status === 'failed' || j.status === 'cancelled')
      throw new Error(`job ${jobId} ${j.status}: ${j.error ?? 'no reason'}`);
    if (Date.now() > end) throw new Error(`job ${jobId} still ${j.status} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
