/**
 * What the day-2 suite and bench share on the test bed: a kubeconfig for the bed's API, the
 * busybox httpd image in every node, and a one-replica Deployment `web` that prefers the worker
 * (node2) and tolerates the control plane, so it has somewhere to go when the worker dies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppsV1Api, type CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ApiAccess } from '../../src/lab/testbed/api.ts';
import type { BedState } from '../../src/lab/testbed/bed.ts';
import { inNode } from '../../src/lab/testbed/node.ts';
import { httpdImage, IMAGE, waitFor } from './testbed.ts';

export function bedKubeConfig(api: ApiAccess): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'tb', server: api.server, caData: api.caData }],
    users: [{ name: 'admin', certData: api.certData, keyData: api.keyData }],
    contexts: [{ name: 'tb', cluster: 'tb', user: 'admin' }],
    currentContext: 'tb',
  });
  return kc;
}

/** Imports the httpd test image into every node's containerd. */
export async function importHttpd(bed: BedState): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ingot-httpd-'));
  try {
    const tar = httpdImage(work);
    for (const n of bed.nodes)
      await inNode(n.pid, 'ctr', [
        '--address',
        '/run/containerd/containerd.sock',
        '-n',
        'k8s.io',
        'images',
        'import',
        tar,
      ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

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
  const labels = { app: 'web' };
  await apps.createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 2,
            tolerations: [
              { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
              { key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' },
            ],
            affinity: {
              nodeAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    preference: {
                      matchExpressions: [
                        { key: 'kubernetes.io/hostname', operator: 'In', values: ['node2'] },
                      ],
                    },
                  },
                ],
              },
            },
            containers: [
              {
                name: 'httpd',
                image: IMAGE,
                imagePullPolicy: 'Never',
                command: [
                  '/bin/busybox',
                  'sh',
                  '-c',
                  'mkdir -p /www && exec /bin/busybox httpd -f -p 8080 -h /www',
                ],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
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
