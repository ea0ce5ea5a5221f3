/**
 * Hardware health as Prometheus gauges on the region's /metrics, read from the store at scrape
 * time (each machine's newest BMC poll, each disk's newest SMART report; one pair of queries
 * per scrape, shared by every gauge). Cardinality is bounded by design: one series per machine
 * per gauge and one per disk per gauge — no per-sensor series (sensor names are the vendor's
 * and unbounded); the raw readings stay in the history API. Names and labels: docs/health.md.
 */
import type { DiskHealth, HealthSample } from '../core/health.ts';
import type { HealthLabels } from '../store/health-sql.ts';
import type { Store } from '../store/store.ts';

export const MACHINE_LABELS = ['machine', 'hostname', 'zone', 'rack', 'pool', 'cluster', 'node'] as const;
export const DISK_LABELS = [...MACHINE_LABELS, 'serial', 'device'] as const;
type MachineLabel = (typeof MACHINE_LABELS)[number];

/** The rollup as a number: what alert thresholds compare against. */
export const HEALTH_STATUS: Readonly<Record<string, number>> = { ok: 0, warning: 1, critical: 2 };

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

/** Label values as the exposition format escapes them (backslash, double quote, newline). */
const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const labelText = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeValue(v)}"`)
    .join(',')}}`;
/** As prom-client writes numbers. */
const valueText = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);

function family<T>(
  name: string,
  help: string,
  rows: readonly { labels: string; row: T }[],
  pick: Pick<T>,
): string {
  const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} gauge`];
  for (const { labels, row } of rows) {
    const v = pick(row);
    if (v !== null) lines.push(`${name}${labels} ${valueText(v)}`);
  }
  return lines.join('\n');
}

export interface HealthMetrics {
  /** The health gauges in the Prometheus text format (0.0.4), ending with a newline. */
  exposition(): Promise<string>;
}

/**
 * The health gauges, written straight in the text format rather than through prom-client's
 * Gauge: a scrape reads the store once (shared by concurrent scrapes within `reuseMs`), builds
 * each machine's escaped label set once for all its series, and sets nothing per series — at
 * 10,000 machines that is most of the scrape's work (docs/bench-health.md). The region appends
 * it to its registry's output (observe's RegionMetrics.append).
 */
export function healthMetrics(store: Store, o: { reuseMs?: number } = {}): HealthMetrics {
  const reuseMs = o.reuseMs ?? 1000;
  let cached: { at: number; text: Promise<string> } | null = null;
  const render = async (): Promise<string> => {
    const [machines, disks] = await Promise.all([store.latestHealth(), store.latestDiskHealth()]);
    const m = machines.map(({ labels, sample }) => ({
      labels: labelText(machineLabels(labels)),
      row: sample,
    }));
    const d = disks.map(({ labels, disk }) => ({
      labels: labelText({ ...machineLabels(labels), serial: disk.serial, device: disk.device }),
      row: disk,
    }));
    const parts = [
      ...MACHINE_GAUGES.map(([name, help, pick]) => family(name, help, m, pick)),
      ...DISK_GAUGES.map(([name, help, pick]) => family(name, help, d, pick)),
    ];
    return `${parts.join('\n\n')}\n`;
  };
  return {
    exposition() {
      const now = Date.now();
      if (!cached || now - cached.at >= reuseMs) {
        const text = render();
        cached = { at: now, text };
        text.catch(() => {
          cached = null;
        });
      }
      return cached.text;
    },
  };
}
