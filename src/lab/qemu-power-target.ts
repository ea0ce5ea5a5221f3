/**
 * A lab machine behind the virtual Redfish BMC: power on starts `qemu-system-x86_64` inside the
 * lab's rack namespace (the tap lives there), power off stops it, the boot override picks the
 * boot order. QEMU runs with -no-reboot, so a guest that powers off or reboots simply exits:
 * the BMC then reports it off, as a real one would after a shutdown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, closeSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EmulatedBoot, PowerTarget } from '../bmc/emulator/power-target.ts';
import { alive, stopPid } from '../host/process.ts';
import { qemuArgs, type QemuMachine } from './qemu.ts';
import { qmpCommand } from './qmp.ts';
import { acquireVmSlot } from '../host/vm-slots.ts';

export interface QemuPowerTargetOptions {
  /** The VM; may be replaced until the first power-on (the lab learns the MAC from the BMC). */
  machine: QemuMachine;
  readonly rackNs: string;
  /** QEMU's own stderr/stdout (not the guest console). */
  readonly qemuLog: string;
  /** Called with the PID and the wall-clock start (ms) of every QEMU start. */
  readonly onStart?: (pid: number, startedAt: number) => void;
  /** Called when QEMU exits. */
  readonly onExit?: (code: number | null) => void;
  /** How long a graceful shutdown may take before power is cut. @default 10 s */
  readonly gracefulMs?: number;
}

export class QemuPowerTarget implements PowerTarget {
  readonly o: QemuPowerTargetOptions;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  /** A power-on accepted but not yet started (no VM slot free yet). */
  #waiting: { abort: AbortController; started: Promise<void> } | null = null;
  /** Wall-clock ms of the last QEMU start (benchmarks time boots from here). */
  startedAt = 0;

  constructor(o: QemuPowerTargetOptions) {
    this.o = o;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** On once power-on was accepted, even while QEMU still waits for a VM slot. */
  async isOn(): Promise<boolean> {
    return this.#waiting !== null || (this.#child !== null && alive(this.#child.pid));
  }

  /**
   * Accepts the power-on at once, as a BMC does, and starts QEMU when this host has a VM slot
   * free. Waiting for the slot inside the Redfish request made clients time out and retry
   * after the one-time boot override had already been used.
   */
  async powerOn(boot: EmulatedBoot): Promise<void> {
    if (await this.isOn()) return;
    rmSync(this.o.machine.qmpSocket, { force: true });
    const abort = new AbortController();
    const waiting = { abort, started: this.#startWhenFree(boot, abort.signal) };
    this.#waiting = waiting;
    waiting.started.finally(() => {
      if (this.#waiting === waiting) this.#waiting = null;
    });
  }

  /** Resolves once QEMU has started (or the power-on was cancelled); for tests and benches. */
  async started(): Promise<void> {
    await this.#waiting?.started;
  }

  async #startWhenFree(boot: EmulatedBoot, signal: AbortSignal): Promise<void> {
    let release: () => void;
    try {
      release = await acquireVmSlot(this.o.machine.name, 3_600_000, signal);
    } catch {
      return; // powered off before a slot was free
    }
    const log = openSync(this.o.qemuLog, 'a', 0o600);
    try {
      // `ip netns exec` execs QEMU in place: the child's PID is QEMU's.
      const child = spawn(
        'ip',
        ['netns', 'exec', this.o.rackNs, 'qemu-system-x86_64', ...qemuArgs(this.o.machine, boot)],
        { stdio: ['ignore', log, log] },
      );
      this.startedAt = Date.now();
      this.#child = child;
      this.#exited = new Promise((resolve) => {
        child.once('exit', (code) => {
          release();
          if (this.#child === child) this.#child = null;
          this.o.onExit?.(code);
          resolve();
        });
        child.once('error', () => {
          release();
          if (this.#child === child) this.#child = null;
          resolve();
        });
      });
      if (child.pid) this.o.onStart?.(child.pid, this.startedAt);
    } finally {
      closeSync(log);
    }
  }

  async powerOff(graceful: boolean): Promise<void> {
    const waiting = this.#waiting;
    if (waiting && this.#child === null) {
      waiting.abort.abort();
      await waiting.started;
      if (this.#child === null) return;
    }
    const pid = this.#child?.pid;
    if (!pid || !alive(pid)) return;
    if (graceful) {
      // ACPI power button; the OS decides. Cut power if it has not stopped in time.
      await qmpCommand(this.o.machine.qmpSocket, 'system_powerdown').catch(() => undefined);
      await Promise.race([this.#exited, sleep(this.o.gracefulMs ?? 10_000)]);
    }
    await stopPid(pid, 2000);
    await this.#exited;
  }

  async restart(boot: EmulatedBoot, graceful: boolean): Promise<void> {
    await this.powerOff(graceful);
    await this.powerOn(boot);
  }

  async close(): Promise<void> {
    await this.powerOff(false);
  }
}
