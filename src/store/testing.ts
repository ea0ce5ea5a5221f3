/** Builders for the store's contract and for engine tests: a machine input, a harness, an assertion. Not used at runtime. */
import assert from 'node:assert/strict';
import type { Cluster } from '../core/cluster.ts';
import { IngotError } from '../core/errors.ts';
import type { DiskHealth, HealthSample } from '../core/health.ts';
import type { SqlStore } from './sql-store.ts';
import type { NewCluster, NewMachine } from './store.ts';

export interface Harness {
  store: SqlStore;
  /** Everything the backend persisted, as text, to grep for secrets. */
  dump(): Promise<string>;
  cleanup(): Promise<void>;
}

let seq = 0;
export function machineInput(over: Partial<NewMachine> = {}): NewMachine {
  seq++;
  const hex = seq.toString(16).padStart(6, '0');
  return {
    hostname: `node-${process.pid}-${seq}`,
    arch: 'amd64',
    bmc: { address: `fake://bmc-${seq}`, username: 'admin', password: 'pw' },
    nics: [{ mac: `52:54:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:01`, boot: true }],
    tags: [],
    zone: 'z1',
    rack: 'r1',
    pool: 'default',
    ...over,
  };
}

export async function rejectsWith(p: Promise<unknown>, code: string): Promise<IngotError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof IngotError, `expected IngotError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

/** A BMC poll's sample for store and metrics tests (an answered poll, all figures set). */
export function healthSampleInput(
  machineId: string,
  at: number,
  over: Partial<HealthSample> = {},
): HealthSample {
  return {
    machineId,
    at,
    reachable: true,
    health: 'ok',
    error: null,
    tempMaxCelsius: 52,
    fans: 2,
    fansFailed: 0,
    psus: 2,
    psusFailed: 0,
    watts: 185.5,
    selCritical: 0,
    selWarning: 1,
    readings: [{ name: 'CPU temperature', kind: 'temperature', value: 52, unit: 'Cel', health: 'ok' }],
    ...over,
  };
}

/** A disk's SMART report for store and metrics tests (a healthy ATA disk). */
export function diskHealthInput(
  machineId: string,
  serial: string,
  at: number,
  over: Partial<DiskHealth> = {},
): DiskHealth {
  return {
    machineId,
    serial,
    at,
    device: '/dev/sda',
    model: 'ST3500418AS',
    protocol: 'ata',
    passed: true,
    reallocatedSectors: 0,
    pendingSectors: 0,
    mediaErrors: null,
    percentageUsed: null,
    temperatureCelsius: 32,
    powerOnHours: 44670,
    source: 'agent',
    ...over,
  };
}

/**
 * A cluster recorded in the store and moved creating → running by the store's own transition,
 * as a finished create would leave it (no workflow runs): for tests of running clusters.
 */
export async function runningClusterRecord(
  store: SqlStore,
  c: Omit<NewCluster, 'job' | 'reason' | 'distribution'> & { distribution?: string },
): Promise<Cluster> {
  const { cluster } = await store.createCluster(
    { distribution: 'kubeadm', job: { kind: 'cluster-create', steps: [] }, reason: 'test', ...c },
    'user:test',
  );
  return (
    await store.clusterTransition({
      clusterId: cluster.id,
      from: 'creating',
      to: 'running',
      reason: 'test',
      actor: 'user:test',
    })
  ).cluster;
}
