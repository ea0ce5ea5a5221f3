/**
 * Restore of a cluster from one of its etcd backups: the stacked-etcd procedure of
 * src/kube/etcd/restore.ts (static pods stopped on every control plane, `etcdctl snapshot
 * restore` into new data directories as a new cluster, swapped, started), run through the
 * members' node agents (agent-shell.ts), then the API waited for. Admin only (the route says so)
 * and on the cluster's timeline from request to end, with who asked.
 *
 * Not yet a durable operation: it runs in the request's region, one per cluster at a time in that
 * region; a region that stops mid-restore leaves the procedure where it was (docs/day2.md).
 */
import { randomBytes } from 'node:crypto';
import { BackupState } from '../../core/backup.ts';
import { ClusterState } from '../../core/cluster-lifecycle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { KubePort } from '../../kube/port.ts';
import { restoreSnapshot } from '../../kube/etcd/restore.ts';
import type { Store } from '../../store/store.ts';
import { AgentNodeShell, type TaskWaitOptions } from './agent-shell.ts';
import { type BackupService, controlPlanes } from './backups.ts';

export interface RestoreResult {
  readonly backup: string;
  readonly controlPlanes: string[];
  /** The old data directories, kept on each node (`node:path`). */
  readonly keptDataDirs: string[];
  /** Seconds from the start until the API answered again. */
  readonly apiAfterSeconds: number;
}

const restoring = new Set<string>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function restoreBackup(
  o: { store: Store; backups: BackupService; kube?: KubePort; wait?: TaskWaitOptions; apiTimeoutMs?: number },
  ref: string,
  id: string,
  actor: string,
): Promise<RestoreResult> {
  const { store } = o;
  const { cluster: c, backup: b } = await o.backups.get(ref, id);
  if (b.state !== BackupState.Done || !b.location || !b.sha256)
    throw new IngotError(
      ErrorCode.Conflict,
      `backup ${id} is ${b.state}: only a done backup can be restored`,
    );
  if (c.state !== ClusterState.Running)
    throw new IngotError(
      ErrorCode.Conflict,
      `cluster ${c.name} is ${c.state}: a restore needs a running cluster`,
    );
  if (restoring.has(c.id))
    throw new IngotError(
      ErrorCode.Conflict,
      `cluster ${c.name} is being restored already; wait for it to end`,
    );
  restoring.add(c.id);
  const started = Date.now();
  const ev = (type: string, level: 'info' | 'warning', message: string, data: Record<string, unknown> = {}) =>
    store.appendEvents([{ type, level, actor, clusterId: c.id, message, data: { backup: id, ...data } }]);
  try {
    const data = await (await o.backups.targetFor(c, b.location)).read(b.location, b.sha256);
    const cps = controlPlanes(c);
    await ev(
      'cluster.restore.started',
      'warning',
      `restore of etcd backup ${id} (taken ${b.takenAt ? new Date(b.takenAt).toISOString() : '?'} on ${b.node}) started by ${actor} on ${cps.join(', ')}: everything written since is lost`,
      { controlPlanes: cps },
    );
    const shell = new AgentNodeShell({
      store,
      cluster: c,
      op: `rs-${id}-${randomBytes(4).toString('hex')}`,
      artifactsDir: o.backups.artifactsDir,
      wait: o.wait,
    });
    const r = await restoreSnapshot(shell, {
      controlPlanes: cps,
      snapshot: {
        record: {
          id,
          cluster: c.name,
          node: b.node ?? '',
          takenAt: new Date(b.takenAt ?? b.createdAt).toISOString(),
          sha256: b.sha256,
          bytes: b.sizeBytes ?? data.length,
          revision: b.revision ?? 0,
          totalKeys: b.totalKeys ?? 0,
          hash: 0,
        },
        data,
      },
      say: (line) => {
        store
          .appendEvents([
            { type: 'cluster.restore.progress', actor, clusterId: c.id, message: line, data: { backup: id } },
          ])
          .catch(() => undefined);
      },
    });
    // The API answering again: the control plane is back on the restored data.
    const kubeconfig = await store.clusterKubeconfig(c.id);
    if (o.kube && kubeconfig) {
      const end = Date.now() + (o.apiTimeoutMs ?? 300_000);
      while (!(await o.kube.conditions(kubeconfig)).apiReachable) {
        if (Date.now() > end)
          throw new IngotError(
            ErrorCode.Timeout,
            `restore of ${id}: etcd is back but the API did not answer in ${(o.apiTimeoutMs ?? 300_000) / 1000} s`,
          );
        await sleep(2000);
      }
    }
    const apiAfterSeconds = Math.round((Date.now() - started) / 100) / 10;
    await ev(
      'cluster.restore.done',
      'info',
      `restore of etcd backup ${id} done: the API answered after ${apiAfterSeconds} s`,
      {
        keptDataDirs: r.keptDataDirs,
      },
    );
    return { backup: id, controlPlanes: cps, keptDataDirs: r.keptDataDirs, apiAfterSeconds };
  } catch (e) {
    await ev(
      'cluster.restore.failed',
      'warning',
      `restore of etcd backup ${id} failed: ${(e as Error).message}`,
    );
    throw e;
  } finally {
    restoring.delete(c.id);
  }
}
