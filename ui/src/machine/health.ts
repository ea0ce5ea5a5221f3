/**
 * The machine page's health history: the region's BMC polls (GET /machines/{id}/health) as
 * plots of the hottest temperature and the power draw, how often the BMC did not answer, and
 * each disk's newest SMART report beside its first, with its counters and temperature over time. Pure functions; HealthHistoryPanel renders.
 */
import type { paths } from '../api/generated.ts';
import { formatValue } from './sensors.ts';

export type HealthAnswer =
  paths['/api/v1/machines/{id}/health']['get']['responses'][200]['content']['application/json'];
export type HealthSample = HealthAnswer['samples'][number];
export type DiskReport = HealthAnswer['disks'][number];

export interface HealthPlot {
  key: string;
  label: string;
  unit: string;
  /** Oldest first; null where the BMC did not answer or had no such reading. */
  values: (number | null)[];
  latest: number | null;
}

const PLOTS: readonly {
  key: string;
  label: string;
  unit: string;
  pick: (s: HealthSample) => number | null;
}[] = [
  { key: 'temp', label: 'Hottest temperature', unit: 'Cel', pick: (s) => s.tempMaxCelsius },
  { key: 'power', label: 'Power draw', unit: 'W', pick: (s) => s.watts },
];

/** The plots the samples have data for (a BMC without power sensors gets no power plot). */
export function healthPlots(samples: readonly HealthSample[]): HealthPlot[] {
  return PLOTS.map((p) => {
    const values = samples.map(p.pick);
    return { key: p.key, label: p.label, unit: p.unit, values, latest: values.at(-1) ?? null };
  }).filter((p) => p.values.some((v) => v !== null));
}

export function plotLabel(p: HealthPlot, hours: number): string {
  const nums = p.values.filter((v): v is number => v !== null);
  const latest =
    p.latest === null ? 'no reading at the last poll' : `latest ${formatValue(p.latest, p.unit)}`;
  return `${p.label}: ${nums.length} readings over the last ${hours} h, from ${formatValue(Math.min(...nums), p.unit)} to ${formatValue(Math.max(...nums), p.unit)}, ${latest}`;
}

/** How many polls there were, how many the BMC did not answer, and the newest reason. */
export function reachability(samples: readonly HealthSample[]): {
  polls: number;
  unanswered: number;
  lastError: string | null;
} {
  const down = samples.filter((s) => !s.reachable);
  return { polls: samples.length, unanswered: down.length, lastError: down.at(-1)?.error ?? null };
}

export interface DiskRow {
  latest: DiskReport;
  /** Reallocated sectors at the disk's first report, to show a rise. */
  firstReallocated: number | null;
  reports: number;
  /** The drive predicts its failure, or its counters say it is going. */
  atRisk: boolean;
  /** The disk's counters and temperature over its reports (oldest first), where it reports them. */
  plots: HealthPlot[];
}

const sum = (...xs: (number | null)[]) =>
  xs.every((x) => x === null) ? null : xs.reduce<number>((a, x) => a + (x ?? 0), 0);

/** A disk's plots: the counter that precedes its failure (sectors, or an NVMe's media errors), and its temperature. */
export function diskPlots(reports: readonly DiskReport[]): HealthPlot[] {
  const nvme = reports.at(-1)?.protocol === 'nvme';
  const defs: { key: string; label: string; unit: string; pick: (d: DiskReport) => number | null }[] = [
    nvme
      ? { key: 'media', label: 'Media errors', unit: '', pick: (d) => d.mediaErrors }
      : {
          key: 'sectors',
          label: 'Reallocated and pending sectors',
          unit: '',
          pick: (d) => sum(d.reallocatedSectors, d.pendingSectors),
        },
    { key: 'dtemp', label: 'Drive temperature', unit: 'Cel', pick: (d) => d.temperatureCelsius },
  ];
  return defs
    .map((p) => {
      const values = reports.map(p.pick);
      return { key: p.key, label: p.label, unit: p.unit, values, latest: values.at(-1) ?? null };
    })
    .filter((p) => p.values.some((v) => v !== null));
}

/** What a disk's plot shows, for its accessible name. */
export function diskPlotLabel(serial: string, p: HealthPlot): string {
  const nums = p.values.filter((v): v is number => v !== null);
  const f = (v: number) => (p.unit ? formatValue(v, p.unit) : v.toLocaleString('en'));
  return `${serial} ${p.label.toLowerCase()}: ${nums.length} reports, from ${f(Math.min(...nums))} to ${f(Math.max(...nums))}${p.latest === null ? '' : `, latest ${f(p.latest)}`}`;
}

/** One row per disk serial, newest report first in each, disks in serial order. */
export function diskRows(disks: readonly DiskReport[]): DiskRow[] {
  const by = new Map<string, DiskReport[]>();
  for (const d of disks) by.set(d.serial, [...(by.get(d.serial) ?? []), d]);
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, reports]) => {
      const latest = reports.at(-1)!;
      const first = reports[0].reallocatedSectors;
      const rising =
        first !== null && latest.reallocatedSectors !== null && latest.reallocatedSectors > first;
      return {
        latest,
        firstReallocated: first,
        reports: reports.length,
        plots: diskPlots(reports),
        atRisk:
          latest.passed === false ||
          rising ||
          (latest.pendingSectors ?? 0) > 0 ||
          (latest.mediaErrors ?? 0) > 0 ||
          (latest.percentageUsed ?? 0) >= 90,
      };
    });
}
