import type { RenderContext } from '../context.ts';
import type { Chart } from '../versions.ts';
import { toYamlDirect } from '../yaml-emit.ts';

export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & Record<string, unknown>;
};

/**
 * A HelmChart (helm.cattle.io/v1) for k3s / RKE2's built-in helm-controller, or the one Ingot
 * installs on kubeadm clusters. `bootstrap` charts (the CNI) run their install job on the host
 * network and tolerate not-ready nodes, as nothing else can run before the CNI.
 */
export function helmChart(
  name: string,
  chart: Chart,
  values: Record<string, unknown>,
  bootstrap = false,
): K8sObject {
  return {
    apiVersion: 'helm.cattle.io/v1',
    kind: 'HelmChart',
    metadata: { name, namespace: 'kube-system', labels: { 'app.kubernetes.io/managed-by': 'ingot' } },
    spec: {
      repo: chart.repo,
      chart: chart.chart,
      version: chart.version,
      targetNamespace: chart.namespace,
      ...(bootstrap ? { bootstrap: true } : {}),
      valuesContent: toYamlDirect(values),
    },
  };
}

/** Overrides of a chart RKE2 ships itself (rke2-cilium, rke2-calico, …). */
export function helmChartConfig(name: string, values: Record<string, unknown>): K8sObject {
  return {
    apiVersion: 'helm.cattle.io/v1',
    kind: 'HelmChartConfig',
    metadata: { name, namespace: 'kube-system' },
    spec: { valuesContent: toYamlDirect(values) },
  };
}

export function secretObject(
  name: string,
  namespace: string,
  data: Record<string, string>,
  type = 'Opaque',
): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'ingot' } },
    type,
    stringData: data,
  };
}

/** Stable, DNS-safe name for a BGP peer: `tor-10-10-0-2`. */
export function peerName(address: string): string {
  return `tor-${address.replace(/[.:]/g, '-')}`;
}

export function isRke2(ctx: RenderContext): boolean {
  return ctx.spec.spec.distribution === 'rke2';
}
