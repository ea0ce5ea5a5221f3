/**
 * What the day-2 suites and bench share on the test bed: a one-replica Deployment `web` (the
 * busybox httpd image, `importHttpd` first) that prefers the worker (node2) and tolerates the
 * control plane, so it has somewhere to go when the worker dies; the etcd restore drill.
 */
import assert from 'node:assert/strict';
import type { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { restoreSnapshot } from '../../src/kube/etcd/restore.ts';
import type { NodeShell } from '../../src/kube/etcd/shell.ts';
import { readSnapshot, type SnapshotRecord, takeSnapshot } from '../../src/kube/etcd/snapshot.ts';
import { eventually, waitFor } from './testbed.ts';
import { createHttpd } from './workloads.ts';

export async function webPods(core: CoreV1Api): Promise<{ name: string; node: string; ready: boolean }[]> {
  return (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => ({
      name: p.metadata!.name!,
      node: p.spec?.nodeName ?? '',
      ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    }));
}

/** Creates the `web` Deployment and waits for its pod Ready on node2. */
export async function webOnWorker(core: CoreV1Api, apps: AppsV1Api): Promise<void> {
  await createHttpd(apps, {
    name: 'web',
    replicas: 1,
    terminationGracePeriodSeconds: 2,
    onControlPlanes: true,
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            preference: {
              matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node2'] }],
            },
          },
        ],
      },
    },
  });
  await waitOnNode(core, 'node2', 120_000);
}

/** Waits for the web pod Ready on `node`. */
export function waitOnNode(core: CoreV1Api, node: string, ms: number): Promise<void> {
  return waitFor(
    async () => (await webPods(core)).some((p) => p.node === node && p.ready),
    ms,
    `web Ready on ${node}`,
  );
}

/** Moves the web pod back to node2 (deleted; its replacement prefers node2). */
export async function webBackOnWorker(core: CoreV1Api): Promise<void> {
  for (const p of await webPods(core)) await core.deleteNamespacedPod({ namespace: 'default', name: p.name });
  await waitOnNode(core, 'node2', 120_000);
}

/**
 * The restore drill (docs/day2.md): ConfigMap `before-snapshot` created; a snapshot taken on
 * `snapshotOn` (`afterSnapshot` sees it before anything changes); `before-snapshot` deleted and
 * `after-snapshot` created; the snapshot restored on every control plane. Then the first is back
 * with its data, the second gone, every node Ready, and a write succeeds. Returns the seconds
 * from the restore's start to the API answering with the restored data.
 */
export async function restoreDrill(
  core: CoreV1Api,
  shell: NodeShell,
  o: {
    artifacts: string;
    cluster: string;
    snapshotOn: string;
    controlPlanes: readonly string[];
    afterSnapshot?: (r: SnapshotRecord) => void;
  },
): Promise<number> {
  await eventually(() =>
    core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'before-snapshot' }, data: { at: 'before' } },
    }),
  );
  const rec = await takeSnapshot(shell, { artifacts: o.artifacts, cluster: o.cluster, node: o.snapshotOn });
  o.afterSnapshot?.(rec);
  await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'before-snapshot' });
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'after-snapshot' }, data: { at: 'after' } },
  });

  const t = Date.now();
  const done = await restoreSnapshot(shell, {
    controlPlanes: o.controlPlanes,
    snapshot: readSnapshot(o.artifacts, o.cluster, rec.id),
    say: (l) => process.stderr.write(`restore: ${l}\n`),
  });
  assert.deepEqual(done.members.map((m) => m.name).sort(), [...o.controlPlanes].sort());
  await assertRestored(core, { back: 'before-snapshot', gone: 'after-snapshot' });
  const seconds = (Date.now() - t) / 1000;
  await workingAfterRestore(core);
  return seconds;
}

/** After a restore: ConfigMap `back` (data `at: before`) is there again, `gone` (made after the snapshot) is not. */
export async function assertRestored(core: CoreV1Api, o: { back: string; gone: string }): Promise<void> {
  const cm = await eventually(
    () => core.readNamespacedConfigMap({ namespace: 'default', name: o.back }),
    300_000,
  );
  assert.equal(cm.data?.at, 'before');
  await assert.rejects(
    core.readNamespacedConfigMap({ namespace: 'default', name: o.gone }),
    (e) => (e as { code?: number }).code === 404,
  );
}

/** The cluster works on after a restore: every node Ready, a write succeeds. */
export async function workingAfterRestore(core: CoreV1Api): Promise<void> {
  await waitFor(
    async () =>
      (await core.listNode()).items.every((n) =>
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ),
    180_000,
    'every node Ready after the restore',
  );
  await eventually(() =>
    core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after-restore' } } }),
  );
}
