/**
 * Sensor readings as the machine page shows them: the history of each sensor since the page
 * opened (kept client-side, at most `max` points), grouped by kind, with units and health as
 * words. Pure functions; SensorsPanel polls and renders.
 */
import type { paths } from '../api/generated.ts';

export type SensorAnswer =
  paths['/api/v1/machines/{id}/sensors']['get']['responses'][200]['content']['application/json'];
export type SensorReading = SensorAnswer['readings'][number];
export type SensorKind = SensorReading['kind'];
export type SensorHealth = SensorAnswer['health'];

/** Points kept per sensor: ten minutes at one reading every 10 s. */
export const MAX_POINTS = 60;

export interface SensorSeries {
  key: string;
  name: string;
  kind: SensorKind;
  unit: string;
  /** The latest reading (value null: the BMC had none). */
  latest: SensorReading;
  /** Oldest first; null where a read had no value for the sensor. */
  values: (number | null)[];
}

export interface SensorHistory {
  /** readAt of the last answer taken in; a repeated (cached) answer adds no point. */
  readAt: string | null;
  health: SensorHealth;
  series: SensorSeries[];
}

export const EMPTY_HISTORY: SensorHistory = { readAt: null, health: 'unknown', series: [] };

const keyOf = (r: SensorReading) => `${r.kind}\u0000${r.name}`;

/** Adds one answer to the history. Sensors that vanish keep their history and get a gap. */
export function addReadings(h: SensorHistory, a: SensorAnswer, max = MAX_POINTS): SensorHistory {
  if (a.readAt === h.readAt) return h;
  const trim = (v: (number | null)[]) => (v.length > max ? v.slice(v.length - max) : v);
  const now = new Map(a.readings.map((r) => [keyOf(r), r]));
  const series = h.series.map((s) => {
    const r = now.get(s.key);
    now.delete(s.key);
    return r
      ? { ...s, unit: r.unit, latest: r, values: trim([...s.values, r.value]) }
      : { ...s, values: trim([...s.values, null]) };
  });
  for (const [key, r] of now) {
    series.push({ key, name: r.name, kind: r.kind, unit: r.unit, latest: r, values: [r.value] });
  }
  return { readAt: a.readAt, health: a.health, series };
}

export const KINDS: readonly { kind: SensorKind; label: string }[] = [
  { kind: 'temperature', label: 'Temperatures' },
  { kind: 'fan', label: 'Fans' },
  { kind: 'power', label: 'Power' },
  { kind: 'voltage', label: 'Voltages' },
  { kind: 'other', label: 'Other' },
];

/** Series by kind in a fixed order (temperatures first), each kind in the BMC's order. */
export function byKind(
  series: SensorSeries[],
): { kind: SensorKind; label: string; series: SensorSeries[] }[] {
  return KINDS.map((k) => ({ ...k, series: series.filter((s) => s.kind === k.kind) })).filter(
    (g) => g.series.length > 0,
  );
}

const UNIT_LABELS: Record<string, string> = { Cel: '°C', '[degF]': '°F' };

/** The unit as people write it: Redfish/UCUM `Cel` is °C. */
export function unitLabel(unit: string): string {
  return UNIT_LABELS[unit] ?? unit;
}

const NUMBER = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });

/** `52 °C`, `5,400 RPM`, `40%`, `—` for no reading. */
export function formatValue(value: number | null, unit: string): string {
  if (value === null) return '—';
  const u = unitLabel(unit);
  if (!u) return NUMBER.format(value);
  return u === '%' ? `${NUMBER.format(value)}%` : `${NUMBER.format(value)} ${u}`;
}

export const HEALTH: Record<SensorHealth, { label: string; mark: string; tone: string }> = {
  ok: { label: 'OK', mark: '✓', tone: 'ok' },
  warning: { label: 'Warning', mark: '!', tone: 'warn' },
  critical: { label: 'Critical', mark: '✗', tone: 'error' },
  unknown: { label: 'Unknown', mark: '?', tone: 'idle' },
};

/**
 * The SVG path of a sparkline `w`×`h`: the points seen so far spread over the width, oldest at
 * the left, newest at the right edge (a single point is a dot there). Null values break the
 * line. Returns the path and the newest point's position (for its dot).
 */
export function sparkPath(
  values: (number | null)[],
  w: number,
  h: number,
): { d: string; last: { x: number; y: number } | null } {
  const nums = values.filter((v): v is number => v !== null);
  if (nums.length === 0) return { d: '', last: null };
  const lo = Math.min(...nums);
  const hi = Math.max(...nums);
  const pad = 2;
  const step = (w - 2 * pad) / Math.max(1, values.length - 1);
  const x = (i: number) => w - pad - (values.length - 1 - i) * step;
  const y = (v: number) => (hi === lo ? h / 2 : h - pad - ((v - lo) / (hi - lo)) * (h - 2 * pad));
  let d = '';
  let pen = false;
  let last: { x: number; y: number } | null = null;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    const p = { x: Number(x(i).toFixed(1)), y: Number(y(v).toFixed(1)) };
    d += `${d ? ' ' : ''}${pen ? 'L' : 'M'}${p.x},${p.y}`;
    pen = true;
    last = p;
  });
  return { d, last };
}

/** What a screen reader hears for a sparkline: the range seen and the latest value. */
export function sparkLabel(s: Pick<SensorSeries, 'name' | 'unit' | 'values' | 'latest'>): string {
  const nums = s.values.filter((v): v is number => v !== null);
  const latest = s.latest.value === null ? 'no reading now' : formatValue(s.latest.value, s.unit);
  if (nums.length === 0) return `${s.name}: no reading since the page opened`;
  if (nums.length === 1) return `${s.name}: 1 reading since the page opened, ${latest}`;
  const lo = formatValue(Math.min(...nums), s.unit);
  const hi = formatValue(Math.max(...nums), s.unit);
  return `${s.name}: ${nums.length} readings since the page opened, from ${lo} to ${hi}, latest ${latest}`;
}
