import type { Dashboard } from '@grafana/schema';
import { dashboard, table, timeseries } from './panels.ts';

/** Ingot's per-machine and per-disk gauges (docs/health.md "Metrics"), filtered by rack and zone. */
const sel = 'zone=~"$zone",rack=~"$rack"';

/** Hardware by rack: temperatures, power, fans and supplies, BMCs, disks' health. */
export function hardwareDashboard(): Dashboard {
  return dashboard({
    uid: 'ingot-hardware',
    title: 'Ingot / Hardware',
    description:
      "Each rack's machines as their BMCs and disks report them (the region's ingot_machine_* and ingot_disk_* gauges).",
    variables: [
      { name: 'zone', metric: 'ingot_machine_bmc_up' },
      { name: 'rack', metric: 'ingot_machine_bmc_up' },
    ],
    panels: [
      timeseries({
        title: 'Hottest temperature per rack',
        unit: 'celsius',
        queries: [
          { expr: `max by (rack) (ingot_machine_temperature_max_celsius{${sel}})`, legend: '{{rack}}' },
        ],
      }),
      timeseries({
        title: 'Power drawn per rack',
        unit: 'watt',
        queries: [{ expr: `sum by (rack) (ingot_machine_power_watts{${sel}})`, legend: '{{rack}}' }],
      }),
      timeseries({
        title: 'Hottest temperature per machine',
        unit: 'celsius',
        queries: [
          {
            expr: `max by (rack, hostname) (ingot_machine_temperature_max_celsius{${sel}})`,
            legend: '{{rack}} {{hostname}}',
          },
        ],
      }),
      timeseries({
        title: 'Power drawn per machine',
        unit: 'watt',
        queries: [
          {
            expr: `sum by (rack, hostname) (ingot_machine_power_watts{${sel}})`,
            legend: '{{rack}} {{hostname}}',
          },
        ],
      }),
      timeseries({
        title: 'Failed fans and power supplies per rack',
        unit: 'short',
        w: 8,
        queries: [
          { expr: `sum by (rack) (ingot_machine_fans_failed{${sel}})`, legend: 'fans {{rack}}' },
          { expr: `sum by (rack) (ingot_machine_psus_failed{${sel}})`, legend: 'supplies {{rack}}' },
        ],
      }),
      timeseries({
        title: 'BMCs not answering per rack',
        unit: 'short',
        w: 8,
        queries: [{ expr: `count by (rack) (ingot_machine_bmc_up{${sel}} == 0)`, legend: '{{rack}}' }],
      }),
      timeseries({
        title: 'Machines not healthy per rack (BMC rollup)',
        unit: 'short',
        w: 8,
        queries: [{ expr: `count by (rack) (ingot_machine_health_status{${sel}} > 0)`, legend: '{{rack}}' }],
      }),
      table({
        title: 'Disks at risk',
        description:
          'Failure predicted, sectors pending or reallocated, NVMe media errors, or 90 % of the rated endurance used.',
        queries: [
          { expr: `ingot_disk_smart_passed{${sel}} == 0` },
          { expr: `ingot_disk_pending_sectors{${sel}} > 0` },
          { expr: `ingot_disk_reallocated_sectors{${sel}} > 0` },
          { expr: `ingot_disk_media_errors{${sel}} > 0` },
          { expr: `ingot_disk_endurance_used_ratio{${sel}} >= 0.9` },
        ],
      }),
      timeseries({
        title: 'Reallocated and pending sectors',
        unit: 'short',
        queries: [
          {
            expr: `sum by (rack, hostname, serial) (ingot_disk_reallocated_sectors{${sel}})`,
            legend: 'reallocated {{hostname}} {{serial}}',
          },
          {
            expr: `sum by (rack, hostname, serial) (ingot_disk_pending_sectors{${sel}})`,
            legend: 'pending {{hostname}} {{serial}}',
          },
        ],
      }),
      timeseries({
        title: 'Age of each cluster node’s newest disk report',
        description: 'Deployed nodes report their disks hourly; a rising line is a node agent that stopped.',
        unit: 's',
        queries: [
          {
            expr: `time() - max by (rack, hostname, cluster, node) (ingot_disk_report_timestamp_seconds{node!="",${sel}})`,
            legend: '{{cluster}} {{node}}',
          },
        ],
      }),
      timeseries({
        title: 'Disk temperature and NVMe endurance used',
        unit: 'short',
        queries: [
          {
            expr: `max by (rack, hostname, serial) (ingot_disk_temperature_celsius{${sel}})`,
            legend: '°C {{hostname}} {{serial}}',
          },
          {
            expr: `max by (rack, hostname, serial) (ingot_disk_endurance_used_ratio{${sel}}) * 100`,
            legend: '% used {{hostname}} {{serial}}',
          },
        ],
      }),
    ],
  });
}
