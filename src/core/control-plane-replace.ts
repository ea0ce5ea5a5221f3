/**
 * Replacing a dead control plane of a cluster with stacked etcd, as pure decisions: whether it
 * can be done without ever leaving etcd below quorum, through which healthy member, and which
 * member goes. The procedure (src/engine/cluster/replace-control-plane.ts): the dead node's
 * etcd member removed through a healthy member (`etcdctl member remove`), its Node deleted, a
 * fresh join token and certificate key made on a healthy control plane (`kubeadm init phase
 * upload-certs --upload-certs`), the spare joined with `kubeadm join --control-plane`, then its
 * etcd member healthy and its Node Ready.
 *
 * Quorum, for `n` members of which `h` answer (the dead one not among them):
 * - `member remove` is a change of the membership, committed by a quorum of the `n` members:
 *   `h ≥ ⌊n/2⌋ + 1`;
 * - the spare's join adds a voting member (kubeadm 1.20 adds it as a full member) that is not
 *   yet healthy until it has synced: the `n'+1` members (`n'` after the removal) need
 *   `h ≥ ⌊(n'+1)/2⌋ + 1` healthy ones meanwhile.
 * Either not met → refused, with the reason, and nothing is changed.
 */

/** One etcd member as `etcdctl member list` tells it (the ID in hex, as etcdctl prints it). */
export interface EtcdMemberInfo {
  readonly id: string;
  /** The member's name: the node's hostname for kubeadm's stacked etcd; '' while not started. */
  readonly name: string;
  readonly started: boolean;
}

/** How many members of `members` form a quorum. */
export const quorumOf = (members: number): number => Math.floor(members / 2) + 1;

export type ControlPlaneReplaceDecision =
  | {
      readonly ok: true;
      /** The healthy control plane the member remove, upload-certs and token run on. */
      readonly via: string;
      /** The dead node's member to remove; null when it is no member any more (a retry). */
      readonly remove: EtcdMemberInfo | null;
      /** What the timeline says about the quorum before and after. */
      readonly summary: string;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Whether the dead control plane `dead` may be replaced by `spare` now. `healthyOn` are the
 * control planes whose local etcd member answers (`etcdctl endpoint health`).
 */
export function decideControlPlaneReplace(input: {
  readonly dead: string;
  readonly spare: string;
  readonly members: readonly EtcdMemberInfo[];
  readonly healthyOn: readonly string[];
}): ControlPlaneReplaceDecision {
  const { dead, spare, members } = input;
  if (input.healthyOn.includes(dead))
    return {
      ok: false,
      reason: `${dead}'s etcd member still answers: fence it first (power it off through its BMC), a member that runs is never removed`,
    };
  if (members.some((m) => m.name === spare))
    return {
      ok: false,
      reason: `${spare} is an etcd member already: pick a spare that is not part of the cluster`,
    };
  const names = new Set(members.map((m) => m.name));
  const healthy = input.healthyOn.filter((n) => names.has(n) && n !== dead).sort();
  const n = members.length;
  const h = healthy.length;
  const remove = members.find((m) => m.name === dead) ?? null;
  if (n === 0 || h === 0)
    return {
      ok: false,
      reason: `no etcd member answers (${n} member(s)): nothing can remove ${dead}'s member; restore from a snapshot (ingot cluster backup restore)`,
    };
  if (h < quorumOf(n))
    return {
      ok: false,
      reason: `only ${h} of ${n} etcd members answer (${healthy.join(', ')}), a quorum is ${quorumOf(n)}: etcd has lost its quorum (no member remove commits, no spare can join): a restore case, bring a lost member back or restore from a snapshot (ingot cluster backup restore)`,
    };
  const after = remove ? n - 1 : n;
  if (h < quorumOf(after + 1))
    return {
      ok: false,
      reason: `with ${spare} joining, ${after + 1} members of which ${h} healthy until it has synced, a quorum is ${quorumOf(after + 1)}: ${spare}'s join would leave etcd below quorum; bring a member back first`,
    };
  return {
    ok: true,
    via: healthy[0],
    remove,
    summary: `${h} of ${n} etcd members answer (quorum ${quorumOf(n)})${remove ? `; without ${dead}: ${h} of ${after}` : ` (${dead} is no member)`}; with ${spare} joining: ${h} of ${after + 1} (quorum ${quorumOf(after + 1)})`,
  };
}

/** The steps of a control-plane replacement, in order (each one on the timeline). */
export const ControlPlaneReplaceStep = {
  Check: 'check-quorum',
  MemberRemove: 'member-remove',
  DeleteNode: 'delete-node',
  JoinCredentials: 'join-credentials',
  Join: 'join',
  MemberHealthy: 'member-healthy',
  NodeReady: 'node-ready',
} as const;
export type ControlPlaneReplaceStep = (typeof ControlPlaneReplaceStep)[keyof typeof ControlPlaneReplaceStep];

/**
 * Whether the running control plane `node` may leave etcd and rejoin it (an OS replacement's
 * control plane, one at a time: its member removed through another member, its machine
 * redeployed, `kubeadm join --control-plane` again). `healthyOn` are the control planes whose
 * local member answers (`node` among them or not: a dead one's reprovision). With `n` members
 * and `h` of the others answering:
 * - the removal commits with a quorum of the `n` (the node still votes if it answers);
 * - while the node is away and until its new member has synced, the `n'` members left plus the
 *   joining one need `h ≥ ⌊(n'+1)/2⌋ + 1` — so 1 or 2 control planes are never enough.
 * Asked again before the join (its member gone: `remove` null).
 */
export function decideMemberRejoin(input: {
  readonly node: string;
  readonly members: readonly EtcdMemberInfo[];
  readonly healthyOn: readonly string[];
}): ControlPlaneReplaceDecision {
  const { node, members } = input;
  const names = new Set(members.map((m) => m.name));
  const others = input.healthyOn.filter((x) => names.has(x) && x !== node).sort();
  const n = members.length;
  const h = others.length;
  const remove = members.find((m) => m.name === node) ?? null;
  const list = others.join(', ') || 'none';
  if (n === 0 || h === 0)
    return {
      ok: false,
      reason: `no other etcd member answers (${n} member(s)): ${node}'s member cannot be removed and rejoined without losing etcd; bring the other control planes back first`,
    };
  const voters = h + (remove && input.healthyOn.includes(node) ? 1 : 0);
  if (remove && voters < quorumOf(n))
    return {
      ok: false,
      reason: `only ${voters} of ${n} etcd members answer (${list}${voters > h ? `, ${node}` : ''}), a quorum is ${quorumOf(n)}: etcd has lost its quorum; bring a member back or restore from a snapshot`,
    };
  const after = remove ? n - 1 : n;
  if (h < quorumOf(after + 1))
    return {
      ok: false,
      reason: `the other members answering are ${h} (${list}); with ${node} away and rejoining, ${after + 1} members of which ${h} healthy until it has synced, a quorum is ${quorumOf(after + 1)}: replacing it now would leave etcd below quorum; bring the others back first`,
    };
  return {
    ok: true,
    via: others[0],
    remove,
    summary: `${h} other etcd member(s) answer (${list}) of ${n}${remove ? `; without ${node}: ${h} of ${after}` : ` (${node} is no member)`}; with ${node} rejoining: ${h} of ${after + 1} (quorum ${quorumOf(after + 1)})`,
  };
}

/**
 * Why the control planes of a cluster with `controlPlanes` of them cannot be replaced one at a
 * time (an OS replacement), or null: etcd must be stacked (a member to swap) and there must be
 * 3 or more (removing a member of 1 or 2 loses the quorum while the node is away).
 */
export function controlPlaneRollGap(c: {
  readonly controlPlanes: number;
  readonly externalEtcd: boolean;
}): string | null {
  if (c.externalEtcd)
    return 'its etcd is external: replacing a control plane without a stacked etcd member to swap is not done yet';
  if (c.controlPlanes < 3)
    return `the cluster has ${c.controlPlanes} control plane(s): removing one's etcd member leaves ${c.controlPlanes - 1} of ${c.controlPlanes} (a quorum is ${quorumOf(c.controlPlanes)}) and loses etcd's quorum while it is away; a control plane is replaced one at a time in a cluster of 3 or more`;
  return null;
}
