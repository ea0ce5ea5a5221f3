/**
 * Parsers for ipmitool's text output (1.8.x). They ignore lines they do not understand: BMCs
 * and ipmitool versions add fields and notes, and a missing field is better than a crash.
 */
import type { FirmwareItem, SelEntry, SensorReading, SensorReport } from '../driver.ts';

export function parsePowerStatus(out: string): 'on' | 'off' | 'unknown' {
  const m = /Chassis Power is (on|off)/i.exec(out);
  return m ? (m[1].toLowerCase() as 'on' | 'off') : 'unknown';
}

/** `Key : value` lines, with indented continuation lines collected under the last key. */
export function parseKeyValues(out: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let last: string[] | null = null;
  for (const line of out.split('\n')) {
    const kv = /^\s*(\S[^:]*?)\s*:\s*(.*)$/.exec(line);
    if (kv) {
      last = kv[2] === '' ? [] : [kv[2].trim()];
      map.set(kv[1].trim(), last);
    } else if (last && /^\s+\S/.test(line)) {
      last.push(line.trim());
    }
  }
  return map;
}

export interface McInfo {
  readonly firmware: string | null;
  readonly manufacturer: string | null;
  readonly product: string | null;
  /** "Additional Device Support" entries, e.g. `SEL Device`, `Chassis Device`. */
  readonly devices: readonly string[];
}

export function parseMcInfo(out: string): McInfo {
  const kv = parseKeyValues(out);
  return {
    firmware: kv.get('Firmware Revision')?.[0] ?? null,
    manufacturer: kv.get('Manufacturer Name')?.[0] ?? null,
    product: kv.get('Product Name')?.[0] ?? null,
    devices: kv.get('Additional Device Support') ?? [],
  };
}

export function mcFirmware(info: McInfo): FirmwareItem[] {
  return info.firmware ? [{ name: 'BMC', version: info.firmware }] : [];
}

export function parseGuid(out: string): string | null {
  const m = /System GUID\s*:\s*([0-9a-f-]{36})/i.exec(out);
  return m ? m[1].toLowerCase() : null;
}

export interface FruInfo {
  readonly manufacturer?: string;
  readonly model?: string;
  readonly serial?: string;
}

export function parseFru(out: string): FruInfo {
  const kv = parseKeyValues(out);
  const get = (...keys: string[]) => keys.map((k) => kv.get(k)?.[0]).find((v) => v !== undefined && v !== '');
  return {
    manufacturer: get('Product Manufacturer', 'Board Mfg'),
    model: get('Product Name', 'Board Product'),
    serial: get('Product Serial', 'Chassis Serial', 'Board Serial'),
  };
}

const UNITS: Record<string, { unit: string; kind: SensorReading['kind'] }> = {
  'degrees C': { unit: 'Cel', kind: 'temperature' },
  RPM: { unit: 'RPM', kind: 'fan' },
  Watts: { unit: 'W', kind: 'power' },
  Volts: { unit: 'V', kind: 'voltage' },
  Amps: { unit: 'A', kind: 'other' },
  percent: { unit: '%', kind: 'other' },
};

function sensorHealth(status: string): SensorReading['health'] {
  const s = status.toLowerCase();
  if (s === 'ok') return 'ok';
  if (s === 'nc' || s === 'lnc' || s === 'unc') return 'warning';
  if (['cr', 'lcr', 'ucr', 'nr', 'lnr', 'unr'].includes(s)) return 'critical';
  return 'unknown';
}

/** `sdr elist full`: `Name | 30h | ok | 3.1 | 45 degrees C`. */
export function parseSdr(out: string): SensorReport {
  const readings: SensorReading[] = [];
  for (const line of out.split('\n')) {
    const f = line.split('|').map((x) => x.trim());
    if (f.length < 5) continue;
    const [name, , status, , reading] = f;
    const m = /^(-?[\d.]+)\s+(.+)$/.exec(reading);
    const u = m ? UNITS[m[2]] : undefined;
    readings.push({
      name,
      kind: u?.kind ?? (/fan/i.test(name) ? 'fan' : 'other'),
      value: m ? Number(m[1]) : null,
      unit: u?.unit ?? (m ? m[2] : ''),
      health: sensorHealth(status),
    });
  }
  const known = readings.map((r) => r.health).filter((h) => h !== 'unknown');
  const health = known.includes('critical')
    ? 'critical'
    : known.includes('warning')
      ? 'warning'
      : known.length > 0
        ? 'ok'
        : 'unknown';
  return { health, readings };
}

/** `sel elist` (run with -Z, so times are UTC): `1 | 11/22/2026 | 10:00:00 | Sensor | Event | Asserted`. */
export function parseSel(out: string): SelEntry[] {
  const entries: SelEntry[] = [];
  for (const line of out.split('\n')) {
    const f = line.split('|').map((x) => x.trim());
    if (f.length < 5 || !/^[0-9a-f]+$/i.test(f[0])) continue;
    const [id, date, time, sensor, event, direction = ''] = f;
    const d = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(date);
    const t = /^\d{2}:\d{2}:\d{2}$/.test(time) ? time : null;
    const at = d && t ? `${d[3]}-${d[1]}-${d[2]}T${t}Z` : null;
    const deasserted = /deasserted/i.test(direction);
    const severity: SelEntry['severity'] = deasserted
      ? 'ok'
      : /non-recoverable|critical/i.test(event) && !/non-critical/i.test(event)
        ? 'critical'
        : /non-critical|warning/i.test(event)
          ? 'warning'
          : 'unknown';
    entries.push({
      id: String(Number.parseInt(id, 16)),
      at,
      severity,
      message: `${sensor}: ${event}${direction ? ` (${direction})` : ''}`,
    });
  }
  return entries;
}
