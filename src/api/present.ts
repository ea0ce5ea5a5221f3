/** Domain → wire: what the API returns. Secrets and internal fields never leave here. */
import { withoutUserInfo } from '../core/bmc-address.ts';
import type { Cluster, MemberRole } from '../core/cluster.ts';
import { allowedClusterActions } from '../core/cluster-lifecycle.ts';
import type { Job } from '../core/job.ts';
import { allowedActions } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';

/** A machine, with the cluster it belongs to (and its role there) when it is a member of one. */
export function presentMachine(m: Machine, member: { cluster: string; role: MemberRole } | null = null) {
  const { bmc, rescueFrom: _rescueFrom, ...rest } = m;
  return {
    ...rest,
    bmc: bmc ? { address: withoutUserInfo(bmc.address), username: bmc.username } : null,
    allowedActions: allowedActions(m.state),
    cluster: member,
  };
}

/** A cluster as the API shows it; `full` adds the Cluster file and each member's machine state. */
export function presentCluster(c: Cluster, machines?: ReadonlyMap<string, Machine>) {
  const { clusterFile, members, ...rest } = c;
  return {
    ...rest,
    allowedActions: allowedClusterActions(c.state),
    members: members.map((m) => {
      const machine = machines?.get(m.machineId);
      return machine ? { ...m, state: machine.state, stateReason: machine.stateReason } : m;
    }),
    ...(machines ? { clusterFile } : {}),
  };
}

export function presentJob(j: Job) {
  const {
    leaseOwner: _o,
    leaseExpiresAt: _e,
    runAfter: _r,
    rack: _rack,
    bmcHost: _b,
    params: _p,
    scratch: _s,
    ...rest
  } = j;
  return rest;
}
