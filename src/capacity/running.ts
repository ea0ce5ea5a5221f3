/**
 * A running cluster as the capacity report needs it: its members laid out as the planner's
 * nodes (role, worker pool, zone, rack) with the planner's what-if table, so a cluster the
 * region runs is answered by the same `clusterCapacity` as a Cluster file planned onto ready
 * machines. Pure.
 */
import type { InventoryMachine } from '../cluster/inventory.ts';
import { quorumOf, whatIf } from '../cluster/plan/quorum.ts';
import { mismatch } from '../cluster/plan/select.ts';
import { type Plan, type PlannedNode, Role } from '../cluster/plan/types.ts';
import type { ClusterSpec } from '../cluster/spec/types.ts';
import { type ClusterMember, MemberRole } from '../core/cluster.ts';
import { MachineState } from '../core/lifecycle.ts';

const ROLE: Readonly<Record<MemberRole, Role>> = {
  [MemberRole.Init]: Role.ControlPlane,
  [MemberRole.ControlPlane]: Role.ControlPlane,
  [MemberRole.Etcd]: Role.Etcd,
  [MemberRole.Worker]: Role.Worker,
};

/**
 * Which worker pool each worker member serves: pools in the Cluster file's order each take up
 * to `count` of the members their selector accepts (state aside: members are allocated, not
 * ready), as the planner filled them; a member no pool's count takes goes to the first pool
 * whose selector accepts it, else to the first pool.
 */
export function workerPools(spec: ClusterSpec, workers: readonly InventoryMachine[]): Map<string, string> {
  const out = new Map<string, string>();
  const pools = spec.spec.workers;
  const fits = (m: InventoryMachine, i: number) =>
    mismatch({ ...m, state: MachineState.Ready }, pools[i].machines) === null;
  const sorted = [...workers].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  pools.forEach((p, i) => {
    for (const m of sorted.filter((x) => !out.has(x.id) && fits(x, i)).slice(0, p.count))
      out.set(m.id, p.name);
  });
  for (const m of sorted.filter((x) => !out.has(x.id))) {
    const i = pools.findIndex((_, j) => fits(m, j));
    if (pools.length > 0) out.set(m.id, pools[Math.max(0, i)].name);
  }
  return out;
}

/**
 * The Plan of a running cluster from its members and their machines (any state). A member whose
 * machine the region no longer has is left out (it has neither zone nor hardware to count).
 */
export function memberPlan(
  spec: ClusterSpec,
  members: readonly ClusterMember[],
  machines: readonly InventoryMachine[],
): Plan {
  const byId = new Map(machines.map((m) => [m.id, m]));
  const known = members.filter((m) => byId.has(m.machineId));
  const pools = workerPools(
    spec,
    known.filter((m) => m.role === MemberRole.Worker).map((m) => byId.get(m.machineId)!),
  );
  const nodes: PlannedNode[] = [...known]
    .sort((a, b) => a.order - b.order)
    .map((mem) => {
      const m = byId.get(mem.machineId)!;
      const role = ROLE[mem.role];
      return {
        hostname: mem.hostname,
        machineId: m.id,
        role,
        pool: role === Role.Worker ? (pools.get(m.id) ?? '') : role,
        zone: m.zone,
        rack: m.rack,
        init: mem.role === MemberRole.Init,
        address: mem.address,
        ip: mem.address.split('/')[0],
        gateway: null,
        dns: [],
        subnet: '',
        nics: m.nics,
        disks: m.disks,
        labels: {},
        taints: [],
      };
    });
  const etcdRole = spec.spec.etcd.topology === 'external' ? Role.Etcd : Role.ControlPlane;
  const etcd = nodes.filter((n) => n.role === etcdRole);
  return {
    cluster: spec.metadata.name,
    distribution: spec.spec.distribution,
    version: spec.spec.version,
    endpoint: `https://${spec.spec.endpoint.address}:${spec.spec.endpoint.port}`,
    etcd: {
      topology: spec.spec.etcd.topology,
      members: etcd.map((n) => n.hostname),
      quorum: quorumOf(etcd.length),
    },
    nodes,
    whatIf: whatIf(nodes, etcd),
    warnings: [],
  };
}
