/**
 * Pure translations between Ingot's BMC vocabulary and Redfish's: reset types chosen from what
 * the BMC allows (`@Redfish.AllowableValues`), boot targets, power states and health.
 */
import type { PowerState } from '../../core/machine.ts';
import { type BootDevice, PowerAction } from '../driver.ts';

export const BootTarget: Record<BootDevice, string> = {
  network: 'Pxe',
  'uefi-http': 'UefiHttp',
  disk: 'Hdd',
  cd: 'Cd',
  'bios-setup': 'BiosSetup',
};

const ON_TYPES = ['On', 'ForceOn', 'PushPowerButton'];

function first(candidates: readonly string[], allowed: readonly string[] | null): string | null {
  return candidates.find((c) => allowed === null || allowed.includes(c)) ?? null;
}

/**
 * The ResetType values to POST, in order, for `action` given the current power state; an
 * empty list means nothing to do, null means the BMC allows no way to do it. `allowed` null
 * means the BMC did not say (take the standard value).
 */
export function resetPlan(
  action: PowerAction,
  on: boolean,
  allowed: readonly string[] | null,
): string[] | null {
  const powerOn = first(ON_TYPES, allowed);
  const maybe = (t: string | null): string[] | null => (t === null ? null : [t]);
  switch (action) {
    case PowerAction.On:
      return on ? [] : maybe(powerOn);
    case PowerAction.ForceOff:
      return on ? maybe(first(['ForceOff'], allowed)) : [];
    case PowerAction.GracefulOff:
      return on ? maybe(first(['GracefulShutdown', 'PushPowerButton'], allowed)) : [];
    case PowerAction.Cycle: {
      if (!on) return maybe(powerOn);
      const cycle = first(['PowerCycle'], allowed);
      if (cycle) return [cycle];
      const off = first(['ForceOff'], allowed);
      return off && powerOn ? [off, powerOn] : null;
    }
    case PowerAction.Reset:
      if (!on) return maybe(powerOn);
      return maybe(first(['ForceRestart', 'PowerCycle'], allowed));
  }
}

export function powerStateOf(value: unknown): PowerState {
  if (value === 'On') return 'on';
  if (value === 'Off') return 'off';
  return 'unknown';
}

export type Health = 'ok' | 'warning' | 'critical' | 'unknown';

export function healthOf(value: unknown): Health {
  switch (value) {
    case 'OK':
      return 'ok';
    case 'Warning':
      return 'warning';
    case 'Critical':
      return 'critical';
    default:
      return 'unknown';
  }
}

const RANK: Record<Health, number> = { ok: 0, unknown: 1, warning: 2, critical: 3 };

export function worst(a: Health, b: Health): Health {
  return RANK[a] >= RANK[b] ? a : b;
}

export type SensorKind = 'temperature' | 'fan' | 'power' | 'voltage' | 'other';

/** Classifies a Redfish Sensor by ReadingType, then units, then name. */
export function sensorKindOf(readingType: unknown, units: unknown, name: string): SensorKind {
  if (readingType === 'Temperature' || units === 'Cel') return 'temperature';
  if (readingType === 'Rotational' || units === 'RPM' || /\bfan\b/i.test(name)) return 'fan';
  if (readingType === 'Power' || units === 'W') return 'power';
  if (readingType === 'Voltage' || units === 'V') return 'voltage';
  return 'other';
}

/** Lower-case colon-separated MAC, or null if the value is not a MAC. */
export function normalizeMac(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const hex = value.replace(/[^0-9a-f]/gi, '').toLowerCase();
  if (hex.length !== 12 || hex === '000000000000') return null;
  return hex.match(/.{2}/g)!.join(':');
}
