/**
 * What the hardware-driven drain suites share (docs/day2.md): a region holding a running
 * two-node cluster (node1 control plane, node2 worker, simulated create) with a given
 * `spec.hardware.onRisk`, and a disk's SMART report the way a real one reaches the store —
 * smartctl's JSON (the Seagate fixture, test/fixtures/smartctl) parsed by `parseSmartctl` and
 * kept with `recordDiskHealth` — with its reallocated-sector count set.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HardwarePolicy } from '../../src/core/hardware-drain.ts';
import { DiskHealthSource } from '../../src/core/health.ts';
import { parseSmartctl } from '../../src/core/smartctl.ts';
import { clusterYaml, createRunningCluster, seedClusterRegion } from './cluster-seed.ts';
import { after } from 'node:test';
import type { FakeKube } from '../../src/kube/fake.ts';
import { eventually, startTestRegion, type TestRegion } from './region.ts';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'smartctl', 'ata-seagate-st3500418as.json');

export const SERIAL = 'Z3THD001';

/** The fixture's drive as `serial`, with attribute 5 (Reallocated_Sector_Ct) raw at `reallocated`. */
export function smartJson(reallocated: number, serial = SERIAL): unknown {
  const doc = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  doc.serial_number = serial;
  const a5 = doc.ata_smart_attributes.table.find((a: { id: number }) => a.id === 5);
  a5.raw = { value: reallocated, string: String(reallocated) };
  return doc;
}

/** Keeps one SMART report of the machine's disk, as the node agent's or commissioning's would be. */
export async function reportDisk(r: TestRegion, machineId: string, reallocated: number, at: number) {
  const d = parseSmartctl(smartJson(reallocated), { machineId, at, source: DiskHealthSource.NodeAgent });
  assert.equal(await r.region.store.recordDiskHealth([d]), 1);
}

/**
 * The drain gets 3 min by default: on a loaded CI machine the evicted pod took more than 20 s to
 * terminate (the kubelet's sync, not the drain, is what is slow there); the tests are about the
 * policy.
 */
export function twoNodeCluster(
  name: string,
  net: string,
  policy: HardwarePolicy,
  drainTimeoutSeconds = 180,
  more = '',
): string {
  return `${clusterYaml(name, { workers: 1, net, version: 'v1.20.2' })}  hardware: { onRisk: ${policy}, drainTimeoutSeconds: ${drainTimeoutSeconds}${more ? `, ${more}` : ''} }\n`;
}

/** node1 (control) and node2 (general) commissioned, the cluster created and running; hostname → id. */
export async function runningCluster(
  r: TestRegion,
  name: string,
  net: string,
  policy: HardwarePolicy,
  drainTimeoutSeconds?: number,
  /** More `spec.hardware` fields, as YAML flow (`drainAttempts: 2, uncordonWhenHealthy: true`). */
  more?: string,
): Promise<{ id: string; ids: Map<string, string> }> {
  const ids = await seedClusterRegion(r, net, [
    ['node1', 'control'],
    ['node2', 'general'],
  ]);
  return {
    id: await createRunningCluster(r, name, twoNodeCluster(name, net, policy, drainTimeoutSeconds, more)),
    ids,
  };
}

/** The cluster's operation `id` once it ended (`GET …/operations/{id}`). */
export async function operationEnded(r: TestRegion, cluster: string, id: string, withinMs = 30_000) {
  return eventually(
    async () => {
      const o = (
        await r.api<{
          id: string;
          kind: string;
          state: string;
          reason: string;
          actor: string;
          params: { reason?: string };
        }>('GET', `/api/v1/clusters/${cluster}/operations/${id}`)
      ).body;
      return o.state === 'running' ? null : o;
    },
    withinMs,
    `operation ${id} ended`,
  );
}

/**
 * A suite's regions on the FakeKube given (drains polled every 20 ms), stopped after the suite:
 * call it in a `describe`.
 */
export function suiteRegions(): (kube: FakeKube) => Promise<TestRegion> {
  const regions: TestRegion[] = [];
  after(async () => {
    for (const r of regions) await r.stop();
  });
  return async (kube) => {
    const r = await startTestRegion({ clusterLimits: { pollMs: 20 }, simulatedKube: kube });
    regions.push(r);
    return r;
  };
}

/** Until the cluster runs again (an operation's end moves it back a moment later). */
export async function clusterFree(r: TestRegion, cluster: string) {
  await eventually(
    async () =>
      (await r.api<{ cluster: { state: string } }>('GET', `/api/v1/clusters/${cluster}`)).body.cluster
        .state === 'running',
    10_000,
    `cluster ${cluster} free again`,
  );
}

/** The events of a timeline (`clusters/NAME` or `machines/ID`) of one type. */
export async function eventsOf(r: TestRegion, timeline: string, type: string) {
  return (
    await r.api<{ type: string; level: string; message: string; data: Record<string, unknown> }[]>(
      'GET',
      `/api/v1/${timeline}/events?limit=500`,
    )
  ).body.filter((e) => e.type === type);
}
