/**
 * POST /api/v1/cost and /api/v1/capacity against a real region: machines commissioned by the
 * simulated agent (16 threads, 32 GiB), and one machine behind the virtual Redfish BMC whose
 * sensor read records its power (185 W on), so the estimate averages a real BMC reading.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from '../../test/support/region.ts';
import { type Emulator, startEmulator } from '../bmc/emulator/index.ts';

interface Estimate {
  machines: {
    hostname: string;
    watts: number;
    wattsSource: string;
    readings: number;
    lines: { power: number };
    unfit: string | null;
    cloud: Record<string, { instance: string } | null>;
  }[];
  unfit: { hostname: string; reason: string }[];
  region: {
    machines: number;
    options: { kind: string; term: string; machines: number; controlPlaneFee: number }[];
  };
  clusters: { name: string; machines: number; options: { kind: string; term: string; machines: number }[] }[];
  windowDays: number;
}
interface Capacity {
  pools: {
    pool: string;
    nodes: number;
    allocatable: { cpu: number; memoryGiB: number };
    requested: { cpu: number; memoryGiB: number };
    worst: { zone: { name: string; holds: boolean; headroom: { cpu: number } } };
    recommendation: string;
  }[];
}
interface ErrorBody {
  code: string;
  message: string;
  details: { field?: string };
}

const PASSWORD = 'emu-Secret-cost1';
const clusterFile = (minCpu = 0, minMemoryGiB = 0) => `apiVersion: ingot.dev/v1alpha1
kind: Cluster
metadata: { name: lab-a }
spec:
  controlPlane: { count: 3, machines: { pool: control } }
  workers: [{ name: general, count: 3, machines: { pool: general, minCpu: ${minCpu}, minMemoryGiB: ${minMemoryGiB} } }]
  endpoint: { address: 10.10.0.10 }
`;

describe('POST /api/v1/cost and /api/v1/capacity', () => {
  let r: TestRegion;
  let emu: Emulator;
  let viewer = '';

  before(async () => {
    emu = await startEmulator({ systems: 1, username: 'admin', password: PASSWORD });
    r = await startTestRegion();
    viewer = (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' })).body
      .secret;
    await r.api('POST', '/api/v1/subnets', { name: 'machines', cidr: '10.10.0.0/22', gateway: '10.10.0.1' });
    for (const [hostname, pool, zone] of [
      ['cp-1', 'control', 'z1'],
      ['cp-2', 'control', 'z2'],
      ['cp-3', 'control', 'z3'],
      ['w-1', 'general', 'z1'],
      ['w-2', 'general', 'z2'],
      ['w-3', 'general', 'z3'],
    ]) {
      const m = await r.api<{ id: string }>(
        'POST',
        '/api/v1/machines',
        newMachineBody({ hostname, pool, zone, rack: `${zone}-r1` }),
      );
      await r.api('POST', `/api/v1/machines/${m.body.id}/actions/commission`, {});
    }
    await eventually(
      async () =>
        (await r.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total === 6,
      15_000,
      '6 ready machines',
    );
    await emu.systems.get('sys-0001')!.reset('On');
    const bmc = await r.api<{ id: string }>(
      'POST',
      '/api/v1/machines',
      newMachineBody({
        hostname: 'bmc-1',
        bmc: { address: emu.address('sys-0001'), username: 'admin', password: PASSWORD },
      }),
    );
    const s = await r.api('GET', `/api/v1/machines/${bmc.body.id}/sensors`);
    assert.equal(s.status, 200, JSON.stringify(s.body));
  });
  after(async () => {
    await r?.stop();
    await emu?.close();
  });

  it('averages the recorded BMC power reading and falls back to nominal watts for the rest', async () => {
    const res = await r.api<Estimate>('POST', '/api/v1/cost', {}, viewer);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.windowDays, 30);
    const by = new Map(res.body.machines.map((m) => [m.hostname, m]));
    const bmc = by.get('bmc-1')!;
    assert.deepEqual([bmc.wattsSource, bmc.watts, bmc.readings], ['measured', 185, 1]);
    // default model: 185 W × 730 / 1000 = 135.05 kWh × 0.15 × PUE 1.5 = 30.38625
    assert.ok(Math.abs(bmc.lines.power - 30.38625) < 1e-9, String(bmc.lines.power));
    const w1 = by.get('w-1')!;
    // nominal 350 W: 255.5 kWh × 0.15 × 1.5 = 57.4875
    assert.deepEqual([w1.wattsSource, w1.readings], ['nominal', 0]);
    assert.ok(Math.abs(w1.lines.power - 57.4875) < 1e-9);
    // 16 threads, 32 GiB: the shipped table's cheapest fit on demand is c7i.4xlarge (16/32, 0.714 an hour)
    assert.equal(w1.cloud['on-demand']?.instance, 'c7i.4xlarge');
    // the Redfish machine was never commissioned: reported, not dropped
    assert.match(res.body.unfit.find((u) => u.hostname === 'bmc-1')?.reason ?? '', /not inventoried/);
    assert.equal(res.body.region.machines, 7);
  });

  it('prices a Cluster file’s cluster, managed Kubernetes dropping its control planes', async () => {
    const res = await r.api<Estimate>(
      'POST',
      '/api/v1/cost',
      { clusters: [clusterFile()], windowDays: 7 },
      viewer,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const c = res.body.clusters[0];
    assert.deepEqual([c.name, c.machines], ['lab-a', 6]);
    const managed = c.options.find((o) => o.kind === 'managed-kubernetes' && o.term === 'on-demand')!;
    const vms = c.options.find((o) => o.kind === 'cloud-vms' && o.term === 'on-demand')!;
    assert.deepEqual([managed.machines, vms.machines], [3, 6]);
  });

  it('refuses a bad model naming the field, and writes nothing', async () => {
    const res = await r.api<ErrorBody>(
      'POST',
      '/api/v1/cost',
      {
        model:
          'apiVersion: ingot.dev/v1alpha1\nkind: CostModel\nmetadata: {name: x}\nspec: {site: {pue: 0.2}}\n',
      },
      viewer,
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'INGOT_VALIDATION');
    assert.match(res.body.message, /spec\.site\.pue: must be >= 1/);
    const path = await r.api<ErrorBody>(
      'POST',
      '/api/v1/cost',
      {
        model:
          'apiVersion: ingot.dev/v1alpha1\nkind: CostModel\nmetadata: {name: x}\nspec: {cloud: {priceTable: ./mine.yaml}}\n',
      },
      viewer,
    );
    assert.equal(path.status, 400);
    assert.equal(path.body.details.field, 'priceTable');
  });

  it('answers capacity per pool from the plan, with the N+1 answer per zone', async () => {
    // 3 workers of 16 threads (one per zone), asking for 3 × 8 = 24 CPU: losing a zone leaves 32, 8 over
    const ok = await r.api<Capacity>('POST', '/api/v1/capacity', { cluster: clusterFile(8) }, viewer);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const p = ok.body.pools[0];
    assert.deepEqual(
      [p.pool, p.nodes, p.allocatable, p.requested],
      ['general', 3, { cpu: 48, memoryGiB: 96 }, { cpu: 24, memoryGiB: 0 }],
    );
    assert.deepEqual([p.worst.zone.holds, p.worst.zone.headroom.cpu], [true, 8]);
    // asking for 3 × 24 = 72 GiB: losing a zone leaves 64. One machine in z1 is not enough (losing z1
    // then still leaves 64); one in z1 and one in z2 leaves at least 96 whichever zone is lost.
    const short = await r.api<Capacity>('POST', '/api/v1/capacity', { cluster: clusterFile(8, 24) }, viewer);
    assert.equal(short.status, 200, JSON.stringify(short.body));
    assert.equal(
      short.body.pools[0].recommendation,
      'pool general: losing zone z1 leaves 32 CPU / 64 GiB for 24 / 72 requested. Add 1 machine like w-1 (16 CPU, 32 GiB) to zone z1 and 1 machine like w-1 (16 CPU, 32 GiB) to zone z2 to survive losing any one zone',
    );
  });
});
