/**
 * One emulated server behind the virtual BMC: power (through a PowerTarget), the boot
 * override, the virtual CD and an event log. Every change bumps `version`, which is the ETag.
 */
import {
  EmulatedBootTargets,
  type EmulatedBoot,
  type EmulatedBootTarget,
  type PowerTarget,
} from './power-target.ts';

export const ResetTypes = [
  'On',
  'ForceOff',
  'GracefulShutdown',
  'GracefulRestart',
  'ForceRestart',
  'Nmi',
  'ForceOn',
  'PushPowerButton',
  'PowerCycle',
] as const;
export type ResetType = (typeof ResetTypes)[number];

export const BootEnabledValues = ['Disabled', 'Once', 'Continuous'] as const;
export type BootEnabled = (typeof BootEnabledValues)[number];
export const BootModeValues = ['UEFI', 'Legacy'] as const;

export interface EmulatedLogEntry {
  readonly id: string;
  readonly created: string;
  readonly severity: 'OK' | 'Warning' | 'Critical';
  readonly message: string;
}

export interface BootSettings {
  target: EmulatedBootTarget;
  enabled: BootEnabled;
  mode: 'UEFI' | 'Legacy';
}

export class EmulatedSystem {
  readonly id: string;
  readonly index: number;
  readonly uuid: string;
  readonly serial: string;
  readonly macs: readonly string[];
  readonly target: PowerTarget;
  readonly boot: BootSettings = { target: 'None', enabled: 'Disabled', mode: 'UEFI' };
  readonly media = { image: null as string | null, inserted: false };
  readonly log: EmulatedLogEntry[] = [];
  /** Bumped on every change; rendered as the ETag `"<version>"`. */
  version = 1;
  /**
   * Hardware faults to show in Thermal and Power (health tests): a failed fan (0 RPM, Critical),
   * a lost power supply (Critical, no input), the CPU's temperature while on.
   */
  readonly hardware = { fanFailed: false, psuFailed: false, cpuCelsius: 52 };
  /** Set by fault injection: the next GET reports the opposite power state once. */
  lieAboutPowerOnce = false;
  private logSeq = 0;

  constructor(index: number, id: string, target: PowerTarget) {
    this.index = index;
    this.id = id;
    this.target = target;
    const hex = index.toString(16).padStart(6, '0');
    this.uuid = `4a0f1c2e-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
    this.serial = `INGOT-VBMC-${String(index).padStart(5, '0')}`;
    const mac = (p: string) => `52:54:${p}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
    this.macs = [mac('00'), mac('01')];
  }

  get etag(): string {
    return `"${this.version}"`;
  }

  /** Applies a ComputerSystem.Reset. Returns an error text for a reset the state forbids. */
  async reset(type: ResetType): Promise<void> {
    const on = await this.target.isOn();
    switch (type) {
      case 'On':
      case 'ForceOn':
        if (!on) await this.target.powerOn(this.consumeBoot());
        break;
      case 'ForceOff':
      case 'GracefulShutdown':
        if (on) await this.target.powerOff(type === 'GracefulShutdown');
        break;
      case 'PushPowerButton':
        if (on) await this.target.powerOff(true);
        else await this.target.powerOn(this.consumeBoot());
        break;
      case 'ForceRestart':
      case 'GracefulRestart':
        if (on) await this.target.restart(this.consumeBoot(), type === 'GracefulRestart');
        else await this.target.powerOn(this.consumeBoot());
        break;
      case 'PowerCycle':
        if (on) await this.target.powerOff(false);
        await this.target.powerOn(this.consumeBoot());
        break;
      case 'Nmi':
        break;
    }
    this.record('OK', `ComputerSystem.Reset ${type} applied`);
  }

  /** Updates the boot override from a PATCH body; returns the name of an invalid property, if any. */
  patchBoot(patch: Record<string, unknown>): string | null {
    const t = patch.BootSourceOverrideTarget;
    const e = patch.BootSourceOverrideEnabled;
    const m = patch.BootSourceOverrideMode;
    if (t !== undefined && !(EmulatedBootTargets as readonly unknown[]).includes(t))
      return 'BootSourceOverrideTarget';
    if (e !== undefined && !(BootEnabledValues as readonly unknown[]).includes(e))
      return 'BootSourceOverrideEnabled';
    if (m !== undefined && !(BootModeValues as readonly unknown[]).includes(m))
      return 'BootSourceOverrideMode';
    if (t !== undefined) this.boot.target = t as EmulatedBootTarget;
    if (e !== undefined) this.boot.enabled = e as BootEnabled;
    if (m !== undefined) this.boot.mode = m as 'UEFI' | 'Legacy';
    // Setting a target without saying for how long means "once", as most BMCs do.
    if (t !== undefined && t !== 'None' && e === undefined && this.boot.enabled === 'Disabled')
      this.boot.enabled = 'Once';
    this.bump();
    return null;
  }

  insertMedia(image: string): void {
    this.media.image = image;
    this.media.inserted = true;
    this.record('OK', `virtual media inserted: ${image}`);
  }

  ejectMedia(): void {
    this.media.image = null;
    this.media.inserted = false;
    this.record('OK', 'virtual media ejected');
  }

  bump(): void {
    this.version++;
  }

  private record(severity: EmulatedLogEntry['severity'], message: string): void {
    this.log.push({ id: String(++this.logSeq), created: new Date().toISOString(), severity, message });
    if (this.log.length > 200) this.log.shift();
    this.bump();
  }

  /** The device this boot uses; a one-time override is cleared once consumed. */
  private consumeBoot(): EmulatedBoot {
    const active = this.boot.enabled !== 'Disabled' && this.boot.target !== 'None';
    const boot: EmulatedBoot = {
      target: active ? this.boot.target : 'None',
      mode: this.boot.mode,
      mediaImage: this.media.inserted ? this.media.image : null,
    };
    if (this.boot.enabled === 'Once') {
      this.boot.enabled = 'Disabled';
      this.boot.target = 'None';
    }
    return boot;
  }
}
