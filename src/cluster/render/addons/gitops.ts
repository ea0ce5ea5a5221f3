import type { RenderContext } from '../context.ts';
import { CHARTS } from '../versions.ts';
import { helmChart, type K8sObject } from './helm.ts';

/** Flux or Argo CD, installed by chart, pointed at the cluster's repository. */
export function gitopsManifests(ctx: RenderContext): K8sObject[] {
  const g = ctx.spec.spec.gitops;
  const name = ctx.spec.metadata.name;
  if (g.provider === 'flux') {
    const ns = CHARTS.flux.namespace;
    return [
      helmChart('flux2', CHARTS.flux, { policies: { create: false } }),
      {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'GitRepository',
        metadata: { name, namespace: ns },
        spec: { interval: '1m0s', url: g.repository, ref: { branch: g.branch } },
      },
      {
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        metadata: { name, namespace: ns },
        spec: {
          interval: '10m0s',
          path: g.path,
          prune: true,
          sourceRef: { kind: 'GitRepository', name },
          timeout: '5m0s',
          wait: true,
        },
      },
    ];
  }
  if (g.provider === 'argocd') {
    const ns = CHARTS.argocd.namespace;
    return [
      helmChart('argo-cd', CHARTS.argocd, {
        configs: { params: { 'server.insecure': false } },
        dex: { enabled: false },
      }),
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name, namespace: ns, finalizers: ['resources-finalizer.argocd.argoproj.io'] },
        spec: {
          project: 'default',
          source: { repoURL: g.repository, targetRevision: g.branch, path: g.path },
          destination: { server: 'https://kubernetes.default.svc', namespace: 'default' },
          syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true'] },
        },
      },
    ];
  }
  return [];
}
