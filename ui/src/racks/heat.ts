/**
 * The racks view's heat map: each machine's newest health poll (GET /health) as a tile tone and
 * a number, by temperature or by power, and per rack the hottest machine, the power drawn and
 * the disks at risk. Tones repeat the number and the label; they are never the only signal.
 */
import type { paths } from '../api/generated.ts';

export type RegionHealth = paths['/api/v1/health']['get']['responses'][200]['content']['application/json'];
export type MachineHealth = RegionHealth['machines'][number];
export type DiskAtRisk = RegionHealth['disksAtRisk'][number];

export const HeatMode = { State: 'state', Temperature: 'temperature', Power: 'power' } as const;
export type HeatMode = (typeof HeatMode)[keyof typeof HeatMode];

export const HEAT_MODES: readonly { mode: HeatMode; label: string }[] = [
  { mode: 'state', label: 'State' },
  { mode: 'temperature', label: 'Temperature' },
  { mode: 'power', label: 'Power' },
];

export interface Heat {
  tone: 'ok' | 'warn' | 'error' | 'idle';
  /** What the tile shows (2–3 characters). */
  text: string;
  /** What a screen reader hears after the hostname. */
  label: string;
}

/** Temperature bands (the hottest sensor): below 60 °C fine, 60–79 warm, 80 and up hot. */
const TEMP_WARN = 60;
const TEMP_HOT = 80;

/**
 * A machine's tile by temperature or power. Power is relative to the highest draw in view
 * (half or more: warm; 80 % or more: hot), as machines of one region differ too much for fixed
 * watts. No poll, an unanswered BMC or no such reading is `idle` and says so.
 */
export function heatOf(mode: 'temperature' | 'power', h: MachineHealth | undefined, maxWatts: number): Heat {
  if (!h) return { tone: 'idle', text: '·', label: 'no health poll yet' };
  if (!h.reachable) return { tone: 'idle', text: '?', label: 'BMC not answering' };
  if (mode === 'temperature') {
    const t = h.tempMaxCelsius;
    if (t === null) return { tone: 'idle', text: '–', label: 'no temperature reading' };
    return {
      tone: t >= TEMP_HOT ? 'error' : t >= TEMP_WARN ? 'warn' : 'ok',
      text: String(Math.round(t)),
      label: `hottest sensor ${Math.round(t)} °C`,
    };
  }
  const w = h.watts;
  if (w === null) return { tone: 'idle', text: '–', label: 'no power reading' };
  const share = maxWatts > 0 ? w / maxWatts : 0;
  return {
    tone: share >= 0.8 ? 'error' : share >= 0.5 ? 'warn' : 'ok',
    text: w >= 1000 ? `${(w / 1000).toFixed(1)}k` : String(Math.round(w)),
    label: `drawing ${Math.round(w)} W`,
  };
}

export interface RackHeat {
  hottest: number | null;
  watts: number;
  disksAtRisk: DiskAtRisk[];
  unanswered: number;
}

/** A rack's figures from its machines' newest polls and the region's disks at risk. */
export function rackHeat(
  machineIds: readonly string[],
  health: ReadonlyMap<string, MachineHealth>,
  risks: readonly DiskAtRisk[],
): RackHeat {
  let hottest: number | null = null;
  let watts = 0;
  let unanswered = 0;
  for (const id of machineIds) {
    const h = health.get(id);
    if (!h) continue;
    if (!h.reachable) unanswered++;
    if (h.tempMaxCelsius !== null) hottest = Math.max(hottest ?? -Infinity, h.tempMaxCelsius);
    watts += h.watts ?? 0;
  }
  const ids = new Set(machineIds);
  return { hottest, watts, disksAtRisk: risks.filter((d) => ids.has(d.machine)), unanswered };
}
