/**
 * A lab's state file (`<data>/labs/<name>/state.json`, mode 0600): what `lab status` shows and
 * what `lab down` — or the next `lab up` after a crash — needs to clean up: PIDs, namespaces,
 * the BMC's port and credentials.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Accel, Firmware } from './qemu.ts';

export interface LabMachineState {
  readonly index: number;
  readonly systemId: string;
  readonly machineId: string;
  readonly hostname: string;
  readonly mac: string;
  readonly firmware: Firmware;
  readonly bmcAddress: string;
  readonly consoleLog: string;
  qemuPid: number | null;
}

export interface LabState {
  readonly name: string;
  readonly labDir: string;
  status: 'starting' | 'up' | 'stopping';
  readonly startedAt: string;
  /** The process holding the BMC and QEMU children (the `lab up` daemon or a test). */
  readonly ownerPid: number;
  rackPid: number | null;
  readonly namespaces: { readonly prov: string; readonly rack: string };
  readonly network: { readonly cidr: string; readonly serverIp: string };
  readonly rackHttp: string;
  readonly bmc: { readonly url: string; readonly username: string; readonly password: string };
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  readonly machines: LabMachineState[];
}

export function labDirFor(dataDir: string, name: string): string {
  return join(dataDir, 'labs', name);
}

export function statePath(labDir: string): string {
  return join(labDir, 'state.json');
}

export function readState(labDir: string): LabState | null {
  const p = statePath(labDir);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as LabState;
  } catch {
    return null;
  }
}

export function writeState(s: LabState): void {
  mkdirSync(s.labDir, { recursive: true, mode: 0o700 });
  const p = statePath(s.labDir);
  writeFileSync(`${p}.tmp`, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${p}.tmp`, p);
}
