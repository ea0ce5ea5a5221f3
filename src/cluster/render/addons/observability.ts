import { alertGroups } from '../alerts.ts';
import type { RenderContext } from '../context.ts';
import { CHARTS } from '../versions.ts';
import { helmChart, type K8sObject } from './helm.ts';

/** kube-prometheus-stack (with node-exporter), Loki, smartctl-exporter and Ingot's hardware alerts. */
export function observabilityManifests(ctx: RenderContext): K8sObject[] {
  const o = ctx.spec.spec.observability;
  const ns = CHARTS.kubePrometheusStack.namespace;
  const out: K8sObject[] = [];
  const kubeadm = ctx.spec.spec.distribution === 'kubeadm';
  if (o.kubePrometheusStack) {
    out.push(
      helmChart('kube-prometheus-stack', CHARTS.kubePrometheusStack, {
        nodeExporter: { enabled: o.nodeExporter },
        prometheus: {
          prometheusSpec: {
            retention: '15d',
            ruleSelectorNilUsesHelmValues: false,
            serviceMonitorSelectorNilUsesHelmValues: false,
            podMonitorSelectorNilUsesHelmValues: false,
          },
        },
        // kubeadm binds these to 127.0.0.1; k3s/RKE2 run them inside one process.
        kubeControllerManager: { enabled: kubeadm },
        kubeScheduler: { enabled: kubeadm },
        kubeEtcd: { enabled: kubeadm },
        kubeProxy: { enabled: kubeadm && ctx.spec.spec.networking.cni.plugin !== 'cilium' },
      }),
    );
  }
  if (o.smartctlExporter) {
    out.push(
      helmChart('smartctl-exporter', CHARTS.smartctlExporter, {
        serviceMonitor: { enabled: o.kubePrometheusStack },
      }),
    );
  }
  if (o.loki) {
    out.push(
      helmChart('loki', CHARTS.loki, {
        deploymentMode: 'SingleBinary',
        loki: {
          auth_enabled: false,
          commonConfig: { replication_factor: 1 },
          storage: { type: 'filesystem' },
          schemaConfig: {
            configs: [
              {
                from: '2024-04-01',
                store: 'tsdb',
                object_store: 'filesystem',
                schema: 'v13',
                index: { prefix: 'index_', period: '24h' },
              },
            ],
          },
        },
        singleBinary: { replicas: 1 },
        read: { replicas: 0 },
        write: { replicas: 0 },
        backend: { replicas: 0 },
      }),
    );
  }
  if (o.hardwareAlerts && o.kubePrometheusStack) {
    out.push({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: 'ingot-hardware',
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'ingot' },
      },
      spec: { groups: alertGroups(ctx.spec.spec.hardware.onRisk) },
    });
  }
  return out;
}
