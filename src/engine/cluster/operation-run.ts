/**
 * The `operation` step of a cluster-operation job: each call reads the operation, asks core
 * (`nextOperationStep`) what comes next, does that one thing — the etcd snapshot, one sub-step
 * of a control plane (its node agent regenerates the kube-apiserver manifest; the API answers
 * again; a certificate rotation: its certificates renewed and its static pods restarted; an
 * upgrade: drained first, kubeadm upgrade, its kubelet restarted, uncordoned), or of a worker batch (drained through the Eviction API, uncordoned, Ready) — records
 * it on the operation (compare-and-set on its state, events in the same write) and asks to be
 * called again. After a crash the job resumes here and the operation's progress says where
 * the roll was; the node agent's task is keyed by job and machine, so it never runs twice.
 * Pause waits between sub-steps; abort uncordons the batch it was in and ends; the first
 * failure halts with the node and the reason.
 */
import { AgentTask } from '../../core/agent-protocol.ts';
import { ErrorCode, IngotError, toIngotError } from '../../core/errors.ts';
import { nextOperationStep, OperationKind } from '../../core/operation.ts';
import { takeSnapshot } from '../../kube/etcd/snapshot.ts';
import type { StepOutcome } from '../steps.ts';
import { type ClusterStepContext, kubeconfig } from './context.ts';
import { type OperationRecorder, osReplaceStep } from './operation-os-replace.ts';
import { osReplaceControlPlane } from './operation-os-replace-cp.ts';
import { runRestore } from './restore-run.ts';
import { runDrain } from './drain-run.ts';
import { nodeScript } from './operation-scripts.ts';
import { clone, drainWaits, halt, nodeEvent, now, record } from './operation-record.ts';
import { CP_DONE, drainedText, startedText, succeededText } from './operation-texts.ts';

/** How long a control plane's API may take to answer after its manifest changed. */
const HEALTHY_WITHIN_MS = 5 * 60_000;
/** How long a worker batch may take to be Ready again. */
const READY_WITHIN_MS = 10 * 60_000;
/** A worker's drain deadline (PodDisruptionBudgets are retried until then). */
const DRAIN_TIMEOUT_MS = 5 * 60_000;

async function adminKubeconfig(ctx: ClusterStepContext): Promise<string> {
  const k = await kubeconfig(ctx);
  if (!k) throw new IngotError(ErrorCode.Conflict, `cluster ${ctx.cluster.name} has no admin kubeconfig`);
  return k;
}

export async function runOperation(ctx: ClusterStepContext): Promise<StepOutcome> {
  const id = ctx.job.params.operation;
  if (typeof id !== 'string') return { kind: 'fail', reason: `job ${ctx.job.id} names no operation` };
  const op = await ctx.store.getOperation(id);
  if (op.kind === OperationKind.Restore) return runRestore(ctx, op);
  if (op.kind === OperationKind.Drain) return runDrain(ctx, op);
  const next = nextOperationStep(op);
  const poll = ctx.limits.pollMs;
  const progress = clone(op.progress);
  const nodeOf = (h: string) => progress.nodes.find((n) => n.hostname === h)!;
  const recorder: OperationRecorder = {
    record: (events) =>
      record(
        ctx,
        op,
        progress,
        events.map((e) => nodeEvent(ctx, op, e.node, 'cluster.operation.node', e.message, e.level)),
      ),
    halt: (node, why) => halt(ctx, op, progress, node, why),
    drainWaits: (node) => drainWaits(ctx, op, progress, node),
  };

  if (next.kind === 'paused') return { kind: 'wait', ms: poll, message: `paused: ${op.reason}` };
  if (next.kind === 'end') {
    if (next.state === 'failed') return { kind: 'fail', reason: op.reason };
    if (next.state === 'aborted') {
      // A worker batch cut short is uncordoned (and an upgrade's control plane, drained first):
      // an abort leaves no node out of service.
      const k = await kubeconfig(ctx);
      // An OS replacement's control plane is too while its etcd member is not removed yet.
      const cpBack = (x: { step: string | null }) =>
        op.kind === OperationKind.Upgrade ||
        (op.kind === OperationKind.OsReplace && (x.step === null || x.step === 'drained'));
      for (const n of progress.nodes.filter(
        (x) => x.state === 'running' && (x.role === 'worker' || cpBack(x)),
      ))
        if (k) await ctx.kube.uncordon(k, n.hostname).catch(() => undefined);
      return { kind: 'done', message: `${op.kind} ${op.id} ${op.reason}` };
    }
    await finishOperation(ctx);
    return { kind: 'done', message: `${op.kind} ${op.id} succeeded` };
  }

  try {
    if (next.kind === 'snapshot') {
      // The init node, or the first control plane of an OS replacement that leaves it out; never
      // a reprovision's dead one (then the first live control plane of the cluster).
      const dead = new Set(op.params.dead ?? []);
      const live = (n: { hostname: string }) => !dead.has(n.hostname);
      const init =
        progress.nodes.find((n) => n.role === 'init' && live(n)) ??
        progress.nodes.find((n) => n.role !== 'worker' && live(n)) ??
        ctx.cluster.members
          .filter((m) => (m.role === 'init' || m.role === 'control-plane') && live(m))
          .sort((a, b) => a.order - b.order)[0];
      if (!init)
        return {
          kind: 'fail',
          reason: `cluster ${ctx.cluster.name} has no live control plane to take the etcd snapshot on`,
        };
      if (ctx.snapshots) {
        const rec = await takeSnapshot(ctx.snapshots.shell, {
          artifacts: ctx.snapshots.artifacts,
          cluster: ctx.cluster.name,
          node: init.hostname,
        });
        progress.snapshot = { state: 'done', id: rec.id, node: init.hostname };
        await record(ctx, op, progress, [
          nodeEvent(
            ctx,
            op,
            init,
            'cluster.operation.snapshot',
            `etcd snapshot ${rec.id} taken (sha256 ${rec.sha256.slice(0, 12)}…, revision ${rec.revision})`,
          ),
        ]);
      } else {
        const note =
          'no etcd snapshot: this region has no shell on the nodes (the node agent as NodeShell is not wired yet)';
        progress.snapshot = { state: 'skipped', note };
        await record(ctx, op, progress, [
          nodeEvent(ctx, op, init, 'cluster.operation.snapshot', note, 'warning'),
        ]);
      }
      return { kind: 'wait', ms: 0, message: 'etcd snapshot done' };
    }

    if (next.kind === 'control-plane') {
      const n = nodeOf(next.node);
      // An OS replacement's control plane: its etcd member swapped (operation-os-replace-cp.ts).
      if (op.kind === OperationKind.OsReplace) return osReplaceControlPlane(ctx, op, n, recorder);
      const k = await adminKubeconfig(ctx);
      // An upgrade restarts the node's kubelet, and a kubelet 1.20 that restarts reports every
      // container with a readiness probe unready until its first probe passes (kubernetes#78733,
      // #100277): a replica there drops out of its PodDisruptionBudget's count behind the PDB's
      // back, while the next node's drain may already be evicting the others. So the control
      // plane is drained first, as kubeadm's upgrade procedure says, and uncordoned once the API
      // answers; its kubelet restarts with no workload but DaemonSet and static pods on it.
      const drains = op.kind === OperationKind.Upgrade;
      // A drained control plane that halts is given back schedulable (a refused upgrade changed
      // nothing; a failed one left its kubelet as it was or restarted it): a retry drains it again.
      const cpHalt = async (why: string) => {
        if (!drains) return halt(ctx, op, progress, n, why);
        const back = await ctx.kube.uncordon(k, n.hostname).then(
          () => true,
          () => false,
        );
        n.step = null;
        return halt(ctx, op, progress, n, back ? `${why} (uncordoned; a retry drains it again)` : why);
      };
      if (next.step === null || (drains && next.step === 'drained')) {
        if (n.state === 'pending') {
          n.state = 'running';
          n.startedAt = now();
          await record(ctx, op, progress, [nodeEvent(ctx, op, n, 'cluster.operation.node', startedText(op))]);
        }
        if (drains && next.step === null) {
          const waits = drainWaits(ctx, op, progress, n);
          try {
            const d = await ctx.kube.drainNode(k, n.hostname, {
              timeoutMs: DRAIN_TIMEOUT_MS,
              force: false,
              onBlocked: waits.onBlocked,
            });
            await waits.done();
            n.step = 'drained';
            await record(ctx, op, progress, [
              nodeEvent(ctx, op, n, 'cluster.operation.node', drainedText(d)),
            ]);
          } catch (e) {
            await waits.settled();
            return cpHalt(toIngotError(e).message);
          }
          return { kind: 'wait', ms: 0 };
        }
        const machine = await ctx.store.getMachine(n.machineId);
        const script = await nodeScript(ctx, op, n.hostname, next.first ? 'first' : 'control-plane');
        const r = await ctx.agent.task(machine, ctx.job.id, AgentTask.Bootstrap, {
          role: 'control-plane',
          script,
        });
        if (r.status === 'pending')
          return { kind: 'wait', ms: poll, message: `${n.hostname}: ${r.lastMessage ?? 'reconfiguring'}` };
        if (r.status === 'failed') return cpHalt(r.reason);
        const [step, text] = CP_DONE[op.kind] ?? CP_DONE.reconfigure!;
        n.step = step;
        await record(ctx, op, progress, [nodeEvent(ctx, op, n, 'cluster.operation.node', text(next.first))]);
        return { kind: 'wait', ms: 0 };
      }
      // reconfigured → the cluster's API answers before the next control plane
      const c = await ctx.kube.conditions(k);
      if (!c.apiReachable) {
        if (Date.now() - Date.parse(n.startedAt ?? now()) > HEALTHY_WITHIN_MS)
          return halt(
            ctx,
            op,
            progress,
            n,
            `the API did not answer within ${HEALTHY_WITHIN_MS / 1000} s: ${c.apiError}`,
          );
        return { kind: 'wait', ms: poll, message: `${n.hostname}: waiting for the API` };
      }
      if (drains) await ctx.kube.uncordon(k, n.hostname);
      n.step = 'healthy';
      n.state = 'done';
      n.endedAt = now();
      await record(ctx, op, progress, [
        nodeEvent(
          ctx,
          op,
          n,
          'cluster.operation.node',
          `done: the API answers${drains ? ', uncordoned' : ''}`,
        ),
      ]);
      return { kind: 'wait', ms: 0 };
    }

    // a worker batch: every node drained, then uncordoned, then all Ready
    const k = await adminKubeconfig(ctx);
    const batch = next.nodes.map(nodeOf);
    for (const n of batch) {
      if (n.state !== 'pending') continue;
      n.state = 'running';
      n.startedAt = now();
      const dead = op.params.dead?.includes(n.hostname);
      if (
        !(await record(ctx, op, progress, [
          nodeEvent(
            ctx,
            op,
            n,
            'cluster.operation.node',
            dead
              ? `reprovisioning with image ${op.params.image} (dead already: not drained)`
              : 'cordoning and draining (Eviction API)',
          ),
        ]))
      )
        return { kind: 'wait', ms: 0 };
    }
    for (const n of batch.filter((x) => x.step === null)) {
      if (op.params.dead?.includes(n.hostname)) {
        // A reprovision's node was fenced and its Node deleted: nothing runs there to evict.
        n.step = 'drained';
        await record(ctx, op, progress, [
          nodeEvent(ctx, op, n, 'cluster.operation.node', 'not drained: fenced, its Node deleted already'),
        ]);
        return { kind: 'wait', ms: 0 };
      }
      const waits = drainWaits(ctx, op, progress, n);
      try {
        const d = await ctx.kube.drainNode(k, n.hostname, {
          timeoutMs: DRAIN_TIMEOUT_MS,
          force: false,
          onBlocked: waits.onBlocked,
        });
        await waits.done();
        n.step = 'drained';
        await record(ctx, op, progress, [nodeEvent(ctx, op, n, 'cluster.operation.node', drainedText(d))]);
      } catch (e) {
        await waits.settled();
        return halt(ctx, op, progress, n, toIngotError(e).message);
      }
      return { kind: 'wait', ms: 0 };
    }
    // An upgrade runs `kubeadm upgrade node` on each drained worker (its node agent), one
    // sub-step each; a reconfigure of the API server or a rotation changes nothing on a worker.
    if (op.kind === OperationKind.Upgrade)
      for (const n of batch.filter((x) => x.step === 'drained')) {
        const machine = await ctx.store.getMachine(n.machineId);
        const script = await nodeScript(ctx, op, n.hostname, 'worker');
        const r = await ctx.agent.task(machine, ctx.job.id, AgentTask.Bootstrap, { role: 'worker', script });
        if (r.status === 'pending')
          return { kind: 'wait', ms: poll, message: `${n.hostname}: ${r.lastMessage ?? 'upgrading'}` };
        if (r.status === 'failed') return halt(ctx, op, progress, n, r.reason);
        n.step = 'upgraded';
        await record(ctx, op, progress, [
          nodeEvent(
            ctx,
            op,
            n,
            'cluster.operation.node',
            `upgraded to ${op.params.target}: kubeadm upgrade node, kubelet restarted`,
          ),
        ]);
        return { kind: 'wait', ms: 0 };
      }
    // An OS replacement redeploys and rejoins each drained worker (operation-os-replace.ts).
    if (op.kind === OperationKind.OsReplace) {
      const r = await osReplaceStep(ctx, op, batch, recorder);
      if (r) return r;
    }
    const before =
      op.kind === OperationKind.Upgrade
        ? 'upgraded'
        : op.kind === OperationKind.OsReplace
          ? 'joined'
          : 'drained';
    for (const n of batch.filter((x) => x.step === before)) {
      await ctx.kube.uncordon(k, n.hostname);
      n.step = 'uncordoned';
      await record(ctx, op, progress, [nodeEvent(ctx, op, n, 'cluster.operation.node', 'uncordoned')]);
    }
    const c = await ctx.kube.conditions(k);
    if (!c.nodes || c.nodes.ready < c.nodes.total) {
      const started = Math.min(...batch.map((n) => Date.parse(n.startedAt ?? now())));
      if (Date.now() - started > READY_WITHIN_MS)
        return halt(
          ctx,
          op,
          progress,
          batch[0],
          `nodes Ready ${c.nodes?.ready ?? 0}/${c.nodes?.total ?? '?'} after ${READY_WITHIN_MS / 1000} s`,
        );
      return {
        kind: 'wait',
        ms: poll,
        message: `waiting for ${batch.map((n) => n.hostname).join(', ')} Ready`,
      };
    }
    for (const n of batch) {
      n.step = 'ready';
      n.state = 'done';
      n.endedAt = now();
    }
    await record(
      ctx,
      op,
      progress,
      batch.map((n) => nodeEvent(ctx, op, n, 'cluster.operation.node', 'done: Ready')),
    );
    return { kind: 'wait', ms: 0 };
  } catch (e) {
    const err = toIngotError(e);
    if (err.retryable) throw err;
    return halt(ctx, op, progress, null, err.message);
  }
}

/** The operation's successful end: the new Cluster file becomes the cluster's. */
export async function finishOperation(ctx: ClusterStepContext): Promise<void> {
  const id = ctx.job.params.operation as string;
  const op = await ctx.store.getOperation(id);
  if (op.state !== 'running') return;
  await ctx.store.updateOperation(
    id,
    {
      from: ['running'],
      to: 'succeeded',
      reason: 'every node done',
      // A reconfigure's or an upgrade's new Cluster file becomes the cluster's; a rotation and
      // an OS replacement change none.
      ...(op.kind !== OperationKind.CertRotate && op.kind !== OperationKind.OsReplace
        ? { clusterFile: op.params.clusterFile }
        : {}),
      // An upgrade's target becomes the cluster's version (the skew rules' fallback, the listing).
      ...(op.kind === OperationKind.Upgrade && op.params.target ? { version: op.params.target } : {}),
    },
    [
      {
        type: 'cluster.operation.succeeded',
        level: 'info',
        clusterId: ctx.cluster.id,
        jobId: ctx.job.id,
        actor: `engine:operation:${op.id}`,
        message: succeededText(op),
        data: { operation: op.id },
      },
    ],
  );
}
