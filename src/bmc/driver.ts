/**
 * One interface for every BMC. Drivers register by URL scheme (registry.ts) and declare
 * capabilities; an operation a BMC cannot do fails with INGOT_BMC_UNSUPPORTED naming the
 * operation and the BMC — never a crash.
 */
import type { PowerState } from '../core/machine.ts';

export const PowerAction = {
  On: 'on',
  /** ACPI soft-off: asks the OS to shut down. */
  GracefulOff: 'graceful-off',
  ForceOff: 'force-off',
  /** Off then on (forced). */
  Cycle: 'cycle',
  /** Warm reset without removing power. */
  Reset: 'reset',
} as const;
export type PowerAction = (typeof PowerAction)[keyof typeof PowerAction];

export const BootDevice = {
  /** PXE network boot. */
  Network: 'network',
  /** UEFI HTTP boot. */
  UefiHttp: 'uefi-http',
  Disk: 'disk',
  /** CD or virtual media. */
  Cd: 'cd',
  BiosSetup: 'bios-setup',
} as const;
export type BootDevice = (typeof BootDevice)[keyof typeof BootDevice];

export interface BootOverride {
  readonly device: BootDevice;
  /** Keep the override for every boot instead of the next one only. @default false */
  readonly persistent?: boolean;
  /** Boot mode; omitted leaves the BMC's current mode. */
  readonly mode?: 'uefi' | 'legacy';
}

/** Credentials to reach a BMC. The password is held in memory only while the driver lives. */
export interface BmcCredentials {
  /** Driver URL: `redfish+https://host[:port][/redfish/v1/Systems/ID]`, `redfish+http://…`, `ipmi://host[:port]`. */
  readonly address: string;
  readonly username: string;
  readonly password: string;
}

export interface BmcInventory {
  readonly manufacturer?: string;
  readonly model?: string;
  readonly serial?: string;
  readonly uuid?: string;
  readonly biosVersion?: string;
  readonly cpus?: {
    readonly model?: string;
    readonly cores?: number;
    readonly threads?: number;
    readonly count?: number;
  };
  readonly memoryBytes?: number;
  readonly drives?: readonly {
    readonly name: string;
    readonly sizeBytes?: number;
    readonly model?: string;
    readonly serial?: string;
  }[];
  readonly nics?: readonly { readonly name?: string; readonly mac: string; readonly speedMbps?: number }[];
}

export const SensorHealth = {
  Ok: 'ok',
  Warning: 'warning',
  Critical: 'critical',
  Unknown: 'unknown',
} as const;
export type SensorHealth = (typeof SensorHealth)[keyof typeof SensorHealth];
export const SENSOR_HEALTHS: readonly SensorHealth[] = Object.values(SensorHealth);

export const SensorKind = {
  Temperature: 'temperature',
  Fan: 'fan',
  Power: 'power',
  Voltage: 'voltage',
  Other: 'other',
} as const;
export type SensorKind = (typeof SensorKind)[keyof typeof SensorKind];
export const SENSOR_KINDS: readonly SensorKind[] = Object.values(SensorKind);

export interface SensorReading {
  readonly name: string;
  readonly kind: SensorKind;
  readonly value: number | null;
  readonly unit: string;
  readonly health?: SensorHealth;
}

export interface SensorReport {
  /** Worst health of the system as the BMC rolls it up. */
  readonly health: SensorHealth;
  readonly readings: readonly SensorReading[];
}

export interface SelEntry {
  readonly id: string;
  readonly at: string | null;
  readonly severity: 'ok' | 'warning' | 'critical' | 'unknown';
  readonly message: string;
}

export interface FirmwareItem {
  readonly name: string;
  readonly version: string;
}

export const BmcCapability = {
  Power: 'power',
  BootOverride: 'boot-override',
  UefiHttpBoot: 'uefi-http-boot',
  VirtualMedia: 'virtual-media',
  Inventory: 'inventory',
  Sensors: 'sensors',
  EventLog: 'event-log',
  Firmware: 'firmware',
} as const;
export type BmcCapability = (typeof BmcCapability)[keyof typeof BmcCapability];

export interface BmcDriver {
  /** Driver name (`redfish`, `ipmi`, `fake`). */
  readonly driver: string;
  /** The address with credentials stripped, for messages and events. */
  readonly target: string;
  /** Probed once, then cached for the driver's life. */
  capabilities(): Promise<ReadonlySet<BmcCapability>>;
  powerState(): Promise<PowerState>;
  power(action: PowerAction): Promise<void>;
  setBootDevice(boot: BootOverride): Promise<void>;
  insertVirtualMedia(imageUrl: string): Promise<void>;
  ejectVirtualMedia(): Promise<void>;
  inventory(): Promise<BmcInventory>;
  sensors(): Promise<SensorReport>;
  eventLog(): Promise<readonly SelEntry[]>;
  firmware(): Promise<readonly FirmwareItem[]>;
  /** Releases sessions and sockets. Safe to call twice. */
  close(): Promise<void>;
}
