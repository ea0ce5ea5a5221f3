import type { RenderContext } from '../context.ts';
import { CHARTS } from '../versions.ts';
import type { K8sObject } from './helm.ts';

type Level = 'privileged' | 'baseline' | 'restricted';

/**
 * Namespaces Ingot's add-ons install into and the Pod Security level each needs (node agents
 * with host access need privileged). The Cluster file's podSecurity.namespaces wins over these.
 */
function addonNamespaces(ctx: RenderContext): Record<string, Level> {
  const s = ctx.spec.spec;
  const ns: Record<string, Level> = {};
  if (s.networking.cni.plugin === 'calico' && s.distribution !== 'rke2') ns['tigera-operator'] = 'privileged';
  if (s.networking.cni.plugin === 'calico') ns['calico-system'] = 'privileged';
  if (s.networking.metallb) ns[CHARTS.metallb.namespace] = 'privileged';
  if (s.storage.provider === 'longhorn') ns[CHARTS.longhorn.namespace] = 'privileged';
  if (s.storage.provider === 'rook-ceph') ns[CHARTS.rook.namespace] = 'privileged';
  if (s.storage.provider === 'local-path' && s.distribution !== 'k3s')
    ns['local-path-storage'] = 'privileged';
  const o = s.observability;
  if (o.kubePrometheusStack || o.loki || o.smartctlExporter)
    ns[CHARTS.kubePrometheusStack.namespace] = 'privileged';
  if (s.gitops.provider === 'flux') ns[CHARTS.flux.namespace] = 'baseline';
  if (s.gitops.provider === 'argocd') ns[CHARTS.argocd.namespace] = 'baseline';
  return ns;
}

/** Namespaces with their Pod Security labels (enforce, audit and warn at the same level). */
export function namespaceManifests(ctx: RenderContext): K8sObject[] {
  const sec = ctx.spec.spec.security;
  const levels: Record<string, Level> = { ...addonNamespaces(ctx), ...sec.podSecurity.namespaces };
  for (const n of sec.defaultDenyNetworkPolicies.namespaces) levels[n] ??= sec.podSecurity.default;
  delete levels['kube-system'];
  // calico-system is created by the Tigera operator; labelling it here would race the operator.
  delete levels['calico-system'];
  return Object.keys(levels)
    .sort()
    .map((name) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: {
          'pod-security.kubernetes.io/enforce': levels[name],
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': levels[name] === 'privileged' ? 'privileged' : 'restricted',
        },
      },
    }));
}

/** Default deny, in and out, plus the one exception everything needs: DNS to CoreDNS. */
export function networkPolicyManifests(ctx: RenderContext): K8sObject[] {
  return ctx.spec.spec.security.defaultDenyNetworkPolicies.namespaces.flatMap((ns): K8sObject[] => [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny-all', namespace: ns },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-dns', namespace: ns },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      },
    },
  ]);
}
