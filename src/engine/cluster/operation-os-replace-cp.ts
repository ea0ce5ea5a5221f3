/**
 * An OS replacement's control plane (docs/day2.md "OS replacement"): the operation's etcd
 * snapshot taken first (operation-run.ts), the control planes go one at a time before the
 * workers, each one sub-step per call, recorded on the operation's progress and its `message`:
 *
 *   (null) the operation's join token made while every control plane runs; the quorum checked
 *   (core's decideMemberRejoin: the other members answer and keep a quorum while it is away and
 *   rejoining; refused → halted, uncordoned, nothing changed); cordoned and drained (a dead
 *   one's reprovision: not drained) → `drained`
 *   → the quorum checked again and its etcd member removed through another healthy member
 *   (`etcdctl member remove`; a member gone already — a crash after the remove — is not removed
 *   twice) → `member-removed`
 *   → its Node deleted and its machine redeployed with the image (the workers' redeploy,
 *   operation-os-replace.ts redeployNode) → `redeployed`
 *   → on a healthy control plane a new certificate key with the control-plane certificates
 *   uploaded (`kubeadm init phase upload-certs --upload-certs`) and a join token (1 h), its
 *   JoinConfiguration rendered with them and written to it, its node agent's `bootstrap`
 *   (`kubeadm join --control-plane`) asked → `joining` → done → `joined`
 *   → its etcd member started and healthy and its Node Ready (10 min) → uncordoned → `ready`.
 *
 * The credentials go to the node only (the agent tasks are sealed at rest): never on the
 * timeline, the progress or a log. The commands run through the cluster's node agents
 * (agent-shell.ts, as a restore's and the remediation's control-plane port's).
 */
import { randomBytes } from 'node:crypto';
import type { Plan } from '../../cluster/plan/types.ts';
import type { PkiMaterial } from '../../cluster/pki/types.ts';
import { renderControlPlaneJoin } from '../../cluster/render/index.ts';
import { resolveSecrets } from '../../cluster/render/secrets.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { AgentTask } from '../../core/agent-protocol.ts';
import { decideMemberRejoin, type EtcdMemberInfo } from '../../core/control-plane-replace.ts';
import { ErrorCode, IngotError, toIngotError } from '../../core/errors.ts';
import { checkBootstrapResult } from '../../core/node-agent-protocol.ts';
import type { ClusterOperation, OperationNode } from '../../core/operation.ts';
import { controlPlaneJoin, listMembers, memberAnswers, removeMember } from '../../kube/etcd/members.ts';
import type { NodeShell } from '../../kube/etcd/shell.ts';
import type { StepOutcome } from '../steps.ts';
import { envSecrets } from './actions.ts';
import { AgentNodeShell } from './agent-shell.ts';
import { type ClusterStepContext, kubeconfig } from './context.ts';
import { type OperationRecorder, redeployNode, tokenPending } from './operation-os-replace.ts';
import { drainedText } from './operation-texts.ts';

/** A control plane's drain deadline (PodDisruptionBudgets are retried until then). */
const DRAIN_TIMEOUT_MS = 5 * 60_000;
/** How long its etcd member and Node may take to be healthy and Ready after the join. */
export const CP_READY_WITHIN_MS = 10 * 60_000;

/** The shell on the cluster's nodes for one call (its node tasks' job ids `osr-<op>-<random>.<n>`). */
function operationShell(ctx: ClusterStepContext, op: ClusterOperation): NodeShell {
  return clusterShell(ctx, `osr-${op.id}`);
}

/** The shell on the cluster's nodes for one call of a step (its node tasks' job ids `<prefix>-<random>.<n>`). */
export function clusterShell(ctx: ClusterStepContext, prefix: string): NodeShell {
  const deps = ctx.restore;
  if (!deps)
    throw new IngotError(
      ErrorCode.Conflict,
      'this region runs no commands on the nodes (no artifact store for its node agents): run the change in a region that serves the API',
    );
  const id = `${prefix}-${randomBytes(3).toString('hex')}`;
  return (
    deps.shell?.(ctx.cluster, id) ??
    new AgentNodeShell({
      store: ctx.store,
      cluster: ctx.cluster,
      op: id,
      artifactsDir: deps.artifactsDir,
      // A live agent long-polls; a dead control plane's never picks up, and the quorum asks each.
      wait: { pickupMs: 30_000, ...deps.wait },
    })
  );
}

/** Which control planes' local members answer, and the member list through one of them but `node`. */
export async function memberView(ctx: ClusterStepContext, shell: NodeShell, node: string) {
  const cps = ctx.cluster.members
    .filter((m) => m.role === 'init' || m.role === 'control-plane')
    .map((m) => m.hostname);
  const healthyOn: string[] = [];
  for (const h of cps) if (await memberAnswers(shell, h)) healthyOn.push(h);
  const asker = healthyOn.find((h) => h !== node);
  const members: EtcdMemberInfo[] = asker ? await listMembers(shell, asker) : [];
  return { members, healthyOn };
}

async function quorumOf(ctx: ClusterStepContext, shell: NodeShell, node: string) {
  const { members, healthyOn } = await memberView(ctx, shell, node);
  return { members, healthyOn, decision: decideMemberRejoin({ node, members, healthyOn }) };
}

/** Whether `node`'s Node is registered and Ready (every Node Ready where the port cannot tell one). */
export async function nodeReady(ctx: ClusterStepContext, k: string, node: string): Promise<boolean> {
  if (ctx.kube.nodesHeard) return (await ctx.kube.nodesHeard(k)).some((x) => x.node === node && x.ready);
  const c = await ctx.kube.conditions(k);
  return !!c.nodes && c.nodes.ready === c.nodes.total;
}

/** One sub-step of the control plane `n` of an OS replacement (operation-run.ts calls it). */
export async function osReplaceControlPlane(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  n: OperationNode,
  say: OperationRecorder,
): Promise<StepOutcome> {
  const poll = ctx.limits.pollMs;
  const k = await kubeconfig(ctx);
  if (!k) throw new IngotError(ErrorCode.Conflict, `cluster ${ctx.cluster.name} has no admin kubeconfig`);
  const dead = op.params.dead?.includes(n.hostname) ?? false;
  const tell = async (message: string, level: 'info' | 'warning' = 'info') => {
    n.message = message;
    n.stepAt = new Date().toISOString();
    await say.record([{ node: n, message, level }]);
  };
  // Before its member is removed a halt gives it back schedulable, changing nothing: a retry
  // checks the quorum and drains it again.
  const haltBefore = async (why: string) => {
    const back = dead
      ? false
      : await ctx.kube.uncordon(k, n.hostname).then(
          () => true,
          () => false,
        );
    n.step = null;
    return say.halt(n, back ? `${why} (uncordoned, nothing changed; a retry checks again)` : why);
  };
  try {
    if (n.step === null) {
      if (n.state === 'pending') {
        n.state = 'running';
        n.startedAt = new Date().toISOString();
        await tell(
          `OS replacement with image ${op.params.image} started: quorum check, ${dead ? 'not drained (dead)' : 'drain'}, etcd member remove, redeploy, kubeadm join --control-plane`,
        );
      }
      // The redeploy's files are rendered with the operation's join token: made now, while
      // every control plane runs (the first by join order makes it; this one may be it).
      const waiting = await tokenPending(ctx);
      if (waiting) return waiting;
      const q = await quorumOf(ctx, operationShell(ctx, op), n.hostname);
      if (!q.decision.ok) return haltBefore(`refused: ${q.decision.reason}`);
      let drained = 'not drained: dead, fenced';
      if (!dead) {
        // Why it waits (blocked by PDB ns/name) on the node and the timeline, as a roll's drain.
        const waits = say.drainWaits(n);
        try {
          drained = drainedText(
            await ctx.kube.drainNode(k, n.hostname, {
              timeoutMs: DRAIN_TIMEOUT_MS,
              force: false,
              onBlocked: waits.onBlocked,
            }),
          );
          await waits.done();
        } catch (e) {
          await waits.settled();
          return haltBefore(toIngotError(e).message);
        }
      }
      n.step = 'drained';
      await tell(`quorum kept (${q.decision.summary}); ${drained}`);
      return { kind: 'wait', ms: 0 };
    }

    if (n.step === 'drained') {
      const shell = operationShell(ctx, op);
      const q = await quorumOf(ctx, shell, n.hostname);
      if (!q.decision.ok) return haltBefore(`refused: ${q.decision.reason}`);
      const d = q.decision;
      if (d.remove) await removeMember(shell, d.via, d.remove.id);
      n.step = 'member-removed';
      await tell(
        d.remove
          ? `etcd member ${d.remove.id} removed through ${d.via} (${d.summary})`
          : `no etcd member any more (removed before: not removed twice); ${d.summary}`,
      );
      return { kind: 'wait', ms: 0 };
    }

    if (n.step === 'member-removed') {
      const r = await redeployNode(ctx, op, n, say);
      if (typeof r === 'string') return { kind: 'wait', ms: poll, message: r };
      return r;
    }

    if (n.step === 'redeployed') {
      const shell = operationShell(ctx, op);
      const q = await quorumOf(ctx, shell, n.hostname);
      const stale = q.members.find((m) => m.name === n.hostname);
      if (stale) {
        // A member of its name with no join asked in this job: its old member was never
        // removed (not by this operation: `member-removed` removes it), and a join would only
        // clash with it.
        if (!(await ctx.store.findAgentTask(ctx.job.id, AgentTask.Bootstrap, n.machineId)))
          return say.halt(
            n,
            `an etcd member named ${n.hostname} (${stale.id}) is listed though its join was never asked: its old member is still there; remove it (etcdctl member remove ${stale.id}) and retry`,
          );
        // A member of its name again: the join asked before a restart is under way.
        n.step = 'joining';
        await tell('its etcd member is back: the kubeadm join asked before is awaited');
        return { kind: 'wait', ms: 0 };
      }
      if (!q.decision.ok) return say.halt(n, `join refused: ${q.decision.reason}`);
      const via = q.decision.via;
      const j = await controlPlaneJoin(shell, via);
      const spec = parseClusterFile(ctx.cluster.clusterFile, 'Cluster file');
      const plan = ctx.job.params.plan as Plan;
      const pki = JSON.parse(await ctx.store.getSecret(String(ctx.job.params.pkiSecret))) as PkiMaterial;
      // The init node rejoins as any control plane does: kubeadm init runs once per cluster.
      const asJoin: Plan = {
        ...plan,
        nodes: plan.nodes.map((x) => (x.hostname === n.hostname ? { ...x, init: false } : x)),
      };
      const r = await renderControlPlaneJoin(
        spec,
        asJoin,
        pki,
        resolveSecrets(spec, envSecrets),
        n.hostname,
        { token: j.token, certificateKey: j.certificateKey },
      );
      if (r.caHash !== j.caCertHash)
        return say.halt(
          n,
          `the cluster's CA (${j.caCertHash}) is not the one the region rendered its nodes with (${r.caHash}): was the CA replaced outside Ingot?`,
        );
      await shell.writeFile(n.hostname, r.configPath, Buffer.from(r.config));
      const machine = await ctx.store.getMachine(n.machineId);
      const t = await ctx.agent.task(machine, ctx.job.id, AgentTask.Bootstrap, {
        role: 'control-plane',
        script: r.bootstrap,
      });
      if (t.status === 'failed') return say.halt(n, `join failed: ${t.reason}`);
      n.step = 'joining';
      await tell(
        `kubeadm join ${j.endpoint} --control-plane asked, with a new certificate key (certificates uploaded) and a join token (1 h) made on ${via} (${q.decision.summary})`,
      );
      return { kind: 'wait', ms: 0 };
    }

    if (n.step === 'joining') {
      const machine = await ctx.store.getMachine(n.machineId);
      // Asked already (the task is keyed by job and machine): this only reads how it went.
      const t = await ctx.agent.task(machine, ctx.job.id, AgentTask.Bootstrap, {
        role: 'control-plane',
        script: '',
      });
      if (t.status === 'pending')
        return { kind: 'wait', ms: poll, message: `${n.hostname}: ${t.lastMessage ?? 'joining'}` };
      if (t.status === 'failed') return say.halt(n, `join failed: ${t.reason}`);
      let phases: string[];
      try {
        phases = checkBootstrapResult(t.result, 'control-plane').phases;
      } catch (e) {
        return say.halt(n, `join: ${(e as Error).message}`);
      }
      n.step = 'joined';
      await tell(`joined again as a control plane: ${phases.join(' → ')}`);
      return { kind: 'wait', ms: 0 };
    }

    if (n.step === 'joined') {
      const shell = operationShell(ctx, op);
      const q = await quorumOf(ctx, shell, n.hostname);
      const m = q.members.find((x) => x.name === n.hostname && x.started);
      const healthy = !!m && q.healthyOn.includes(n.hostname);
      const ready = await nodeReady(ctx, k, n.hostname);
      if (!healthy || !ready) {
        const since = Date.parse(n.stepAt ?? n.startedAt ?? new Date().toISOString());
        const what = !healthy ? 'its etcd member started and healthy' : 'its Node Ready';
        if (Date.now() - since > CP_READY_WITHIN_MS)
          return say.halt(n, `not ${what} within ${CP_READY_WITHIN_MS / 1000} s of its join`);
        return { kind: 'wait', ms: poll, message: `${n.hostname}: waiting for ${what}` };
      }
      await ctx.kube.uncordon(k, n.hostname);
      n.step = 'ready';
      n.state = 'done';
      n.endedAt = new Date().toISOString();
      await tell(`done: etcd member ${m.id} started and healthy, Node Ready, uncordoned`);
      return { kind: 'wait', ms: 0 };
    }
    return say.halt(n, `an OS replacement's control plane has no sub-step after ${n.step}`);
  } catch (e) {
    const err = toIngotError(e);
    if (err.retryable) throw err;
    // A command on a node that failed: before any member remove was asked nothing changed; a
    // remove that failed may still have been applied, so the node stays at its sub-step (a
    // retry reads the member list again).
    return n.step === null ? haltBefore(err.message) : say.halt(n, err.message);
  }
}
