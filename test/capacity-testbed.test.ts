/**
 * `ingot capacity --cluster` against real Kubernetes 1.20.2 on the 1+1 test bed: the region runs
 * a (simulated) cluster whose members are named like the bed's nodes (node1 the control plane in
 * zone z1, node2 the worker in zone z2), and its admin kubeconfig is the bed's. The requests the
 * report gives are the bed's pods' requests (a workload of known requests moves them by exactly
 * its sum), and its survives-the-loss answer is the planner's what-if table's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { ClusterCapacity } from '../src/capacity/capacity.ts';
import { memberPlan } from '../src/capacity/running.ts';
import { parseClusterFile } from '../src/cluster/spec/parse.ts';
import type { Cluster } from '../src/core/cluster.ts';
import type { Machine } from '../src/core/machine.ts';
import { FakeKube } from '../src/kube/fake.ts';
import type { ApiAccess } from '../src/lab/testbed/api.ts';
import type { BedState } from '../src/lab/testbed/bed.ts';
import { hostSysctls } from '../src/lab/testbed/sysctls.ts';
import { NODE_IMAGE, nodeSubnet } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { skipUnless } from './support/needs.ts';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from './support/region.ts';
import {
  BED_NEEDS,
  bedKubeConfig,
  bedName,
  importHttpd,
  reapStaleBeds,
  startBed,
  stopBed,
  waitFor,
} from './support/testbed.ts';
import { createHttpd } from './support/workloads.ts';

const CLUSTER = `apiVersion: ingot.dev/v1alpha1
kind: Cluster
metadata:
  name: cap
spec:
  distribution: kubeadm
  version: v1.30.2
  controlPlane:
    count: 1
    machines: { pool: control }
  placement: { tolerate: [] }
  workers:
    - name: general
      count: 1
      machines: { pool: general, minCpu: 2, minMemoryGiB: 4 }
  endpoint:
    address: 10.61.0.10
  storage: { provider: none }
  observability: { kubePrometheusStack: false, loki: false, nodeExporter: false, smartctlExporter: false, hardwareAlerts: false }
`;

before(() => reapStaleBeds('cp'));

describe('ingot capacity on the 1+1 test bed', { skip: skipUnless(BED_NEEDS), timeout: 10 * 60_000 }, () => {
  const name = bedName('cp');
  let root = '';
  let bed: BedState | undefined;
  let api: ApiAccess | undefined;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let r: TestRegion | undefined;
  const sysctlsBefore = hostSysctls().values;

  const capacity = async (): Promise<ClusterCapacity> => {
    const run = await runIngot(['capacity', '--cluster', 'cap', '-o', 'json'], { env: r!.cliEnv });
    assert.equal(run.code, 0, run.err);
    return JSON.parse(run.out) as ClusterCapacity;
  };

  /** The region with the simulated cluster `cap` running on machines named like the bed's nodes. */
  async function regionWithCluster(): Promise<{ region: TestRegion; id: string }> {
    const region = await startTestRegion({ clusterLimits: { pollMs: 20 }, simulatedKube: new FakeKube() });
    r = region;
    assert.equal((await region.api('POST', '/api/v1/subnets', nodeSubnet('10.61'))).status, 201);
    await region.region.store.createImage(NODE_IMAGE, 'user:test');
    for (const [hostname, pool, zone] of [
      ['node1', 'control', 'z1'],
      ['node2', 'general', 'z2'],
    ]) {
      const m = await region.api<{ id: string }>(
        'POST',
        '/api/v1/machines',
        newMachineBody({ hostname, pool, zone, rack: 'r1' }),
      );
      assert.equal(m.status, 201);
      await region.api('POST', `/api/v1/machines/${m.body.id}/actions/commission`, {});
    }
    await eventually(
      async () =>
        (await region.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total === 2,
      30_000,
      '2 ready machines',
    );
    assert.equal((await region.api('POST', '/api/v1/clusters', { cluster: CLUSTER })).status, 202);
    const running = async () =>
      (await region.api<{ cluster: Cluster }>('GET', '/api/v1/clusters/cap')).body.cluster;
    await eventually(async () => (await running()).state === 'running', 60_000, 'the cluster to run');
    return { region, id: (await running()).id };
  }

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ingot-capacity-'));
    // The bed takes most of the time: the region and its simulated cluster come up meanwhile.
    const [b, c] = await Promise.all([startBed(name, '1+1', root), regionWithCluster()]);
    ({ bed, api, core, apps } = b);
    // The region now reads this cluster through the bed's API (a kubeconfig without the fake
    // marker goes to the real client).
    await c.region.region.store.setClusterKubeconfig(c.id, bedKubeConfig(b.api).exportConfig());
  });

  after(async () => {
    await r?.stop();
    await stopBed(name, root, bed, api, sysctlsBefore);
  });

  it('reads the requests from the cluster’s API: a workload moves them by exactly its requests', async () => {
    const base = await capacity();
    assert.equal(base.requestsKind, 'kubernetes', base.requestsBasis);
    const pool = () => base.pools.find((p) => p.pool === 'general')!;
    // The fake inventory: 16 threads, 32 GiB per machine; the pool is node2 alone.
    assert.deepEqual(pool().allocatable, { cpu: 16, memoryGiB: 32 });
    assert.equal(pool().nodes, 1);

    await importHttpd(bed!, ['node2']);
    await createHttpd(apps, {
      name: 'load',
      replicas: 2,
      nodeSelector: { 'kubernetes.io/hostname': 'node2' },
      resources: { requests: { cpu: '250m', memory: '96Mi' } },
    });
    await waitFor(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=load' })).items.filter(
          (p) => p.spec?.nodeName === 'node2' && p.status?.phase === 'Running',
        ).length === 2,
      120_000,
      'both load pods running on node2',
    );
    const now = await capacity();
    const p = now.pools.find((x) => x.pool === 'general')!;
    // 2 replicas × 250m = 0.5 CPU; 2 × 96 MiB = 192 MiB = 0.1875 GiB, on top of what ran before.
    assert.ok(Math.abs(p.requested.cpu - pool().requested.cpu - 0.5) < 1e-9, `${p.requested.cpu}`);
    assert.ok(
      Math.abs(p.requested.memoryGiB - pool().requested.memoryGiB - 0.1875) < 1e-9,
      `${p.requested.memoryGiB}`,
    );
  });

  it('answers survives-the-loss as the planner’s what-if table: losing z2 loses the whole pool', async () => {
    const c = await capacity();
    const cluster = (await r!.api<{ cluster: Cluster }>('GET', '/api/v1/clusters/cap')).body.cluster;
    const machines = (await r!.api<{ items: Machine[] }>('GET', '/api/v1/machines?limit=100')).body.items;
    const plan = memberPlan(parseClusterFile(CLUSTER, 'CLUSTER'), cluster.members, machines);
    assert.deepEqual(c.whatIf, plan.whatIf);
    const p = c.pools.find((x) => x.pool === 'general')!;
    for (const row of plan.whatIf.filter((w) => w.domain === 'zone')) {
      const loss = p.losses.find((l) => l.domain === 'zone' && l.name === row.name);
      // what-if: z1 holds the control plane only (0 workers lost), z2 the one worker
      assert.equal(loss?.nodesLost ?? 0, row.lost.workers, `zone ${row.name}`);
      if (loss)
        assert.equal(
          loss.holds,
          row.workersSurviving > 0 || (p.requested.cpu === 0 && p.requested.memoryGiB === 0),
        );
    }
    // Losing z2 leaves 0 CPU / 0 GiB: the headroom is minus the live requests, and it does not hold.
    assert.equal(p.worst.zone?.name, 'z2');
    assert.equal(p.worst.zone?.holds, false);
    assert.deepEqual(p.worst.zone?.headroom, { cpu: -p.requested.cpu, memoryGiB: -p.requested.memoryGiB });
    assert.match(p.recommendation, /every node is in zone z2; losing it loses the pool/);
    // node1 is the only other machine and it is the control plane: no spare for the pool
    assert.deepEqual(p.spares, []);
  });
});
