/**
 * A control-plane scale's own step, `scale-control-planes` (docs/day2.md "Scale"), the way
 * kubeadm's HA guide and Cluster API's KubeadmControlPlane do it: one control plane at a time,
 * one sub-step per call, each recorded on the cluster's timeline under the scale's id (which a
 * `retry` keeps: the sub-steps done are not done again by the retry's new job).
 *
 * Scale out (the new control planes were allocated, planned and deployed by the job's
 * `deploy-nodes` with their control-plane node files; `scale-join` leaves them alone), each:
 *   the quorum checked (core's decideMemberAdd: every member answers; a member of its name
 *   already there is not added again), on a healthy control plane a new certificate key with
 *   the certificates uploaded and a join token (members.ts controlPlaneJoin), its
 *   JoinConfiguration rendered with them and written to it, its node agent's `bootstrap`
 *   (`kubeadm join --control-plane`) asked → `cluster.node.cp-join`
 *   → joined → `cluster.node.bootstrapped`
 *   → its etcd member started and healthy and its Node Ready (10 min) → `cluster.node.cp-ready`.
 * Scale in (newest first), each:
 *   the quorum checked (decideMemberLeave), cordoned and drained (Eviction API, PDBs honoured:
 *   a blocked drain waits, said on the timeline) → `cluster.node.drained`
 *   → the quorum checked again, its member removed through another healthy member, read from
 *   the member list each time (gone already after a crash: not removed twice) →
 *   `cluster.node.etcd-removed`
 *   → its Node deleted → `cluster.node.deleted`; `scale-release` then releases its machine with
 *   the wipe and drops the member, as for a worker.
 *
 * The credentials go to the node only (node agent tasks are sealed at rest): never on the
 * timeline, in the progress or a log. An `external` endpoint is the operator's load balancer:
 * the timeline says which address to add or remove.
 */
import { randomBytes } from 'node:crypto';
import type { Plan } from '../../cluster/plan/types.ts';
import type { PkiMaterial } from '../../cluster/pki/types.ts';
import { renderControlPlaneJoin } from '../../cluster/render/index.ts';
import { resolveSecrets } from '../../cluster/render/secrets.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { ClusterSpec } from '../../cluster/spec/types.ts';
import { AgentTask } from '../../core/agent-protocol.ts';
import type { ClusterMember } from '../../core/cluster.ts';
import { decideMemberAdd, decideMemberLeave } from '../../core/control-plane-scale.ts';
import { ErrorCode, isIngotError, toIngotError } from '../../core/errors.ts';
import { checkBootstrapResult } from '../../core/node-agent-protocol.ts';
import type { IngotEvent } from '../../core/event.ts';
import { controlPlaneJoin, removeMember } from '../../kube/etcd/members.ts';
import type { StepEvent, StepOutcome } from '../steps.ts';
import { envSecrets } from './actions.ts';
import { controlPlaneReplaceGap } from './control-plane-spare.ts';
import { type ClusterStepContext, kubeconfig, note } from './context.ts';
import { drainedText } from './operation-texts.ts';
import { CP_READY_WITHIN_MS, clusterShell, memberView, nodeReady } from './operation-os-replace-cp.ts';

/** How long one drain attempt waits on a PodDisruptionBudget before the step asks again. */
const DRAIN_ATTEMPT_MS = 60_000;

/** A control-plane scale's hostnames and the id its timeline records carry (kept by a retry). */
export interface ControlPlaneScale {
  readonly id: string;
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

export const newControlPlaneScaleId = (): string => `cps-${randomBytes(4).toString('hex')}`;

export function controlPlaneScaleOf(params: Record<string, unknown>): ControlPlaneScale | null {
  const c = params.controlPlanes as Partial<ControlPlaneScale> | undefined;
  if (!c || typeof c.id !== 'string') return null;
  const strings = (x: unknown) => (Array.isArray(x) ? x.filter((v) => typeof v === 'string') : []);
  return { id: c.id, add: strings(c.add), remove: strings(c.remove) };
}

/**
 * Why the control planes of this cluster cannot be scaled, or null: kubeadm with stacked etcd,
 * and an API endpoint that follows its control planes (kube-vip in ARP mode: its static pod
 * comes with a control plane's node files; an external load balancer: the operator's, told
 * on the timeline).
 */
export function controlPlaneScaleGap(spec: ClusterSpec): string | null {
  const s = spec.spec;
  const gap = controlPlaneReplaceGap(spec, 'scales');
  if (gap) return gap;
  if (s.endpoint.mode === 'kube-vip' && s.endpoint.kubeVip.mode === 'bgp')
    return "its API address is announced by kube-vip over BGP, and the routers' sessions Ingot rendered (tor/*.conf) name each control plane as a neighbour: a new one would not be peered, a removed one would stay configured; the endpoint would not follow the change";
  return null;
}

/** The address (no prefix length) a member is reached at. */
const ipOf = (m: ClusterMember): string => m.address.split('/')[0];

/**
 * This scale's records on its members' timelines (a machine's history is short; the cluster's
 * grows with every job), by type, then by hostname (newest kept).
 */
async function records(
  ctx: ClusterStepContext,
  scale: ControlPlaneScale,
): Promise<Map<string, Map<string, IngotEvent>>> {
  const machines = ctx.cluster.members.filter(
    (m) => scale.add.includes(m.hostname) || scale.remove.includes(m.hostname),
  );
  const ev = (
    await Promise.all(
      machines.map((m) =>
        ctx.store.listEvents({ machineId: m.machineId, clusterId: ctx.cluster.id, limit: 1_000_000 }),
      ),
    )
  )
    .flat()
    .sort((x, y) => x.id - y.id);
  const out = new Map<string, Map<string, IngotEvent>>();
  for (const e of ev) {
    if (e.data?.scale !== scale.id || typeof e.data.hostname !== 'string') continue;
    const byHost = out.get(e.type) ?? new Map<string, IngotEvent>();
    byHost.set(e.data.hostname, e);
    out.set(e.type, byHost);
  }
  return out;
}

export async function scaleControlPlanes(ctx: ClusterStepContext): Promise<StepOutcome> {
  const scale = controlPlaneScaleOf(ctx.job.params);
  if (!scale) return { kind: 'done', message: 'no control planes to add or remove' };
  const k = await kubeconfig(ctx);
  if (!k) return { kind: 'fail', reason: 'no admin kubeconfig: the cluster API cannot be asked' };
  const rec = await records(ctx, scale);
  const has = (type: string, h: string) => rec.get(type)?.has(h) ?? false;
  const spec = parseClusterFile(ctx.cluster.clusterFile, 'Cluster file');
  const say = (
    m: ClusterMember,
    type: string,
    message: string,
    level: StepEvent['level'] = 'info',
  ): StepEvent => {
    const e = note(m, type, message, level);
    return { ...e, data: { ...e.data, scale: scale.id } };
  };
  const member = (h: string) => ctx.cluster.members.find((m) => m.hostname === h);
  const lb =
    spec.spec.endpoint.mode === 'external'
      ? `${spec.spec.endpoint.address}:${spec.spec.endpoint.port}`
      : null;
  // The node at hand, named in a failure (a node command that failed, the API refusing).
  let at = '';
  try {
    for (const h of scale.add) {
      const m = member(h);
      if (!m) return { kind: 'fail', reason: `${h} is no member of the cluster any more` };
      if (has('cluster.node.cp-ready', h)) continue;
      at = `${h}: `;
      return await addOne(ctx, m, k, spec, rec, say, lb);
    }
    for (const h of scale.remove) {
      const m = member(h);
      if (!m || has('cluster.node.deleted', h)) continue;
      at = `${h}: `;
      return await removeOne(ctx, m, k, rec, say, lb);
    }
  } catch (e) {
    const err = toIngotError(e);
    if (err.retryable) throw err;
    return { kind: 'fail', reason: `${at}${err.message}` };
  }
  const what = [
    scale.add.length ? `${scale.add.join(', ')} joined as control planes` : '',
    scale.remove.length ? `${scale.remove.join(', ')} left the control plane` : '',
  ];
  return { kind: 'done', message: what.filter(Boolean).join('; ') };
}

type Say = (m: ClusterMember, type: string, message: string, level?: StepEvent['level']) => StepEvent;
type Records = Map<string, Map<string, IngotEvent>>;

/** One sub-step of adding the control plane `m`. */
async function addOne(
  ctx: ClusterStepContext,
  m: ClusterMember,
  k: string,
  spec: ClusterSpec,
  rec: Records,
  say: Say,
  lb: string | null,
): Promise<StepOutcome> {
  const h = m.hostname;
  // A join that failed is asked again by a retry (after the quorum check, which refuses while
  // a member it may have left behind does not answer).
  const joinFailed = rec.get('cluster.node.cp-join-failed')?.get(h);
  const askedAt = rec.get('cluster.node.cp-join')?.get(h);
  const asked = askedAt && (!joinFailed || joinFailed.id < askedAt.id) ? askedAt : undefined;
  const shell = clusterShell(ctx, `cps-${ctx.job.id}`);
  const fail = (why: string): StepOutcome => ({ kind: 'fail', reason: `${h}: ${why}` });
  if (!asked) {
    const view = await memberView(ctx, shell, h);
    const d = decideMemberAdd({ node: h, ...view });
    if (!d.ok) return fail(`refused: ${d.reason} (nothing changed; a retry checks again)`);
    const machine = await ctx.store.getMachine(m.machineId);
    // Its member is there, or its bootstrap task was asked already (a crash before the record):
    // the join is under way, not asked twice.
    const task = await ctx.store.findAgentTask(ctx.job.id, AgentTask.Bootstrap, m.machineId);
    if (!view.members.some((x) => x.name === h) && !task) {
      const j = await controlPlaneJoin(shell, d.via);
      const plan = ctx.job.params.plan as Plan;
      const pki = JSON.parse(await ctx.store.getSecret(String(ctx.job.params.pkiSecret))) as PkiMaterial;
      const r = await renderControlPlaneJoin(spec, plan, pki, resolveSecrets(spec, envSecrets), h, {
        token: j.token,
        certificateKey: j.certificateKey,
      });
      if (r.caHash !== j.caCertHash)
        return fail(
          `the cluster's CA (${j.caCertHash}) is not the one the region rendered its nodes with (${r.caHash}): was the CA replaced outside Ingot?`,
        );
      await shell.writeFile(h, r.configPath, Buffer.from(r.config));
      const t = await ctx.agent.task(machine, ctx.job.id, AgentTask.Bootstrap, {
        role: 'control-plane',
        script: r.bootstrap,
      });
      if (t.status === 'failed') return fail(`join failed: ${t.reason}`);
    }
    const e = say(
      m,
      'cluster.node.cp-join',
      `quorum kept (${d.summary}); kubeadm join --control-plane asked, with a new certificate key (certificates uploaded) and a join token (1 h) made on ${d.via}${lb ? `; the API endpoint is an external load balancer: add ${ipOf(m)}:${spec.spec.endpoint.port} to its backends (${lb})` : ''}`,
    );
    return { kind: 'wait', ms: 0, events: [{ ...e, data: { ...e.data, job: ctx.job.id } }] };
  }
  // A retry's job gives the wait its time again.
  const started = Math.max(Date.parse(asked.at), Date.parse(ctx.job.createdAt));
  if (!rec.get('cluster.node.bootstrapped')?.has(h)) {
    const job = typeof asked.data.job === 'string' ? asked.data.job : ctx.job.id;
    // Asked already (the task is keyed by job and machine): this only reads how it went.
    const t = await ctx.agent.task(await ctx.store.getMachine(m.machineId), job, AgentTask.Bootstrap, {
      role: 'control-plane',
      script: '',
    });
    if (t.status === 'pending')
      return { kind: 'wait', ms: ctx.limits.pollMs, message: `${h}: ${t.lastMessage ?? 'joining'}` };
    if (t.status === 'failed')
      return {
        ...fail(`join failed: ${t.reason}`),
        events: [
          say(m, 'cluster.node.cp-join-failed', `kubeadm join --control-plane failed: ${t.reason}`, 'error'),
        ],
      };
    const phases = checkBootstrapResult(t.result, 'control-plane').phases;
    return {
      kind: 'wait',
      ms: 0,
      events: [say(m, 'cluster.node.bootstrapped', `joined as a control plane: ${phases.join(' → ')}`)],
    };
  }
  const view = await memberView(ctx, clusterShell(ctx, `cps-${ctx.job.id}`), '');
  const mem = view.members.find((x) => x.name === h && x.started);
  const healthy = !!mem && view.healthyOn.includes(h);
  const ready = await nodeReady(ctx, k, h);
  if (!healthy || !ready) {
    const what = !healthy ? 'its etcd member started and healthy' : 'its Node Ready';
    if (Date.now() - started > CP_READY_WITHIN_MS)
      return fail(`not ${what} within ${CP_READY_WITHIN_MS / 1000} s of its join`);
    return { kind: 'wait', ms: ctx.limits.pollMs, message: `${h}: waiting for ${what}` };
  }
  return {
    kind: 'wait',
    ms: 0,
    events: [say(m, 'cluster.node.cp-ready', `etcd member ${mem.id} started and healthy, Node Ready`)],
  };
}

/** One sub-step of removing the control plane `m`. */
async function removeOne(
  ctx: ClusterStepContext,
  m: ClusterMember,
  k: string,
  rec: Records,
  say: Say,
  lb: string | null,
): Promise<StepOutcome> {
  const h = m.hostname;
  const fail = (why: string): StepOutcome => ({ kind: 'fail', reason: `${h}: ${why}` });
  if (!rec.get('cluster.node.drained')?.has(h)) {
    const shell = clusterShell(ctx, `cps-${ctx.job.id}`);
    const d = decideMemberLeave({ node: h, ...(await memberView(ctx, shell, h)) });
    if (!d.ok) return fail(`refused: ${d.reason} (nothing changed; a retry checks again)`);
    const events: StepEvent[] = [];
    if (!rec.get('cluster.node.drain')?.has(h))
      events.push(
        say(m, 'cluster.node.drain', `quorum kept (${d.summary}); cordoned, draining (Eviction API)`),
      );
    try {
      const r = await ctx.kube.drainNode(k, h, { timeoutMs: DRAIN_ATTEMPT_MS, force: false });
      events.push(
        say(
          m,
          'cluster.node.drained',
          `${drainedText(r)}${lb ? `; the API endpoint is an external load balancer: remove ${ipOf(m)} from its backends (${lb})` : ''}`,
        ),
      );
    } catch (e) {
      if (isIngotError(e, ErrorCode.DrainBlocked)) {
        const b = say(m, 'cluster.node.drain-blocked', `drain waits: ${e.message}`, 'warning');
        events.push({ ...b, data: { ...b.data, pdb: e.details.pdb, pod: e.details.pod } });
        return {
          kind: 'wait',
          ms: ctx.limits.pollMs,
          message: `${h}: blocked by PDB ${e.details.pdb}`,
          events,
        };
      }
      throw e;
    }
    return { kind: 'wait', ms: 0, events };
  }
  if (!rec.get('cluster.node.etcd-removed')?.has(h)) {
    const shell = clusterShell(ctx, `cps-${ctx.job.id}`);
    const d = decideMemberLeave({ node: h, ...(await memberView(ctx, shell, h)) });
    if (!d.ok) return fail(`refused: ${d.reason} (cordoned, its member kept; a retry checks again)`);
    if (d.remove) await removeMember(shell, d.via, d.remove.id);
    return {
      kind: 'wait',
      ms: 0,
      events: [
        say(
          m,
          'cluster.node.etcd-removed',
          d.remove
            ? `etcd member ${d.remove.id} removed through ${d.via} (${d.summary})`
            : `no etcd member any more (removed before: not removed twice); ${d.summary}`,
        ),
      ],
    };
  }
  const was = await ctx.kube.deleteNode(k, h);
  return {
    kind: 'wait',
    ms: 0,
    events: [
      say(m, 'cluster.node.deleted', was ? 'Node deleted from the cluster API' : 'Node was already gone'),
    ],
  };
}
