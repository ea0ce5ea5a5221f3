/**
 * `GET /api/v1/capacity?cluster=` and `ingot capacity --cluster` on a running (simulated)
 * cluster: requests from its Kubernetes API (here the FakeKube the simulated nodes register
 * with), the Cluster file's minimums when the API does not answer (said so), a viewer may read,
 * bad input names the field. Against real Kubernetes: test/capacity-testbed.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterCapacity } from '../src/capacity/capacity.ts';
import { FakeKube } from '../src/kube/fake.ts';
import { startRunningClusterRegion } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import type { TestRegion } from './support/region.ts';

describe('capacity of a running cluster', () => {
  let r: TestRegion;
  let viewer: string;
  const kube = new FakeKube();

  before(async () => {
    ({ r, viewer } = await startRunningClusterRegion('cc', '10.41', kube));
    // w-1 runs pods requesting 3.5 CPU and 6 GiB, w-2 1.5 CPU and 2 GiB; cp-1's 1 CPU is no pool's
    kube.podRequests.set('w-1', { cpu: 3.5, memoryBytes: 6 * 2 ** 30 });
    kube.podRequests.set('w-2', { cpu: 1.5, memoryBytes: 2 * 2 ** 30 });
    kube.podRequests.set('cp-1', { cpu: 1, memoryBytes: 0 });
  });
  after(async () => r?.stop());

  it('reads the pods’ requests per pool from the cluster’s API (a viewer may)', async () => {
    const res = await r.api<ClusterCapacity>('GET', '/api/v1/capacity?cluster=cc', undefined, viewer);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const c = res.body;
    assert.equal(c.requestsKind, 'kubernetes');
    const g = c.pools.find((p) => p.pool === 'general')!;
    // 3.5 + 1.5 = 5 CPU, 6 + 2 = 8 GiB; allocatable 2 × (16 threads, 32 GiB) = 32 CPU, 64 GiB
    assert.deepEqual(g.requested, { cpu: 5, memoryGiB: 8 });
    assert.deepEqual(g.allocatable, { cpu: 32, memoryGiB: 64 });
    // one zone, one rack: losing z1 loses both workers: 0 − 5, 0 − 8
    assert.deepEqual(g.worst.zone?.headroom, { cpu: -5, memoryGiB: -8 });
    assert.match(g.recommendation, /every node is in zone z1/);
    // the members' what-if: z1 holds the control plane and both workers
    assert.deepEqual(
      c.whatIf.map((w) => [w.domain, w.name, w.lost.workers, w.workersSurviving]),
      [
        ['zone', 'z1', 2, 0],
        ['rack', 'r1', 2, 0],
      ],
    );
  });

  it('falls back to the Cluster file’s minimums when the API does not answer, and says why', async () => {
    kube.apiDown = true;
    try {
      const c = (await r.api<ClusterCapacity>('GET', '/api/v1/capacity?cluster=cc')).body;
      assert.equal(c.requestsKind, 'plan');
      assert.match(c.requestsBasis, /the cluster’s API did not answer/);
      // the pool's selector has no minimums: 2 × 0
      assert.deepEqual(c.pools[0].requested, { cpu: 0, memoryGiB: 0 });
    } finally {
      kube.apiDown = false;
    }
  });

  it('prices the clusters the region runs by their members: managed Kubernetes drops the control plane', async () => {
    interface Scope {
      name: string;
      machines: number;
      bareMetal: { total: number };
      options: { kind: string; term: string; total: number; compute: number }[];
    }
    const res = await r.api<{ clusters: Scope[]; machines: { hostname: string; wattsSource: string }[] }>(
      'POST',
      '/api/v1/cost',
      { windowDays: 30 },
      viewer,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const cc = res.body.clusters.find((c) => c.name === 'cc')!;
    assert.equal(cc.machines, 3);
    // the documented defaults, per machine: 10000 / 60 = 166.667 amortisation, 10000 × 8 / 100 / 12
    // = 66.667 support, 350 W nominal (fake BMCs have no readings) × 730 / 1000 × 0.15 × 1.5 =
    // 57.4875 power, 1 U × 15 space: 305.8208; × 3 machines = 917.4625
    assert.ok(Math.abs(cc.bareMetal.total - 917.4625) < 0.01, String(cc.bareMetal.total));
    assert.ok(res.body.machines.every((m) => m.wattsSource === 'nominal'));
    // cloud: 16 threads, 32 GiB → c7i.4xlarge at 0.714 /h × 730 = 521.22 per machine
    const od = (kind: string) => cc.options.find((o) => o.kind === kind && o.term === 'on-demand')!;
    assert.ok(Math.abs(od('cloud-vms').total - 3 * 521.22) < 0.01, String(od('cloud-vms').total)); // 1563.66
    // managed: cp-1 dropped: 2 × 521.22 + the fee 0.10 × 730 = 73 → 1115.44
    assert.ok(
      Math.abs(od('managed-kubernetes').total - 1115.44) < 0.01,
      String(od('managed-kubernetes').total),
    );
  });

  it('ingot capacity --cluster prints the same answer; bad input names the field', async () => {
    const json = await runIngot(['capacity', '--cluster', 'cc', '-o', 'json'], { env: r.cliEnv });
    assert.equal(json.code, 0, json.err);
    assert.deepEqual(JSON.parse(json.out).pools[0].requested, { cpu: 5, memoryGiB: 8 });
    const text = await runIngot(['capacity', '--cluster', 'cc'], { env: r.cliEnv });
    assert.match(text.out, /requests from kubernetes/);
    assert.match(text.out, /general\s+2\s+32 \/ 64 GiB\s+5 \/ 8 GiB\s+z1: SHORT \(-5 CPU, -8 GiB\)/);
    const neither = await runIngot(['capacity'], { env: r.cliEnv });
    assert.equal(neither.code, 2);
    assert.match(neither.err, /--cluster/);
    assert.equal((await r.api('GET', '/api/v1/capacity?cluster=nope')).status, 404);
    const bad = await r.api<{ message: string }>('GET', '/api/v1/capacity');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /cluster/);
  });
});
