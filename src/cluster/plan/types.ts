import type { Disk, Nic } from '../../core/machine.ts';

export const Role = { ControlPlane: 'control-plane', Etcd: 'etcd', Worker: 'worker' } as const;
export type Role = (typeof Role)[keyof typeof Role];

export interface PlannedNode {
  readonly hostname: string;
  readonly machineId: string;
  readonly role: Role;
  /** Worker pool name; `control-plane` / `etcd` for those roles. */
  readonly pool: string;
  readonly zone: string;
  readonly rack: string;
  /** The node bootstraps the cluster (first control plane). */
  readonly init: boolean;
  /** Node address with prefix: `10.0.1.10/24`. */
  readonly address: string;
  readonly ip: string;
  readonly gateway: string | null;
  readonly dns: readonly string[];
  readonly subnet: string;
  readonly nics: readonly Nic[];
  readonly disks: readonly Disk[];
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { readonly key: string; readonly value?: string; readonly effect: string }[];
}

/** What is left after losing one zone or one rack. */
export interface WhatIfRow {
  readonly domain: 'zone' | 'rack';
  readonly name: string;
  /** Nodes lost by role; `etcd` counts dedicated etcd nodes (external topology) only. */
  readonly lost: { readonly controlPlanes: number; readonly etcd: number; readonly workers: number };
  readonly etcdSurvivors: number;
  readonly etcdMembers: number;
  readonly quorum: boolean;
  /** etcd keeps quorum and at least one API server survives. */
  readonly apiAvailable: boolean;
  readonly workersSurviving: number;
  readonly workersTotal: number;
}

export interface Plan {
  readonly cluster: string;
  readonly distribution: string;
  readonly version: string;
  readonly endpoint: string;
  readonly etcd: { readonly topology: string; readonly members: readonly string[]; readonly quorum: number };
  /** Control planes first (the init node first), then etcd, then workers; each by hostname. */
  readonly nodes: readonly PlannedNode[];
  readonly whatIf: readonly WhatIfRow[];
  readonly warnings: readonly string[];
}
