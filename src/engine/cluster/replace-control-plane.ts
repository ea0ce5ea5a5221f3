/**
 * The remediation's `replace` rung for a control plane of a cluster with stacked etcd (docs/day2.md
 * "Remediation"): core/control-plane-replace.ts decides, this runs, each step on the timeline.
 *
 * 1. check-quorum: which control planes' etcd members answer, the member list through one of
 *    them; refused (nothing changed, the reason on the timeline) when the remove or the join
 *    would leave etcd below quorum, or the dead node's member still answers;
 * 2. member-remove: `etcdctl member remove <id>` through a healthy member;
 * 3. delete-node: the dead node's Node object (its pods go with it);
 * 4. join-credentials: on the healthy control plane, a new certificate key with the
 *    control-plane certificates uploaded (`kubeadm init phase upload-certs --upload-certs`) and a
 *    join token valid 1 h — never on the timeline;
 * 5. join: the spare runs `kubeadm join --control-plane` with them (the `join` port: how a
 *    command reaches the spare is the caller's — the bed's namespaces, a node agent's task);
 * 6. member-healthy: the spare is a started member and its local member answers;
 * 7. node-ready: its Node is Ready.
 * Every wait is bounded; the quorum is checked again before the join.
 */
import {
  ControlPlaneReplaceStep as Step,
  decideControlPlaneReplace,
} from '../../core/control-plane-replace.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import {
  type ControlPlaneJoin,
  controlPlaneJoin,
  listMembers,
  memberAnswers,
  removeMember,
} from '../../kube/etcd/members.ts';
import type { NodeShell } from '../../kube/etcd/shell.ts';

export interface ControlPlaneReplacePorts {
  /** Runs commands on the control planes (etcdctl, kubeadm). */
  readonly shell: NodeShell;
  /** Deletes a Node and its pods; resolves false when it was gone already. */
  readonly deleteNode: (node: string) => Promise<boolean>;
  /** Whether the Node is registered Ready. */
  readonly nodeReady: (node: string) => Promise<boolean>;
  /** Makes `spare` run `kubeadm join --control-plane` with these credentials; resolves when it ended well. */
  readonly join: (spare: string, j: ControlPlaneJoin) => Promise<void>;
  readonly say: (step: Step, message: string, level?: 'info' | 'warning' | 'error') => void;
}

export interface ControlPlaneReplaceInput {
  /** The dead control plane (its hostname is its etcd member's name). */
  readonly dead: string;
  /** The spare's hostname, once it runs (its member's name). */
  readonly spare: string;
  /** The cluster's control planes now, the dead one included. */
  readonly controlPlanes: readonly string[];
  /** How long the spare's member and Node have to be healthy and Ready. @default 600 000 ms */
  readonly readyTimeoutMs?: number;
  /** @default 2000 ms */
  readonly pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Asks the members which answer, and decides; refuses with the reason (on the timeline too):
 * an INGOT_CONFLICT naming the reason, nothing changed.
 */
export async function checkControlPlaneReplace(
  p: Pick<ControlPlaneReplacePorts, 'shell' | 'say'>,
  i: Pick<ControlPlaneReplaceInput, 'dead' | 'spare' | 'controlPlanes'>,
) {
  const healthyOn: string[] = [];
  for (const n of i.controlPlanes) if (await memberAnswers(p.shell, n)) healthyOn.push(n);
  const asker = healthyOn.find((n) => n !== i.dead);
  const members = asker ? await listMembers(p.shell, asker) : [];
  const d = decideControlPlaneReplace({ dead: i.dead, spare: i.spare, members, healthyOn });
  if (!d.ok) {
    p.say(Step.Check, `replace of ${i.dead} refused: ${d.reason}`, 'error');
    throw new IngotError(ErrorCode.Conflict, `replace of control plane ${i.dead} refused: ${d.reason}`, {
      details: { node: i.dead, spare: i.spare },
    });
  }
  return d;
}

async function until(what: string, ms: number, pollMs: number, fn: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await fn().catch(() => false))) {
    if (Date.now() - start > ms) throw new IngotError(ErrorCode.Timeout, `${what} within ${ms / 1000} s`);
    await sleep(pollMs);
  }
  return Date.now() - start;
}

/** Replaces `dead` by `spare`; resolves with what happened (for the rung's detail). */
export async function replaceControlPlane(
  p: ControlPlaneReplacePorts,
  i: ControlPlaneReplaceInput,
): Promise<string> {
  const ms = i.readyTimeoutMs ?? 600_000;
  const poll = i.pollMs ?? 2000;
  const d = await checkControlPlaneReplace(p, i);
  p.say(Step.Check, `quorum kept: ${d.summary}; through ${d.via}`);
  if (d.remove) {
    await removeMember(p.shell, d.via, d.remove.id);
    p.say(Step.MemberRemove, `${i.dead}'s etcd member ${d.remove.id} removed through ${d.via}`);
  } else p.say(Step.MemberRemove, `${i.dead} is no etcd member (removed before)`);
  const was = await p.deleteNode(i.dead);
  p.say(Step.DeleteNode, was ? `Node ${i.dead} deleted` : `Node ${i.dead} was already gone`);
  const j = await controlPlaneJoin(p.shell, d.via);
  p.say(
    Step.JoinCredentials,
    `${d.via}: control-plane certificates uploaded with a new certificate key (2 h), join token created (1 h)`,
  );
  // The members may have changed while the credentials were made: the join must keep quorum too.
  const again = await checkControlPlaneReplace(p, {
    ...i,
    controlPlanes: i.controlPlanes.filter((n) => n !== i.dead),
  });
  p.say(Step.Join, `${i.spare}: kubeadm join ${j.endpoint} --control-plane (${again.summary})`);
  await p.join(i.spare, j);
  p.say(Step.Join, `${i.spare}: kubeadm join --control-plane done`);
  let id = '';
  const tookMember = await until(`${i.spare}'s etcd member not started and healthy`, ms, poll, async () => {
    const m = (await listMembers(p.shell, again.via)).find((x) => x.name === i.spare && x.started);
    id = m?.id ?? '';
    return !!m && (await memberAnswers(p.shell, i.spare));
  });
  p.say(
    Step.MemberHealthy,
    `${i.spare}'s etcd member ${id} started and healthy (${Math.round(tookMember / 1000)} s)`,
  );
  const tookReady = await until(`Node ${i.spare} not Ready`, ms, poll, () => p.nodeReady(i.spare));
  p.say(Step.NodeReady, `Node ${i.spare} Ready (${Math.round(tookReady / 1000)} s)`);
  return `${i.spare} joined as a control plane (etcd member ${id} healthy, Node Ready); ${i.dead}'s etcd member ${d.remove ? `${d.remove.id} removed` : 'was gone'}`;
}
