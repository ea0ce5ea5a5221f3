/**
 * Ingot's Grafana dashboards: rendered as JSON files (`dashboards/<uid>.json`) and as ConfigMaps
 * that the Grafana of kube-prometheus-stack loads through its dashboard sidecar.
 */
import type { Dashboard } from '@grafana/schema';
import type { K8sObject } from '../addons/helm.ts';
import { clusterDashboard } from './cluster.ts';
import { hardwareDashboard } from './hardware.ts';
import { ingotDashboard } from './ingot.ts';
import { provisioningDashboard } from './provisioning.ts';

export { DATASOURCE } from './panels.ts';

/** The label (and value) Grafana's dashboard sidecar watches ConfigMaps for. */
export const DASHBOARD_LABEL = { name: 'grafana_dashboard', value: '1' } as const;

/** Every dashboard, by uid. */
export function dashboards(): Dashboard[] {
  return [hardwareDashboard(), provisioningDashboard(), clusterDashboard(), ingotDashboard()];
}

export function dashboardJson(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/** One ConfigMap per dashboard, labelled for the sidecar, in the Grafana folder "Ingot". */
export function dashboardConfigMaps(namespace: string): K8sObject[] {
  return dashboards().map((d) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${d.uid}-dashboard`,
      namespace,
      labels: { [DASHBOARD_LABEL.name]: DASHBOARD_LABEL.value, 'app.kubernetes.io/managed-by': 'ingot' },
      annotations: { grafana_folder: 'Ingot' },
    },
    data: { [`${d.uid}.json`]: dashboardJson(d) },
  }));
}
