import type { Dashboard } from '@grafana/schema';
import { dashboard, stat, timeseries } from './panels.ts';

/**
 * Commissioning and deploying as the region counts them (src/observe/metrics.ts): jobs finished
 * by kind and status, and each workflow step (the phase) by outcome.
 */
export function provisioningDashboard(): Dashboard {
  const kinds = 'kind=~"commission|deploy"';
  return dashboard({
    uid: 'ingot-provisioning',
    title: 'Ingot / Provisioning',
    description: "Commission and deploy throughput and failures by phase, from the region's own metrics.",
    panels: [
      stat({
        title: 'Commissions done (24 h)',
        queries: [{ expr: 'sum(increase(ingot_jobs_finished_total{kind="commission",status="done"}[24h]))' }],
      }),
      stat({
        title: 'Deploys done (24 h)',
        queries: [{ expr: 'sum(increase(ingot_jobs_finished_total{kind="deploy",status="done"}[24h]))' }],
      }),
      stat({
        title: 'Commissions failed (24 h)',
        queries: [
          { expr: 'sum(increase(ingot_jobs_finished_total{kind="commission",status="failed"}[24h]))' },
        ],
      }),
      stat({
        title: 'Deploys failed (24 h)',
        queries: [{ expr: 'sum(increase(ingot_jobs_finished_total{kind="deploy",status="failed"}[24h]))' }],
      }),
      timeseries({
        title: 'Jobs finished per hour',
        unit: 'short',
        queries: [
          {
            expr: `sum by (kind, status) (increase(ingot_jobs_finished_total{${kinds}}[1h]))`,
            legend: '{{kind}} {{status}}',
          },
        ],
      }),
      timeseries({
        title: 'Machines by state',
        unit: 'short',
        queries: [{ expr: 'sum by (state) (ingot_machines)', legend: '{{state}}' }],
      }),
      timeseries({
        title: 'Step failures per hour, by phase',
        unit: 'short',
        queries: [
          {
            expr: 'sum by (step) (increase(ingot_workflow_step_seconds_count{outcome="failed"}[1h]))',
            legend: '{{step}}',
          },
        ],
      }),
      timeseries({
        title: 'Step retries per hour, by phase',
        unit: 'short',
        queries: [
          {
            expr: 'sum by (step) (increase(ingot_workflow_step_seconds_count{outcome="retry"}[1h]))',
            legend: '{{step}}',
          },
        ],
      }),
      timeseries({
        title: 'Step duration p90, by phase',
        unit: 's',
        queries: [
          {
            expr: 'histogram_quantile(0.9, sum by (step, le) (rate(ingot_workflow_step_seconds_bucket{outcome="done"}[$__rate_interval])))',
            legend: '{{step}}',
          },
        ],
      }),
      timeseries({
        title: 'Lifecycle transitions per hour',
        unit: 'short',
        queries: [
          {
            expr: 'sum by (from, to) (increase(ingot_machine_transitions_total[1h]))',
            legend: '{{from}} → {{to}}',
          },
        ],
      }),
    ],
  });
}
