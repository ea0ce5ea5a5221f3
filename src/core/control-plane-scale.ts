/**
 * A control-plane scale's etcd decisions (docs/day2.md "Scale"), one member at a time, as pure
 * functions over `etcdctl member list` and which control planes' local members answer
 * (`etcdctl endpoint health`):
 *
 * - **add** (scale out): every member answers before a new one is added — kubeadm 1.20's
 *   `join --control-plane` adds a voting member that is not healthy until it has synced, so
 *   with `n` members the `n + 1` need `⌊(n+1)/2⌋ + 1` healthy meanwhile, which only all `n`
 *   guarantee for a cluster of 1 or 2 and is what Cluster API's KubeadmControlPlane asks too
 *   (its etcd health check before a scale-up). A member of the node's name already there: its
 *   join was asked before (a crash after the join): not added again.
 * - **leave** (scale in): the member remove is committed by a quorum of the `n` members (the
 *   leaving one votes while it answers), and the `n − 1` left must hold their own quorum from
 *   the answering others. Its member gone already (a crash after the remove): not removed twice.
 *
 * Refused → the reason; the engine (src/engine/cluster/scale-control-planes.ts) changes nothing.
 */
import { type ControlPlaneReplaceDecision, type EtcdMemberInfo, quorumOf } from './control-plane-replace.ts';

export interface MemberCheck {
  /** The control plane joining or leaving. */
  readonly node: string;
  readonly members: readonly EtcdMemberInfo[];
  /** Control planes whose local member answers. */
  readonly healthyOn: readonly string[];
}

/** Whether `node` may be added as a new etcd member now (`remove` is always null). */
export function decideMemberAdd(input: MemberCheck): ControlPlaneReplaceDecision {
  const { node, members } = input;
  const healthy = new Set(input.healthyOn);
  const n = members.length;
  if (n === 0)
    return {
      ok: false,
      reason: 'no etcd member answers the member list: etcd has no quorum to add a member to',
    };
  const silent = members.filter((m) => !m.started || !healthy.has(m.name));
  const via = members.find((m) => m.started && healthy.has(m.name) && m.name !== node)?.name;
  if (members.some((m) => m.name === node))
    return via
      ? {
          ok: true,
          via,
          remove: null,
          summary: `${node} is an etcd member already (its join was asked before): not added again`,
        }
      : { ok: false, reason: `${node} is an etcd member already and no other member answers` };
  if (silent.length > 0 || !via)
    return {
      ok: false,
      reason: `${silent.length} of ${n} etcd members do not answer (${silent.map((m) => m.name || `${m.id} (unstarted)`).join(', ')}): a control plane is added only while every member answers — with ${node} joining, ${n + 1} members need ${quorumOf(n + 1)} healthy until it has synced; bring them back first`,
    };
  return {
    ok: true,
    via,
    remove: null,
    summary: `all ${n} etcd member(s) answer (quorum ${quorumOf(n)}); with ${node} joining: ${n} of ${n + 1} healthy until it has synced (quorum ${quorumOf(n + 1)})`,
  };
}

/** Whether `node`'s etcd member may be removed for good now, and through which other member. */
export function decideMemberLeave(input: MemberCheck): ControlPlaneReplaceDecision {
  const { node, members } = input;
  const names = new Set(members.filter((m) => m.started).map((m) => m.name));
  const others = input.healthyOn.filter((x) => names.has(x) && x !== node).sort();
  const remove = members.find((m) => m.name === node) ?? null;
  const n = members.length;
  const list = others.join(', ') || 'none';
  if (others.length === 0)
    return {
      ok: false,
      reason: `no other etcd member answers (${n} member(s)): ${node}'s member cannot be removed without losing etcd; bring the other control planes back first`,
    };
  if (!remove)
    return {
      ok: true,
      via: others[0],
      remove: null,
      summary: `${node} is no etcd member; ${others.length} of ${n} answer (${list})`,
    };
  const voters = others.length + (input.healthyOn.includes(node) ? 1 : 0);
  if (voters < quorumOf(n))
    return {
      ok: false,
      reason: `only ${voters} of ${n} etcd members answer (${list}${voters > others.length ? `, ${node}` : ''}), a quorum is ${quorumOf(n)}: etcd has lost its quorum; bring a member back or restore from a snapshot`,
    };
  if (others.length < quorumOf(n - 1))
    return {
      ok: false,
      reason: `the other members answering are ${others.length} (${list}); without ${node}, ${n - 1} members need ${quorumOf(n - 1)}: removing it now would leave etcd below quorum; bring the others back first`,
    };
  return {
    ok: true,
    via: others[0],
    remove,
    summary: `${voters} of ${n} etcd members answer (quorum ${quorumOf(n)}); without ${node}: ${others.length} of ${n - 1} (quorum ${quorumOf(n - 1)})`,
  };
}
