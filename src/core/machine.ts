import type { MachineState } from './lifecycle.ts';

/** Power as last reported by the BMC; `unknown` until the first successful query. */
export const PowerState = { On: 'on', Off: 'off', Unknown: 'unknown' } as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];
export const POWER_STATES: readonly PowerState[] = Object.values(PowerState);

export const Arch = { Amd64: 'amd64', Arm64: 'arm64' } as const;
export type Arch = (typeof Arch)[keyof typeof Arch];
export const ARCHES: readonly Arch[] = Object.values(Arch);

export interface Nic {
  /** Lower-case, colon separated: `52:54:00:12:34:56`. */
  readonly mac: string;
  /** The NIC the machine network-boots from. Exactly one NIC is the boot NIC. */
  readonly boot: boolean;
  readonly name?: string;
  readonly driver?: string;
  /** Link speed in Mbit/s, as reported by the agent. */
  readonly speedMbps?: number;
}

export interface Disk {
  readonly name: string;
  readonly sizeBytes: number;
  readonly model?: string;
  readonly serial?: string;
  readonly rotational?: boolean;
}

export interface Cpu {
  readonly model?: string;
  readonly cores: number;
  readonly threads?: number;
}

/** BMC access. The password never leaves the store: only a reference to its encrypted secret. */
export interface BmcConfig {
  /** Driver URL, scheme selects the driver: `redfish+https://10.0.0.5`, `ipmi://10.0.0.6:623`. */
  readonly address: string;
  readonly username: string;
  /** Id of the encrypted secret holding the password. */
  readonly passwordSecretId: string;
}

export interface Machine {
  readonly id: string;
  readonly hostname: string;
  readonly arch: Arch;
  readonly state: MachineState;
  /** Why the machine entered its state: what an operator reads first. */
  readonly stateReason: string;
  readonly stateEnteredAt: string;
  readonly powerState: PowerState;
  readonly bmc: BmcConfig | null;
  readonly nics: readonly Nic[];
  readonly disks: readonly Disk[];
  readonly cpu: Cpu | null;
  readonly memoryBytes: number | null;
  readonly tags: readonly string[];
  readonly zone: string;
  readonly rack: string;
  readonly pool: string;
  /** The user a machine is allocated to; empty when not allocated. */
  readonly owner: string;
  /** State to return to when rescue ends. */
  readonly rescueFrom: MachineState | null;
  readonly commissionedAt: string | null;
  /** Optimistic-concurrency version, incremented by every write. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Normalises `AA-BB-CC-DD-EE-FF` / `aabb.ccdd.eeff` / upper case to `aa:bb:cc:dd:ee:ff`, or null if not a MAC. */
export function normalizeMac(input: string): string | null {
  const hex = input.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12 || !/^[0-9a-f:.-]+$/i.test(input.trim())) return null;
  const mac = hex.match(/../g)!.join(':');
  return MAC_RE.test(mac) ? mac : null;
}

const HOSTNAME_RE = /^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** RFC 1123 label, lower case: what DHCP, DNS and Kubernetes node names all accept. */
export function isValidHostname(name: string): boolean {
  return HOSTNAME_RE.test(name);
}

/** A deployed OS's own token (metadata, phone-home) counts only while the machine is (being) deployed. */
export function osTokenHonoured(m: Pick<Machine, 'state'>): boolean {
  return m.state === 'deploying' || m.state === 'deployed';
}
