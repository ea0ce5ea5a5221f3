/**
 * What one BMC poll keeps: the sensor report rolled up into the few figures the metrics and
 * alerts need (hottest temperature, fans and supplies and how many of them failed, the
 * system's power, SEL severities), beside the readings themselves for the history plot.
 */
import type { SelEntry, SensorReading, SensorReport } from '../bmc/driver.ts';
import { systemWatts } from '../bmc/system-watts.ts';
import type { HealthSample } from '../core/health.ts';

/**
 * Power supplies: Redfish PowerSupplies (`Power Supply 1`, `PSU1`) and IPMI SDRs (`PS1 Status`,
 * `PS2 Input Power`). Each supply counts once, however many readings name it.
 */
const PSU = /\b(psu\s*\d*|power\s*supply\s*\d*|ps\s*\d+)/i;

/** A sensor is failed when its BMC says so: warning or critical (absent health is not a failure). */
const failed = (r: SensorReading): boolean => r.health === 'warning' || r.health === 'critical';

function psus(readings: readonly SensorReading[]): { total: number; failed: number } | null {
  const byName = new Map<string, boolean>();
  for (const r of readings) {
    if (r.kind !== 'power' && r.kind !== 'other') continue;
    const m = PSU.exec(r.name);
    if (!m) continue;
    const key = m[1].toLowerCase().replace(/\s+/g, '');
    byName.set(key, (byName.get(key) ?? false) || failed(r));
  }
  if (byName.size === 0) return null;
  return { total: byName.size, failed: [...byName.values()].filter(Boolean).length };
}

export function summarise(
  machineId: string,
  at: number,
  report: SensorReport,
  sel: readonly SelEntry[] | null,
): HealthSample {
  const r = report.readings;
  const temps = r
    .filter((x) => x.kind === 'temperature' && typeof x.value === 'number' && Number.isFinite(x.value))
    .map((x) => x.value as number);
  const fans = r.filter((x) => x.kind === 'fan');
  const supplies = psus(r);
  return {
    machineId,
    at,
    reachable: true,
    health: report.health,
    error: null,
    tempMaxCelsius: temps.length ? Math.max(...temps) : null,
    fans: fans.length ? fans.length : null,
    fansFailed: fans.length ? fans.filter(failed).length : null,
    psus: supplies?.total ?? null,
    psusFailed: supplies?.failed ?? null,
    watts: systemWatts(r),
    selCritical: sel ? sel.filter((e) => e.severity === 'critical').length : null,
    selWarning: sel ? sel.filter((e) => e.severity === 'warning').length : null,
    readings: r.map((x) => ({
      name: x.name,
      kind: x.kind,
      value: x.value,
      unit: x.unit,
      ...(x.health ? { health: x.health } : {}),
    })),
  };
}

/** The sample of a poll that got no answer: every figure unknown, the reason kept. */
export function unreachable(machineId: string, at: number, reason: string): HealthSample {
  return {
    machineId,
    at,
    reachable: false,
    health: 'unknown',
    error: reason,
    tempMaxCelsius: null,
    fans: null,
    fansFailed: null,
    psus: null,
    psusFailed: null,
    watts: null,
    selCritical: null,
    selWarning: null,
    readings: [],
  };
}
