/**
 * What the virtual BMC switches. The in-memory target here records every boot; the lab issue
 * adds a QEMU machine behind the same interface.
 */

/** Redfish BootSourceOverrideTarget values the virtual BMC offers. */
export const EmulatedBootTargets = ['None', 'Pxe', 'Cd', 'Hdd', 'Usb', 'BiosSetup', 'UefiHttp'] as const;
export type EmulatedBootTarget = (typeof EmulatedBootTargets)[number];

/** How the next (or every) boot starts, as resolved by the BMC when the machine powers on. */
export interface EmulatedBoot {
  /** `None` means the machine's own boot order. */
  readonly target: EmulatedBootTarget;
  readonly mode: 'UEFI' | 'Legacy';
  /** Image URL in the virtual CD drive, if any. */
  readonly mediaImage: string | null;
}

export interface PowerTarget {
  isOn(): Promise<boolean>;
  /** Starts the machine. Called only when it is off. */
  powerOn(boot: EmulatedBoot): Promise<void>;
  /** Stops the machine; `graceful` asks the OS first (ACPI), otherwise cuts power. */
  powerOff(graceful: boolean): Promise<void>;
  /** Restarts a running machine without a power-off period. */
  restart(boot: EmulatedBoot, graceful: boolean): Promise<void>;
  /** Releases whatever the target holds (a VM process). Optional. */
  close?(): Promise<void>;
}

/** A machine that exists only in memory: power flips instantly, boots are recorded. */
export class MemoryPowerTarget implements PowerTarget {
  on = false;
  /** Every boot in order, with the device it used. Tests read this to see what really booted. */
  readonly boots: EmulatedBoot[] = [];

  async isOn(): Promise<boolean> {
    return this.on;
  }

  async powerOn(boot: EmulatedBoot): Promise<void> {
    this.on = true;
    this.boots.push(boot);
  }

  async powerOff(_graceful: boolean): Promise<void> {
    this.on = false;
  }

  async restart(boot: EmulatedBoot, _graceful: boolean): Promise<void> {
    this.on = true;
    this.boots.push(boot);
  }
}
