/**
 * The one figure the cost model wants from a sensor report: the system's input power in watts.
 * Redfish lists it in PowerControl (`System input power`, PowerConsumedWatts); IPMI SDRs name it
 * `Pwr Consumption`, `Total Power` or `Sys Power`, and often list each supply's input beside it.
 */
import type { SensorReading } from './driver.ts';

const TOTAL = /system|total|consum|sys pwr|sys power/i;

/**
 * A reading named like the whole system's power, when there is one; else the sum of every power
 * reading in watts (per-supply inputs add up to the system's); null when there is none. Summing
 * only without a total avoids counting a total and its supplies twice.
 */
export function systemWatts(readings: readonly SensorReading[]): number | null {
  const power = readings.filter(
    (r) =>
      r.kind === 'power' &&
      r.unit === 'W' &&
      typeof r.value === 'number' &&
      Number.isFinite(r.value) &&
      r.value >= 0,
  );
  if (power.length === 0) return null;
  const total = power.find((r) => TOTAL.test(r.name));
  if (total) return total.value;
  return power.reduce((a, r) => a + (r.value as number), 0);
}
