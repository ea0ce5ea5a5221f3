/**
 * Hardware health as Prometheus gauges on the region's /metrics, read from the store at scrape
 * time (each machine's newest BMC poll, each disk's newest SMART report; one pair of queries
 * per scrape, shared by every gauge). Cardinality is bounded by design: one series per machine
 * per gauge and one per disk per gauge — no per-sensor series (sensor names are the vendor's
 * and unbounded); the raw readings stay in the history API. Names and labels: docs/health.md.
 */
import type { Metric, Registry } from 'prom-client';
import type { DiskHealth, HealthSample } from '../core/health.ts';
import type { HealthLabels } from '../store/health-sql.ts';
import type { Store } from '../store/store.ts';

export const MACHINE_LABELS = ['machine', 'hostname', 'zone', 'rack', 'pool', 'cluster', 'node'] as const;
export const DISK_LABELS = [...MACHINE_LABELS, 'serial', 'device'] as const;
type MachineLabel = (typeof MACHINE_LABELS)[number];

/** The rollup as a number: what alert thresholds compare against. */
export const HEALTH_STATUS: Readonly<Record<string, number>> = { ok: 0, warning: 1, critical: 2 };

interface Snapshot {
  machines: { labels: Record<string, string>; row: HealthSample }[];
  disks: { labels: Record<string, string>; row: DiskHealth }[];
}

const machineLabels = (l: HealthLabels): Record<MachineLabel, string> => ({
  machine: l.machineId,
  hostname: l.hostname,
  zone: l.zone,
  rack: l.rack,
  pool: l.pool,
  cluster: l.cluster,
  node: l.node,
});

type Pick<T> = (x: T) => number | null;

const MACHINE_GAUGES: readonly [string, string, Pick<HealthSample>][] = [
  [
    'ingot_machine_bmc_up',
    'The BMC answered the newest health poll (1) or not (0)',
    (s) => (s.reachable ? 1 : 0),
  ],
  [
    'ingot_machine_health_status',
    'The BMC’s health rollup: 0 ok, 1 warning, 2 critical (absent when unknown)',
    (s) => HEALTH_STATUS[s.health] ?? null,
  ],
  ['ingot_machine_temperature_max_celsius', 'Hottest temperature sensor', (s) => s.tempMaxCelsius],
  ['ingot_machine_fans', 'Fans the BMC reports', (s) => s.fans],
  ['ingot_machine_fans_failed', 'Fans whose health is warning or critical', (s) => s.fansFailed],
  ['ingot_machine_psus', 'Power supplies the BMC reports', (s) => s.psus],
  ['ingot_machine_psus_failed', 'Power supplies whose health is warning or critical', (s) => s.psusFailed],
  ['ingot_machine_power_watts', 'The system’s input power', (s) => s.watts],
  ['ingot_machine_sel_critical_entries', 'Critical entries in the system event log', (s) => s.selCritical],
  ['ingot_machine_health_poll_timestamp_seconds', 'When the newest health poll finished', (s) => s.at / 1000],
];

const DISK_GAUGES: readonly [string, string, Pick<DiskHealth>][] = [
  [
    'ingot_disk_smart_passed',
    'The drive’s SMART self-assessment: 1 passed, 0 failure predicted',
    (d) => (d.passed === null ? null : d.passed ? 1 : 0),
  ],
  [
    'ingot_disk_reallocated_sectors',
    'Reallocated sectors (ATA 5 raw, SCSI grown defects)',
    (d) => d.reallocatedSectors,
  ],
  ['ingot_disk_pending_sectors', 'Sectors pending reallocation (ATA 197 raw)', (d) => d.pendingSectors],
  ['ingot_disk_media_errors', 'NVMe media and data integrity errors', (d) => d.mediaErrors],
  [
    'ingot_disk_endurance_used_ratio',
    'NVMe Percentage Used / 100: rated endurance consumed (may pass 1)',
    (d) => (d.percentageUsed === null ? null : d.percentageUsed / 100),
  ],
  ['ingot_disk_temperature_celsius', 'Drive temperature at the report', (d) => d.temperatureCelsius],
  ['ingot_disk_report_timestamp_seconds', 'When the newest SMART report was taken', (d) => d.at / 1000],
];

/**
 * A gauge whose series are computed at scrape time: prom-client's registry serialises what
 * `get()` returns. Unlike a `Gauge` with `collect()`, nothing is set and hashed per series on
 * every scrape and no series outlives its machine (there is nothing to reset).
 */
interface ScrapeGauge {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge';
  readonly aggregator: 'sum';
  get(): Promise<{
    name: string;
    help: string;
    type: 'gauge';
    aggregator: 'sum';
    values: { labels: Record<string, string>; value: number }[];
  }>;
}

function scrapeGauge<T>(
  name: string,
  help: string,
  rows: () => Promise<{ labels: Record<string, string>; row: T }[]>,
  pick: Pick<T>,
): ScrapeGauge {
  return {
    name,
    help,
    type: 'gauge',
    aggregator: 'sum',
    async get() {
      const values: { labels: Record<string, string>; value: number }[] = [];
      for (const { labels, row } of await rows()) {
        const v = pick(row);
        if (v !== null) values.push({ labels, value: v });
      }
      return { name, help, type: 'gauge', aggregator: 'sum', values };
    },
  };
}

/**
 * Registers the health gauges on `registry`. A scrape reads the store once (shared by all the
 * gauges of that scrape, `reuseMs` at most), so scrapes from several Prometheus replicas at once
 * do not multiply the queries. Each machine's label set is built once per scrape and shared by
 * its series.
 */
export function registerHealthMetrics(registry: Registry, store: Store, o: { reuseMs?: number } = {}): void {
  const reuseMs = o.reuseMs ?? 1000;
  let cached: { at: number; snap: Promise<Snapshot> } | null = null;
  const snapshot = (): Promise<Snapshot> => {
    const now = Date.now();
    if (!cached || now - cached.at > reuseMs) {
      const snap = Promise.all([store.latestHealth(), store.latestDiskHealth()]).then(
        ([machines, disks]) => ({
          machines: machines.map(({ labels, sample }) => ({ labels: machineLabels(labels), row: sample })),
          disks: disks.map(({ labels, disk }) => ({
            labels: { ...machineLabels(labels), serial: disk.serial, device: disk.device },
            row: disk,
          })),
        }),
      );
      cached = { at: now, snap };
      snap.catch(() => {
        cached = null;
      });
    }
    return cached.snap;
  };
  // The registry only calls get() and reads name/help/type: a plain object serves (see ScrapeGauge).
  for (const [name, help, pick] of MACHINE_GAUGES)
    registry.registerMetric(
      scrapeGauge(name, help, async () => (await snapshot()).machines, pick) as unknown as Metric,
    );
  for (const [name, help, pick] of DISK_GAUGES)
    registry.registerMetric(
      scrapeGauge(name, help, async () => (await snapshot()).disks, pick) as unknown as Metric,
    );
}
