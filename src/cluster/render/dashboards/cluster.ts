import type { Dashboard } from '@grafana/schema';
import { dashboard, logs, stat, timeseries } from './panels.ts';

/**
 * A cluster's nodes as its own Prometheus sees them: node-exporter (kube-prometheus-stack), the
 * scrape targets' `up`, and the nodes' logs from Loki (shipped by Alloy).
 */
export function clusterDashboard(): Dashboard {
  const node = 'instance=~"$instance"';
  return dashboard({
    uid: 'ingot-cluster-health',
    title: 'Ingot / Cluster health',
    description: "The cluster's nodes from node-exporter, its scrape targets, and its logs in Loki.",
    variables: [{ name: 'instance', metric: 'node_uname_info' }],
    panels: [
      stat({
        title: 'Scrape targets down',
        unit: 'short',
        queries: [{ expr: 'count(up == 0) or vector(0)' }],
      }),
      stat({ title: 'Nodes reporting', unit: 'short', queries: [{ expr: 'count(node_uname_info)' }] }),
      stat({
        title: 'Nodes rebooted (1 h)',
        unit: 'short',
        queries: [{ expr: 'count(changes(node_boot_time_seconds[1h]) > 0) or vector(0)' }],
      }),
      stat({
        title: 'Fullest filesystem',
        unit: 'percentunit',
        queries: [
          {
            expr: `max(1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay",${node}} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay",${node}})`,
          },
        ],
      }),
      timeseries({
        title: 'Targets down by job',
        unit: 'short',
        queries: [{ expr: 'count by (job) (up == 0)', legend: '{{job}}' }],
      }),
      timeseries({
        title: 'CPU busy per node',
        unit: 'percentunit',
        queries: [
          {
            expr: `1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",${node}}[$__rate_interval]))`,
            legend: '{{instance}}',
          },
        ],
      }),
      timeseries({
        title: 'Memory available per node',
        unit: 'percentunit',
        queries: [
          {
            expr: `node_memory_MemAvailable_bytes{${node}} / node_memory_MemTotal_bytes{${node}}`,
            legend: '{{instance}}',
          },
        ],
      }),
      timeseries({
        title: 'Load (1 min) per node',
        unit: 'short',
        queries: [{ expr: `node_load1{${node}}`, legend: '{{instance}}' }],
      }),
      timeseries({
        title: 'Network errors per node',
        unit: 'pps',
        queries: [
          {
            expr: `sum by (instance) (rate(node_network_receive_errs_total{${node}}[$__rate_interval]))`,
            legend: 'rx {{instance}}',
          },
          {
            expr: `sum by (instance) (rate(node_network_transmit_errs_total{${node}}[$__rate_interval]))`,
            legend: 'tx {{instance}}',
          },
        ],
      }),
      timeseries({
        title: 'Disk I/O time per node',
        unit: 'percentunit',
        queries: [
          {
            expr: `max by (instance) (rate(node_disk_io_time_seconds_total{${node}}[$__rate_interval]))`,
            legend: '{{instance}}',
          },
        ],
      }),
      logs({
        title: 'Errors in the logs',
        queries: [{ expr: '{namespace=~".+"} |~ "(?i)(error|fail|panic)"' }],
      }),
    ],
  });
}
