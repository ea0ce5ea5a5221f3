/**
 * The region's `replace` rung for a control plane (remediation-loop.ts), after the node was
 * fenced (powered off through its BMC, confirmed) and powering it on did not bring it back:
 *
 * 1. the quorum is checked first (core/control-plane-replace.ts through the control planes'
 *    etcd): refused → the rung fails with the reason, nothing is changed and the node stays
 *    fenced; two of three members gone is a restore case (`ingot cluster backup restore`);
 * 2. the spare (core/remediation.ts's pick in the node's failure domain) is brought up ready to
 *    join through the port: the region's (control-plane-spare.ts) allocates it as a control-plane
 *    member and deploys it with a scale job of its own; a port that does not allocate (the test
 *    bed boots a node) has it allocated here once up (store.addClusterMembers);
 * 3. replace-control-plane.ts swaps the etcd member (the dead one removed through a healthy
 *    member, the spare joined with `kubeadm join --control-plane` and fresh credentials, its
 *    member healthy and its Node Ready), each step on the timeline;
 * 4. the dead member leaves the cluster and its machine is marked broken with the reason.
 *
 * One control plane at a time is core/remediation.ts's planRemediation (and a loop never
 * overlaps its own passes on a cluster), so two replaces never run at once on one etcd.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { Cluster } from '../../core/cluster.ts';
import type { ControlPlaneReplaceStep } from '../../core/control-plane-replace.ts';
import type { Machine } from '../../core/machine.ts';
import { type ControlPlaneJoin, listMembers, memberAnswers } from '../../kube/etcd/members.ts';
import type { NodeShell } from '../../kube/etcd/shell.ts';
import { deleteFencedNode, nodesReady } from '../../kube/nodes.ts';
import type { Store } from '../../store/store.ts';
import { type RemediationMember, retryUnreachable } from './remediate.ts';
import { checkControlPlaneReplace, replaceControlPlane } from './replace-control-plane.ts';
import { markReplacedBroken } from './scale-steps.ts';

/** A spare machine up and ready to run `kubeadm join --control-plane`. */
export interface ControlPlaneSpare {
  /** Its hostname: its Node's and its etcd member's name. */
  readonly hostname: string;
  /** Its node address (the member's). */
  readonly address: string;
  /** Runs `kubeadm join --control-plane` on it with these credentials; resolves when it ended well. */
  join(j: ControlPlaneJoin): Promise<void>;
}

/** What the region needs to replace a control plane of one cluster. */
export interface ControlPlaneRemediation {
  /** Commands on the cluster's control planes (etcdctl, kubeadm) and on the spare once it is up. */
  readonly shell: NodeShell;
  /** Brings the spare machine up, ready to join in place of `dead`. */
  readonly spare: (machine: Machine, dead: RemediationMember) => Promise<ControlPlaneSpare>;
}

/** The cluster's control planes (the init node included), by hostname. */
export const controlPlanesOf = (c: Cluster): string[] =>
  c.members.filter((m) => m.role === 'init' || m.role === 'control-plane').map((m) => m.hostname);

/**
 * Stacked etcd's members and the control planes whose local member answers, for the fence
 * guard of planRemediation; the member count is the control planes' when no member answers.
 */
export async function etcdHealth(
  shell: NodeShell,
  controlPlanes: readonly string[],
): Promise<{ members: number; healthyOn: string[] }> {
  const healthyOn: string[] = [];
  for (const n of controlPlanes) if (await memberAnswers(shell, n)) healthyOn.push(n);
  const members = healthyOn.length
    ? (await listMembers(shell, healthyOn[0]).catch(() => [])).length
    : controlPlanes.length;
  return { members: members || controlPlanes.length, healthyOn };
}

export interface ReplaceControlPlaneMemberInput {
  readonly store: Store;
  readonly cluster: Cluster;
  readonly port: ControlPlaneRemediation;
  readonly kube: KubeConfig;
  /** The fenced control plane. */
  readonly dead: RemediationMember;
  readonly spareMachineId: string;
  /** Why it is replaced (its machine is marked broken with it). */
  readonly why: string;
  readonly actor: string;
  readonly say: (
    step: ControlPlaneReplaceStep,
    message: string,
    level?: 'info' | 'warning' | 'error',
  ) => void;
  /** How long the spare's member and Node have to be healthy and Ready. @default 600 000 ms */
  readonly readyTimeoutMs?: number;
  readonly pollMs?: number;
}

/** Replaces the fenced control plane by the spare; resolves with what happened, rejects with why not. */
export async function replaceControlPlaneMember(i: ReplaceControlPlaneMemberInput): Promise<string> {
  const { store, cluster, port, dead } = i;
  const controlPlanes = controlPlanesOf(cluster);
  const ports = {
    shell: port.shell,
    deleteNode: (n: string) =>
      // The delete-node rung deleted it already; a retry of the replace finds it gone.
      retryUnreachable(() => deleteFencedNode(i.kube, n), 60_000).then((r) => r.meta !== null),
    nodeReady: async (n: string) =>
      (await nodesReady(i.kube)).some((r) => r.node === n && r.ready === 'True'),
    say: i.say,
  };
  const machine = await store.getMachine(i.spareMachineId);
  // Before the spare is touched: a refused quorum changes nothing and allocates nothing.
  await checkControlPlaneReplace(ports, { dead: dead.node, spare: machine.hostname, controlPlanes });
  const spare = await port.spare(machine, dead);
  const top = Math.max(0, ...cluster.members.map((m) => m.order));
  // The region's port allocated it already (its deploy is a scale job that adds the member).
  const now = await store.getCluster(cluster.id);
  if (!now.members.some((m) => m.machineId === machine.id))
    await store.addClusterMembers(
      cluster.id,
      [
        {
          machineId: machine.id,
          hostname: spare.hostname,
          role: 'control-plane',
          order: top + 1,
          address: spare.address,
        },
      ],
      i.actor,
      `remediation: replaces ${dead.node}`,
    );
  let detail: string;
  try {
    detail = await replaceControlPlane(
      { ...ports, join: (_n, j) => spare.join(j) },
      {
        dead: dead.node,
        spare: spare.hostname,
        controlPlanes,
        readyTimeoutMs: i.readyTimeoutMs,
        pollMs: i.pollMs,
      },
    );
  } catch (e) {
    throw new Error(
      `${(e as Error).message}; the spare ${spare.hostname} (machine ${machine.id}) stays allocated to the cluster: check it, then scale it in or replace again`,
    );
  }
  await markReplacedBroken(store, dead.machineId, cluster.name, i.why, i.actor);
  await store.removeClusterMembers(cluster.id, [dead.machineId], i.actor, null);
  return `${detail}; ${dead.node} left the cluster, its machine marked broken${endpointNote(cluster, dead.node, spare.address)}`;
}

/**
 * What the API endpoint needs after the swap. kube-vip (the default) holds the VIP by leader
 * election among the control planes' kube-vip pods: the spare's (in its node files) takes part,
 * the fenced node's is off, nothing to change. An external load balancer is the operator's (the
 * region renders none for it): its backends must change, said in the rung's outcome.
 */
export function endpointNote(cluster: Cluster, dead: string, spare: string): string {
  const e = parseClusterFile(cluster.clusterFile, 'Cluster file').spec.endpoint;
  if (e.mode !== 'external') return '';
  const was = cluster.members.find((m) => m.hostname === dead)?.address.split('/')[0] ?? dead;
  return `; the API's external load balancer (${e.address}:${e.port}) must now send to ${spare.split('/')[0]}:${e.port} instead of ${was}:${e.port}`;
}
