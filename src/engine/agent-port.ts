/**
 * What the engine asks of the agent running in a machine's ephemeral OS. The agent dials out
 * to the region (it never listens), so every call here is a question about a task: has the
 * agent of this job done it yet? Tasks are keyed by job and task name, so asking twice — after
 * a crash or a lease takeover — never runs a task twice.
 */
import type { Cpu, Disk, Machine, Nic } from '../core/machine.ts';

export const AgentTask = {
  /** The agent of this boot checked in. */
  Hello: 'hello',
  Inventory: 'inventory',
  Tests: 'tests',
  WriteImage: 'write-image',
  Wipe: 'wipe',
  /** The deployed OS booted from disk and phoned home (cloud-init). */
  OsBooted: 'os-booted',
} as const;
export type AgentTask = (typeof AgentTask)[keyof typeof AgentTask];

export interface HardwareInventory {
  cpu: Cpu;
  memoryBytes: number;
  disks: Disk[];
  nics: Nic[];
}

export type AgentResult =
  | { status: 'pending'; lastMessage?: string }
  | { status: 'done'; result?: unknown }
  | { status: 'failed'; reason: string };

export interface AgentPort {
  /** Asks for `task` (with `params`) in job `jobId`; answers without blocking. */
  task(
    machine: Machine,
    jobId: string,
    task: AgentTask,
    params?: Record<string, unknown>,
  ): Promise<AgentResult>;
}
