import { alertGroups } from '../alerts.ts';
import type { RenderContext } from '../context.ts';
import { DASHBOARD_LABEL, DATASOURCE, dashboardConfigMaps } from '../dashboards/index.ts';
import { CHARTS } from '../versions.ts';
import { helmChart, type K8sObject } from './helm.ts';

/**
 * Where the rendered charts answer inside the cluster (release name = HelmChart name, so the
 * charts' fullnames are these): Prometheus of kube-prometheus-stack, Loki's single binary.
 */
export const ENDPOINTS = {
  prometheus: `http://kube-prometheus-stack-prometheus.${CHARTS.kubePrometheusStack.namespace}.svc:9090/`,
  loki: `http://loki.${CHARTS.loki.namespace}.svc:3100`,
  lokiPush: `http://loki.${CHARTS.loki.namespace}.svc:3100/loki/api/v1/push`,
} as const;

/**
 * Grafana Alloy's configuration as a DaemonSet: every pod's logs on its node (through the API
 * server, `loki.source.kubernetes`) and the node's systemd journal, labelled with namespace,
 * pod, container and node, pushed to Loki. The journal is read where journald keeps it:
 * /var/log/journal when persistent, /run/log/journal otherwise (both mounted).
 */
export function alloyConfig(): string {
  return `discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("NODE_NAME")
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_node_name"]
    target_label  = "node"
  }
}

loki.source.kubernetes "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.default.receiver]
}

loki.relabel "journal" {
  forward_to = []
  rule {
    source_labels = ["__journal__systemd_unit"]
    target_label  = "unit"
  }
}

loki.source.journal "node" {
  relabel_rules = loki.relabel.journal.rules
  labels        = { job = "journal", node = sys.env("NODE_NAME") }
  forward_to    = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = "${ENDPOINTS.lokiPush}"
  }
}
`;
}

/** kube-prometheus-stack's Grafana: both datasources, and the sidecar that loads Ingot's dashboards. */
function grafanaValues(loki: boolean): Record<string, unknown> {
  return {
    sidecar: {
      datasources: {
        defaultDatasourceEnabled: true,
        uid: DATASOURCE.prometheus.uid,
        url: ENDPOINTS.prometheus,
      },
      dashboards: {
        enabled: true,
        label: DASHBOARD_LABEL.name,
        labelValue: DASHBOARD_LABEL.value,
        searchNamespace: 'ALL',
        folderAnnotation: 'grafana_folder',
        provider: { foldersFromFilesStructure: true },
      },
    },
    additionalDataSources: loki
      ? [
          {
            name: 'Loki',
            type: DATASOURCE.loki.type,
            uid: DATASOURCE.loki.uid,
            access: 'proxy',
            url: ENDPOINTS.loki,
          },
        ]
      : [],
  };
}

/**
 * kube-prometheus-stack (Prometheus, Grafana with Prometheus and Loki datasources and Ingot's
 * dashboards, node-exporter), Loki with Grafana Alloy shipping every node's logs to it,
 * smartctl-exporter (scraped through its ServiceMonitor) and Ingot's hardware alerts.
 */
export function observabilityManifests(ctx: RenderContext): K8sObject[] {
  const o = ctx.spec.spec.observability;
  const ns = CHARTS.kubePrometheusStack.namespace;
  const out: K8sObject[] = [];
  const kubeadm = ctx.spec.spec.distribution === 'kubeadm';
  if (o.kubePrometheusStack) {
    out.push(
      helmChart('kube-prometheus-stack', CHARTS.kubePrometheusStack, {
        grafana: grafanaValues(o.loki),
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
      helmChart('alloy', CHARTS.alloy, {
        controller: {
          type: 'daemonset',
          volumes: { extra: [{ name: 'run-journal', hostPath: { path: '/run/log/journal' } }] },
        },
        alloy: {
          configMap: { create: true, content: alloyConfig() },
          mounts: {
            varlog: true,
            extra: [{ name: 'run-journal', mountPath: '/run/log/journal', readOnly: true }],
          },
          // The node the pod runs on: Alloy reads only its own node's pods and journal.
          extraEnv: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        },
      }),
    );
  }
  if (o.kubePrometheusStack) out.push(...dashboardConfigMaps(ns));
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
