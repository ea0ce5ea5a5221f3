/**
 * A scale request (docs/day2.md "Scale"): the scale rules (src/core/scale.ts) decide how many
 * workers come and which go; new workers are planned onto the region's ready machines with the
 * create's placement rules (the pool's machine selector, spread over zones and racks) and
 * addresses (the same IPAM, every address in use — this cluster's members included — kept);
 * then the cluster moves running → updating, the machines are allocated as members and the
 * scale job is queued with its operation (kind `scale`: pause, resume, abort; each node's
 * progress) in one transaction (the cluster's state is the guard: one change at a time).
 */
import type { InventoryMachine } from '../../cluster/inventory.ts';
import { NodeIpam } from '../../cluster/plan/ipam.ts';
import { memberPlan } from '../../cluster/plan/member-plan.ts';
import { plannedNode } from '../../cluster/plan/plan.ts';
import { explainShortfall, mismatch, spread } from '../../cluster/plan/select.ts';
import { type Plan, type PlannedNode, Role } from '../../cluster/plan/types.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import { CLUSTER_WORKFLOW_RULES, ClusterWorkflow, planClusterAction } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { OperationKind } from '../../core/operation.ts';
import { decideScale, type ScaleRequest } from '../../core/scale.ts';
import type { Store } from '../../store/store.ts';
import { regionInventory } from './inventory.ts';
import { controlPlaneScaleGap, newControlPlaneScaleId } from './scale-control-planes.ts';
import { scaleOperation } from './scale-operation.ts';

export interface ScaleClusterInput extends ScaleRequest {
  /** The worker pool (the Cluster file's `spec.workers[].name`); default: the only one. */
  readonly pool?: string;
  /** The OS image new workers are deployed with; default: the create's. */
  readonly image?: string;
  /** How a leaving worker's disks are wiped on release. */
  readonly wipe?: 'quick' | 'secure';
  readonly actor: string;
}

/** The scale job's parameters beside the create's plan, PKI and image. */
export interface ScaleParams {
  /** Hostnames of the members this scale adds (workers, or the control planes below). */
  add: string[];
  /** Hostnames of the members this scale removes, in order. */
  remove: string[];
  /** A control-plane scale: which of `add` / `remove` are control planes, joined / removed one at a time. */
  controlPlanes?: { id: string; add: string[]; remove: string[] };
}

/**
 * The plan, PKI and image of the cluster's newest job that has them (the create's or a scale's),
 * the plan's nodes being the members as they are (an aborted scale gives part of its plan back:
 * cluster/plan/member-plan.ts).
 */
export async function lastPlan(store: Store, cluster: Cluster): Promise<Job['params']> {
  const jobs = (await store.listJobs({ clusterId: cluster.id }, 200)).filter(
    (x) => x.params.plan && typeof x.params.pkiSecret === 'string',
  );
  if (jobs.length === 0)
    throw new IngotError(ErrorCode.Conflict, `cluster ${cluster.name} has no create plan to change it from`, {
      details: { cluster: cluster.name },
    });
  const plan = memberPlan(
    jobs.map((j) => j.params.plan as Plan),
    cluster.members.map((m) => m.hostname),
  );
  return { ...jobs[0].params, plan };
}

/**
 * Plans `count` more workers of `pool` onto ready machines, as the create's planner would;
 * with `only`, onto that one ready machine (a remediation's spare).
 */
export async function planWorkers(
  store: Store,
  cluster: Cluster,
  poolName: string | undefined,
  count: number,
  only?: string,
) {
  const spec = parseClusterFile(cluster.clusterFile, 'Cluster file');
  const pools = spec.spec.workers;
  const pool = poolName ? pools.find((w) => w.name === poolName) : pools.length === 1 ? pools[0] : undefined;
  if (!pool)
    throw invalid(
      'pool',
      poolName
        ? `the Cluster file has no worker pool "${poolName}"; pools: ${pools.map((w) => w.name).join(', ') || 'none'}`
        : `the cluster has ${pools.length} worker pools (${pools.map((w) => w.name).join(', ')}); name one`,
    );
  const inv = await regionInventory(store);
  const candidates = inv.machines.filter(
    (m) => mismatch(m, pool.machines) === null && (only === undefined || m.id === only),
  );
  const picked = spread(candidates, count);
  if (picked.length < count)
    throw invalid(
      'workers',
      `needs ${count} more ${pool.name} machines, ${picked.length} ready ones match. Of ${inv.machines.length} ready machines: ${explainShortfall(inv.machines, pool.machines, new Map())}. Commission matching machines, or scale to fewer.`,
      { pool: pool.name },
    );
  return placeNodes(spec, inv, picked, {
    role: Role.Worker,
    pool: pool.name,
    labels: pool.labels,
    taints: pool.taints,
  });
}

/** Addresses for `machines` from the create's IPAM (every address in use kept), as planned nodes. */
function placeNodes(
  spec: ReturnType<typeof parseClusterFile>,
  inv: Awaited<ReturnType<typeof regionInventory>>,
  machines: readonly InventoryMachine[],
  want: Pick<PlannedNode, 'role' | 'pool' | 'labels' | 'taints'>,
): PlannedNode[] {
  const ipam = new NodeIpam(spec, inv.subnets);
  const nodes: PlannedNode[] = [];
  for (const m of [...machines].sort((a, b) => (a.hostname < b.hostname ? -1 : 1))) {
    const subnet = ipam.subnetFor(m.rack);
    if ('path' in subnet) throw invalid(subnet.path, subnet.message);
    const lease = ipam.allocate(subnet);
    if (!lease)
      throw invalid(
        'spec.networking.nodeSubnets',
        `subnet "${subnet.name}" ${subnet.cidr} has no free address for ${m.hostname}; use a larger subnet or shrink its DHCP ranges`,
      );
    nodes.push(plannedNode(m, want, subnet, lease, false));
  }
  return nodes;
}

/**
 * Plans the ready machine `machineId` as one more control plane (a remediation's spare): the
 * Cluster file's control-plane selector, an address from the create's IPAM, never the init node.
 */
export async function planControlPlane(
  store: Store,
  cluster: Cluster,
  machineId: string,
): Promise<PlannedNode> {
  const spec = parseClusterFile(cluster.clusterFile, 'Cluster file');
  const inv = await regionInventory(store);
  const m = inv.machines.find((x) => x.id === machineId);
  if (!m) throw invalid('spare', `machine ${machineId} is not a ready machine of the region`);
  const why = mismatch(m, spec.spec.controlPlane.machines);
  if (why !== null)
    throw invalid('spare', `machine ${m.hostname} does not match spec.controlPlane.machines: ${why}`);
  const [node] = placeNodes(spec, inv, [m], {
    role: Role.ControlPlane,
    pool: 'control-plane',
    labels: {},
    taints: [],
  });
  return node;
}

/**
 * Plans `count` more control planes onto ready machines matching the Cluster file's
 * control-plane selector, each pick in the zone, then the rack, holding the fewest control
 * planes so far (the members' and the picks before it): spread over failure domains as the
 * create's planner spreads them.
 */
async function planControlPlanes(store: Store, cluster: Cluster, count: number): Promise<PlannedNode[]> {
  const spec = parseClusterFile(cluster.clusterFile, 'Cluster file');
  const inv = await regionInventory(store);
  const sel = spec.spec.controlPlane.machines;
  const candidates = inv.machines
    .filter((m) => mismatch(m, sel) === null)
    .sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  if (candidates.length < count)
    throw invalid(
      'controlPlanes',
      `needs ${count} more control-plane machines, ${candidates.length} ready ones match spec.controlPlane.machines. Of ${inv.machines.length} ready machines: ${explainShortfall(inv.machines, sel, new Map())}. Commission matching machines, or scale to fewer.`,
    );
  const held: { zone: string; rack: string }[] = [];
  for (const m of cluster.members.filter((x) => x.role === 'init' || x.role === 'control-plane')) {
    const machine = await store.getMachine(m.machineId);
    held.push({ zone: machine.zone, rack: machine.rack });
  }
  const picked: InventoryMachine[] = [];
  for (let i = 0; i < count; i++) {
    const left = candidates.filter((c) => !picked.includes(c));
    const score = (c: InventoryMachine) => [
      held.filter((h) => h.zone === c.zone).length,
      held.filter((h) => h.zone === c.zone && h.rack === c.rack).length,
    ];
    const best = left.reduce((a, b) => {
      const [za, ra] = score(a);
      const [zb, rb] = score(b);
      return zb < za || (zb === za && rb < ra) ? b : a;
    });
    picked.push(best);
    held.push({ zone: best.zone, rack: best.rack });
  }
  return placeNodes(spec, inv, picked, {
    role: Role.ControlPlane,
    pool: 'control-plane',
    labels: {},
    taints: [],
  });
}

/**
 * Scales a running cluster's workers, or its control planes (a scale of their own: kubeadm with
 * stacked etcd, an endpoint that follows them — controlPlaneScaleGap). Nothing to do (the count it has) answers the cluster and
 * no job; a refusal (bad count, not enough machines, a control-plane change) changes nothing.
 */
export async function scaleCluster(
  store: Store,
  ref: string,
  req: ScaleClusterInput,
): Promise<{ cluster: Cluster; job: Job | null }> {
  const cluster = await store.getCluster(ref);
  const decision = planClusterAction('scale', cluster.state);
  if (!decision.ok)
    throw new IngotError(
      ErrorCode.InvalidTransition,
      `cannot scale cluster ${cluster.name} while it is ${cluster.state}${cluster.state === 'updating' ? ' (another change is running: wait for it)' : ''}; allowed actions: ${decision.allowed.join(', ') || 'none'}`,
      {
        details: { cluster: cluster.name, state: cluster.state, action: 'scale', allowed: decision.allowed },
      },
    );
  const decided = decideScale(cluster.members, req);
  const d = {
    ...decided,
    addControlPlanes: decided.addControlPlanes ?? 0,
    removeControlPlanes: decided.removeControlPlanes ?? [],
  };
  const cpChange = d.addControlPlanes > 0 || d.removeControlPlanes.length > 0;
  if (d.add === 0 && d.remove.length === 0 && !cpChange) return { cluster, job: null };
  if (cpChange) {
    const gap = controlPlaneScaleGap(parseClusterFile(cluster.clusterFile, 'Cluster file'));
    if (gap)
      throw invalid(
        'controlPlanes',
        `the control planes of cluster ${cluster.name} cannot be scaled: ${gap}`,
      );
  }
  const last = await lastPlan(store, cluster);
  const plan = last.plan as Plan;
  const added =
    d.add > 0
      ? await planWorkers(store, cluster, req.pool, d.add)
      : d.addControlPlanes > 0
        ? await planControlPlanes(store, cluster, d.addControlPlanes)
        : [];
  const leaving = [...d.remove, ...d.removeControlPlanes];
  const top = Math.max(0, ...cluster.members.map((m) => m.order));
  const members: ClusterMember[] = added.map((n, i) => ({
    machineId: n.machineId,
    hostname: n.hostname,
    role: n.role === Role.ControlPlane ? 'control-plane' : 'worker',
    order: top + 1 + i,
    address: n.address,
  }));
  const image = req.image ?? (typeof last.image === 'string' ? last.image : undefined);
  const params: ScaleParams & Record<string, unknown> = {
    plan: { ...plan, nodes: [...plan.nodes.filter((n) => !leaving.includes(n.hostname)), ...added] },
    pkiSecret: last.pkiSecret,
    ...(image ? { image } : {}),
    ...(req.wipe === 'secure' ? { wipe: 'secure' } : {}),
    add: added.map((n) => n.hostname),
    remove: leaving,
    ...(cpChange
      ? {
          controlPlanes: {
            id: newControlPlaneScaleId(),
            add: added.map((n) => n.hostname),
            remove: [...d.removeControlPlanes],
          },
        }
      : {}),
  };
  const cp = cpChange ? ' control plane(s)' : '';
  const what = [
    added.length ? `add${cp} ${added.map((n) => n.hostname).join(', ')}` : '',
    leaving.length ? `remove${cp} ${leaving.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return store.scaleCluster({
    clusterId: cluster.id,
    from: cluster.state,
    to: decision.to,
    reason: `scale requested by ${req.actor}: ${what}`,
    actor: req.actor,
    add: members,
    job: {
      kind: ClusterWorkflow.Scale,
      steps: [...CLUSTER_WORKFLOW_RULES[ClusterWorkflow.Scale].steps],
      params,
    },
    operation: scaleOperation(OperationKind.Scale, cluster, plan, added, leaving, cpChange),
  });
}
