/** Row ↔ domain mapping for the SQL store. Timestamps: BIGINT ms in rows, ISO strings outside. */
import type { ApiToken, Role } from '../core/auth.ts';
import type { EventLevel, IngotEvent } from '../core/event.ts';
import type { Job, JobKind, JobStatus } from '../core/job.ts';
import type { MachineState } from '../core/lifecycle.ts';
import type { Arch, Machine, PowerState } from '../core/machine.ts';
import type { DhcpMode, Subnet } from '../core/subnet.ts';
import type { Row } from './db.ts';

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();
export const ms = (isoText: string | null | undefined): number | null =>
  isoText === null || isoText === undefined ? null : Date.parse(isoText);
export const json = <T>(v: unknown, fallback: T): T =>
  typeof v === 'string' && v.length > 0 ? (JSON.parse(v) as T) : fallback;

export function machineFromRow(r: Row): Machine {
  return {
    id: r.id as string,
    hostname: r.hostname as string,
    arch: r.arch as Arch,
    state: r.state as MachineState,
    stateReason: r.state_reason as string,
    stateEnteredAt: iso(r.state_entered_at as number)!,
    powerState: r.power_state as PowerState,
    bmc: r.bmc_address
      ? {
          address: r.bmc_address as string,
          username: (r.bmc_username as string) ?? '',
          passwordSecretId: (r.bmc_secret_id as string) ?? '',
        }
      : null,
    nics: json(r.nics, []),
    disks: json(r.disks, []),
    cpu: json(r.cpu, null),
    memoryBytes: r.memory_bytes === null ? null : Number(r.memory_bytes),
    tags: json(r.tags, []),
    zone: r.zone as string,
    rack: r.rack as string,
    pool: r.pool as string,
    owner: r.owner as string,
    rescueFrom: (r.rescue_from as MachineState | null) ?? null,
    commissionedAt: iso(r.commissioned_at as number | null),
    version: Number(r.version),
    createdAt: iso(r.created_at as number)!,
    updatedAt: iso(r.updated_at as number)!,
  };
}

export function jobFromRow(r: Row): Job {
  return {
    id: r.id as string,
    machineId: (r.machine_id as string | null) ?? null,
    clusterId: (r.cluster_id as string | null) ?? null,
    kind: r.kind as JobKind,
    status: r.status as JobStatus,
    steps: json(r.steps, []),
    stepIndex: Number(r.step_index),
    runAfter: iso(r.run_after as number)!,
    leaseOwner: (r.lease_owner as string | null) ?? null,
    leaseExpiresAt: iso(r.lease_expires_at as number | null),
    rack: r.rack as string,
    bmcHost: r.bmc_host as string,
    error: (r.error as string | null) ?? null,
    params: json(r.params, {}),
    scratch: json(r.scratch, {}),
    actor: r.actor as string,
    createdAt: iso(r.created_at as number)!,
    updatedAt: iso(r.updated_at as number)!,
    finishedAt: iso(r.finished_at as number | null),
  };
}

export function eventFromRow(r: Row): IngotEvent {
  return {
    id: Number(r.id),
    at: iso(r.at as number)!,
    type: r.type as string,
    level: r.level as EventLevel,
    machineId: (r.machine_id as string | null) ?? null,
    clusterId: (r.cluster_id as string | null) ?? null,
    jobId: (r.job_id as string | null) ?? null,
    actor: r.actor as string,
    message: r.message as string,
    data: json(r.data, {}),
  };
}

export function subnetFromRow(r: Row): Subnet {
  return {
    id: r.id as string,
    name: r.name as string,
    cidr: r.cidr as string,
    gateway: (r.gateway as string | null) ?? null,
    dns: json(r.dns, []),
    vlan: r.vlan === null ? null : Number(r.vlan),
    dhcpMode: r.dhcp_mode as DhcpMode,
    autoEnlist: Number(r.auto_enlist) === 1,
    ranges: json(r.ranges, []),
    createdAt: iso(r.created_at as number)!,
    updatedAt: iso(r.updated_at as number)!,
  };
}

export function tokenFromRow(r: Row): ApiToken {
  return {
    id: r.id as string,
    name: r.name as string,
    role: r.role as Role,
    createdAt: iso(r.created_at as number)!,
    expiresAt: iso(r.expires_at as number | null),
    lastUsedAt: iso(r.last_used_at as number | null),
    revoked: Number(r.revoked) === 1,
  };
}
