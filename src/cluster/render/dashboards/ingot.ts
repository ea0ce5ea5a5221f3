import type { Dashboard } from '@grafana/schema';
import { dashboard, stat, timeseries } from './panels.ts';

/** The region process itself: its API, its memory and event loop, and the health poller's freshness. */
export function ingotDashboard(): Dashboard {
  return dashboard({
    uid: 'ingot-region',
    title: 'Ingot / Region',
    description: "The region's own process and API (ingot_http_*, ingot_process_*).",
    panels: [
      stat({
        title: 'Newest health poll age',
        unit: 's',
        queries: [{ expr: 'time() - max(ingot_machine_health_poll_timestamp_seconds)' }],
      }),
      stat({ title: 'Machines', unit: 'short', queries: [{ expr: 'sum(ingot_machines)' }] }),
      stat({
        title: 'Resident memory',
        unit: 'bytes',
        queries: [{ expr: 'max(ingot_process_process_resident_memory_bytes)' }],
      }),
      stat({
        title: 'Event loop lag p99',
        unit: 's',
        queries: [{ expr: 'max(ingot_process_nodejs_eventloop_lag_p99_seconds)' }],
      }),
      timeseries({
        title: 'API requests by route and status',
        unit: 'reqps',
        queries: [
          {
            expr: 'sum by (route, status) (rate(ingot_http_request_seconds_count[$__rate_interval]))',
            legend: '{{status}} {{route}}',
          },
        ],
      }),
      timeseries({
        title: 'API latency p99 by route',
        unit: 's',
        queries: [
          {
            expr: 'histogram_quantile(0.99, sum by (route, le) (rate(ingot_http_request_seconds_bucket[$__rate_interval])))',
            legend: '{{route}}',
          },
        ],
      }),
      timeseries({
        title: 'CPU',
        unit: 'percentunit',
        queries: [
          { expr: 'rate(ingot_process_process_cpu_seconds_total[$__rate_interval])', legend: '{{instance}}' },
        ],
      }),
      timeseries({
        title: 'Memory',
        unit: 'bytes',
        queries: [
          { expr: 'ingot_process_process_resident_memory_bytes', legend: 'rss {{instance}}' },
          { expr: 'ingot_process_nodejs_heap_size_used_bytes', legend: 'heap {{instance}}' },
        ],
      }),
    ],
  });
}
