/**
 * The `operation` step of a restore (kind `restore`, started by backup-restore.ts): each call
 * runs the next step of the procedure (restore-procedure.ts) through the members' node agents
 * and records it on the operation with its timeline line, so a region that takes the job over
 * (its lease expired: the region running it died) resumes at the step after the last recorded,
 * and says so on the timeline (`cluster.restore.takeover`).
 *
 * Ends: done → the operation succeeded (`cluster.restore.done`), the job done, the cluster
 * running. A failure whose way back put the old data in place → the operation failed
 * (`cluster.restore.failed`, "nothing changed") but the job done: the cluster runs on its old
 * data. Any other failure → the operation failed with the step and what is left on the nodes,
 * the job failed: the cluster is failed_updating, and `ingot cluster retry` resumes at that step.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster } from '../../core/cluster.ts';
import { toIngotError } from '../../core/errors.ts';
import { nextRestoreStep, type RestoreProgress } from '../../core/etcd-restore.ts';
import type { NewEvent } from '../../core/event.ts';
import type { ClusterOperation, OperationProgress } from '../../core/operation.ts';
import type { NodeShell } from '../../kube/etcd/shell.ts';
import type { SnapshotRecord } from '../../kube/etcd/snapshot.ts';
import type { StepOutcome } from '../steps.ts';
import { AgentNodeShell, type TaskWaitOptions } from './agent-shell.ts';
import { etcdNodes } from './backups.ts';
import { type ClusterStepContext, kubeconfig } from './context.ts';
import { ACTIVE, operationEvent } from './operation-record.ts';
import { restoreStep } from './restore-procedure.ts';

/** What a region needs to run restores (region.ts wires its BackupService). */
export interface ClusterRestoreDeps {
  /** Where AgentNodeShell stages the snapshot for the node agents. */
  readonly artifactsDir: string;
  /** The backup's record and bytes, checked against its SHA-256. */
  read(cluster: Cluster, backup: string): Promise<{ record: SnapshotRecord; data: Buffer }>;
  readonly wait?: TaskWaitOptions;
  /** How long the API may take after etcd answers again. @default 300 s */
  readonly apiWithinMs?: number;
  /** A NodeShell other than the node agents' (tests). */
  shell?(cluster: Cluster, op: string): NodeShell;
}

const ev = (
  ctx: ClusterStepContext,
  op: ClusterOperation,
  type: string,
  level: NewEvent['level'],
  message: string,
  data: Record<string, unknown> = {},
): NewEvent => operationEvent(ctx, op, type, level, message, { backup: op.params.backup, ...data });

/** Writes the restore's progress (the operation still active); false when it ended meanwhile. */
async function save(
  ctx: ClusterStepContext,
  op: ClusterOperation,
  restore: RestoreProgress,
  events: NewEvent[],
  end?: { to: 'succeeded' | 'failed'; reason: string },
): Promise<boolean> {
  const progress: OperationProgress = { ...op.progress, restore };
  return (
    (await ctx.store.updateOperation(
      op.id,
      { from: ACTIVE, progress, ...(end ? { to: end.to, reason: end.reason } : {}) },
      events,
    )) !== null
  );
}

/** What a failure leaves on the nodes, by the last step recorded. */
function leftAs(r: RestoreProgress, backup: string): string {
  if (r.step === 'pending' || r.step === 'copied') return 'nothing changed on the nodes';
  const held = 'the static pod manifests held in /etc/kubernetes/manifests-ingot-restore';
  if (r.step === 'stopped' || r.step === 'restored')
    return `the control plane stopped (${held}), the old data in place`;
  const kept = `the old data kept in ${r.keptDataDirs.join(', ') || `<data-dir>.before-${backup}`}`;
  if (r.step === 'swapped') return `the restored data in place, ${held}, ${kept}`;
  return `the control plane started on the restored data, ${kept}`;
}

export async function runRestore(ctx: ClusterStepContext, op: ClusterOperation): Promise<StepOutcome> {
  const r0 = op.progress.restore;
  const backup = op.params.backup;
  if (!r0 || !backup) return { kind: 'fail', reason: `operation ${op.id} is a restore without its backup` };
  if (op.state === 'succeeded') return { kind: 'done', message: `restore ${op.id} succeeded` };
  if (op.state === 'failed')
    return r0.rolledBack
      ? { kind: 'done', message: `restore ${op.id} ${op.reason}` }
      : { kind: 'fail', reason: op.reason };
  if (op.state !== 'running') return { kind: 'fail', reason: `restore ${op.id} is ${op.state}` };
  const deps = ctx.restore;
  if (!deps)
    return {
      kind: 'fail',
      reason: `this region cannot run restores (it has no backup service); run it in a region that serves the API`,
    };
  const cluster = ctx.cluster;
  const runner = ctx.job.leaseOwner;
  const next = nextRestoreStep(r0);

  // A region taking the job over says so once, with where the procedure was.
  if (runner && r0.runner !== runner) {
    const events = r0.runner
      ? [
          ev(
            ctx,
            op,
            'cluster.restore.takeover',
            'warning',
            `restore of etcd backup ${backup}: taken over by ${runner} after step ${r0.step} (${r0.runner}, which ran it, stopped); resuming at ${next ?? 'the end'}`,
            { step: r0.step, from: r0.runner, to: runner },
          ),
        ]
      : [];
    if (!(await save(ctx, op, { ...r0, runner }, events))) return { kind: 'wait', ms: 0 };
    return { kind: 'wait', ms: 0, message: `restore: resuming at ${next}` };
  }

  const opId = `rs-${op.id}-${next}-${randomBytes(3).toString('hex')}`;
  const shell =
    deps.shell?.(cluster, opId) ??
    new AgentNodeShell({
      store: ctx.store,
      cluster,
      op: opId,
      artifactsDir: deps.artifactsDir,
      wait: deps.wait,
    });
  const k = await kubeconfig(ctx);
  try {
    const res = await restoreStep({
      shell,
      progress: r0,
      backup,
      controlPlanes: op.progress.nodes.map((n) => n.hostname),
      etcdNodes: etcdNodes(cluster),
      snapshot: () => deps.read(cluster, backup),
      apiAnswers: k ? async () => (await ctx.kube.conditions(k)).apiReachable : null,
      nodesHeard: k && ctx.kube.nodesHeard ? () => ctx.kube.nodesHeard!(k) : null,
      apiWithinMs: deps.apiWithinMs,
      say: (line) => {
        ctx.store
          .appendEvents([ev(ctx, op, 'cluster.restore.progress', 'info', line)])
          .catch(() => undefined);
      },
    });
    if (res.kind === 'wait') return { kind: 'wait', ms: ctx.limits.pollMs, message: res.message };
    if (res.kind === 'rolled-back') {
      const reason = `restore of etcd backup ${backup} failed, nothing changed: ${res.error.message}. The cluster runs on its old data; fix the cause and restore again`;
      await save(ctx, op, res.progress, [ev(ctx, op, 'cluster.restore.failed', 'warning', reason)], {
        to: 'failed',
        reason,
      });
      return { kind: 'done', message: reason };
    }
    const p = res.progress;
    if (p.step === 'done') {
      const nodes = p.nodes
        ? p.nodes.notBack.length
          ? `; ${p.nodes.back}/${p.nodes.total} nodes back, not back: ${p.nodes.notBack.join(', ')} (look at them)`
          : `; every node back (${p.nodes.total}) after ${p.nodesAfterSeconds} s`
        : '';
      const message = `restore of etcd backup ${backup} done: the API answered after ${p.apiAfterSeconds} s${nodes}; the old data is kept in ${p.keptDataDirs.join(', ')}`;
      await save(
        ctx,
        op,
        p,
        [
          ev(ctx, op, 'cluster.restore.progress', 'info', res.text, { step: p.step }),
          ev(ctx, op, 'cluster.restore.done', p.nodes?.notBack.length ? 'warning' : 'info', message, {
            keptDataDirs: p.keptDataDirs,
            apiAfterSeconds: p.apiAfterSeconds,
            nodes: p.nodes ?? null,
            nodesAfterSeconds: p.nodesAfterSeconds ?? null,
          }),
        ],
        { to: 'succeeded', reason: message },
      );
      return { kind: 'done', message };
    }
    await save(ctx, op, p, [ev(ctx, op, 'cluster.restore.progress', 'info', res.text, { step: p.step })]);
    return { kind: 'wait', ms: 0, message: `restore: ${p.step}` };
  } catch (e) {
    const err = toIngotError(e);
    if (err.retryable) throw err;
    const reason = `restore of etcd backup ${backup} failed at step ${next}: ${err.message}; left with ${leftAs(r0, backup)}. \`ingot cluster retry ${cluster.name}\` resumes at step ${next}`;
    await save(ctx, op, r0, [ev(ctx, op, 'cluster.restore.failed', 'error', reason)], {
      to: 'failed',
      reason,
    });
    return { kind: 'fail', reason };
  }
}
