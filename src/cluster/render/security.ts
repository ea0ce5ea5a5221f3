import type { RenderContext } from './context.ts';
import { toYamlDirect } from './yaml-emit.ts';

/** Where Ingot puts API server side files on kubeadm control planes (mounted read-only). */
export const KUBEADM_DIR = '/etc/kubernetes/ingot';

/**
 * Audit policy: metadata for everything, full request/response for changes to RBAC and
 * secrets' metadata only (never their payload), nothing for noisy read-only health traffic.
 */
export function auditPolicy(): string {
  return toYamlDirect({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      {
        level: 'None',
        users: ['system:kube-proxy'],
        verbs: ['watch'],
        resources: [{ group: '', resources: ['endpoints', 'services', 'services/status'] }],
      },
      { level: 'None', nonResourceURLs: ['/healthz*', '/livez*', '/readyz*', '/version', '/metrics'] },
      {
        level: 'None',
        userGroups: ['system:nodes'],
        verbs: ['get'],
        resources: [{ group: '', resources: ['nodes', 'nodes/status'] }],
      },
      {
        level: 'Metadata',
        resources: [{ group: '', resources: ['secrets', 'configmaps', 'serviceaccounts/token'] }],
      },
      {
        level: 'RequestResponse',
        verbs: ['create', 'update', 'patch', 'delete'],
        resources: [{ group: 'rbac.authorization.k8s.io' }],
      },
      { level: 'Request', verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
      { level: 'Metadata' },
    ],
  });
}

/**
 * Pod Security admission defaults: `enforce` at the cluster default (restricted unless the
 * Cluster file says otherwise); kube-system is exempt as kubeadm's own components need it.
 * Per-namespace levels are namespace labels (addons/security.ts).
 */
export function admissionConfig(ctx: RenderContext): string {
  const level = ctx.spec.spec.security.podSecurity.default;
  return toYamlDirect({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [
      {
        name: 'PodSecurity',
        configuration: {
          apiVersion: 'pod-security.admission.config.k8s.io/v1',
          kind: 'PodSecurityConfiguration',
          defaults: {
            enforce: level,
            'enforce-version': 'latest',
            audit: 'restricted',
            'audit-version': 'latest',
            warn: 'restricted',
            'warn-version': 'latest',
          },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: ['kube-system'] },
        },
      },
    ],
  });
}

/** Secrets (and config maps' cousins) encrypted at rest with secretbox; identity keeps old data readable. */
export function encryptionConfig(ctx: RenderContext): string {
  return toYamlDirect({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [
      {
        resources: ['secrets'],
        providers: [
          { secretbox: { keys: [{ name: 'ingot-1', secret: ctx.pki.tokens.encryptionKey }] } },
          { identity: {} },
        ],
      },
    ],
  });
}
