import type { RenderContext } from '../context.ts';
import { IMAGES } from '../versions.ts';
import type { K8sObject } from './helm.ts';

/**
 * kubeadm clusters get the same helm-controller k3s and RKE2 embed, so every distribution
 * installs add-ons from identical HelmChart resources. It runs on the host network and
 * tolerates not-ready control planes: it has to install the CNI.
 */
export function helmControllerManifests(ctx: RenderContext): K8sObject[] {
  if (ctx.spec.spec.distribution !== 'kubeadm') return [];
  const labels = { 'app.kubernetes.io/name': 'helm-controller' };
  const ns = 'kube-system';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'helm-controller', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'helm-controller' },
      // Installing arbitrary charts needs cluster-admin, exactly as in k3s/RKE2.
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'helm-controller', namespace: ns }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'helm-controller', namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'helm-controller',
            hostNetwork: true,
            priorityClassName: 'system-cluster-critical',
            nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
            tolerations: [
              { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
              { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' },
              {
                key: 'node.cloudprovider.kubernetes.io/uninitialized',
                operator: 'Exists',
                effect: 'NoSchedule',
              },
            ],
            containers: [
              {
                name: 'helm-controller',
                image: IMAGES.helmController,
                imagePullPolicy: 'IfNotPresent',
                command: ['helm-controller'],
                env: [
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  { name: 'JOB_CLUSTER_ROLE', value: 'cluster-admin' },
                ],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  runAsUser: 65534,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    },
  ];
}
