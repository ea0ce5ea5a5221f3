/**
 * The workloads the test-bed suites run, written once: a Deployment of busybox httpd pods (the
 * image `importHttpd` puts on the nodes, never pulled) and a PodDisruptionBudget over it. Each
 * suite says only what differs — name, replicas, where the pods may go — so a change of image,
 * probe or toleration happens in one place.
 */
import {
  type AppsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Affinity,
  type V1Probe,
  type V1ResourceRequirements,
} from '@kubernetes/client-node';

/** The busybox httpd image `importHttpd` (testbed.ts) makes and imports into the nodes' containerd. */
export const IMAGE = 'ingot.test/httpd:1';

/** Where the policy/v1beta1 PodDisruptionBudgets of the 1.20 bed live (the client has no typed API for v1beta1). */
export const PDB_API = {
  group: 'policy',
  version: 'v1beta1',
  namespace: 'default',
  plural: 'poddisruptionbudgets',
} as const;

export interface HttpdDeployment {
  name: string;
  replicas: number;
  /** The pods' labels and the Deployment's selector; default `{ app: name }`. */
  labels?: Record<string, string>;
  /** Also run on control-plane nodes (tolerate their NoSchedule taints). */
  onControlPlanes?: boolean;
  affinity?: V1Affinity;
  nodeSelector?: Record<string, string>;
  resources?: V1ResourceRequirements;
  /** Seconds a deleted pod is given; Kubernetes' default (30) when unset. */
  terminationGracePeriodSeconds?: number;
  namespace?: string;
  /** The pods' readiness probe; default: the port answers, checked every second. */
  readinessProbe?: V1Probe;
}

/**
 * Creates a Deployment of busybox httpd pods serving /www on port 8080 (index.html: the pod's
 * hostname), Ready once the port answers.
 */
export async function createHttpd(apps: AppsV1Api, d: HttpdDeployment): Promise<void> {
  const labels = d.labels ?? { app: d.name };
  await apps.createNamespacedDeployment({
    namespace: d.namespace ?? 'default',
    body: {
      metadata: { name: d.name },
      spec: {
        replicas: d.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: d.terminationGracePeriodSeconds,
            tolerations: d.onControlPlanes
              ? [
                  { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
                  { key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' },
                ]
              : undefined,
            affinity: d.affinity,
            nodeSelector: d.nodeSelector,
            containers: [
              {
                name: 'httpd',
                image: IMAGE,
                imagePullPolicy: 'Never',
                command: [
                  '/bin/busybox',
                  'sh',
                  '-c',
                  // A shell that leaves on SIGTERM, as a real server does: busybox httpd as the
                  // container's PID 1 has no handler, the kernel drops the signal, and every
                  // deleted or evicted pod held its node's drain for the whole grace period.
                  'mkdir -p /www && echo "$HOSTNAME" > /www/index.html || exit 1; trap "exit 0" TERM; /bin/busybox httpd -f -p 8080 -h /www & wait',
                ],
                ports: [{ containerPort: 8080 }],
                resources: d.resources,
                readinessProbe: d.readinessProbe ?? { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
  });
}

/** Creates the PodDisruptionBudget `name` keeping `minAvailable` of the pods labelled `labels` (default `{ app: name }`). */
export async function createPdb(
  kc: KubeConfig,
  p: { name: string; minAvailable: number; labels?: Record<string, string> },
): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    ...PDB_API,
    body: {
      apiVersion: 'policy/v1beta1',
      kind: 'PodDisruptionBudget',
      metadata: { name: p.name },
      spec: { minAvailable: p.minAvailable, selector: { matchLabels: p.labels ?? { app: p.name } } },
    },
  });
}
