/**
 * The cost model against hand-computed values. Every expected number is worked out in the
 * comments from the inputs below, so a change to a formula fails here with the arithmetic beside it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CostEstimate, estimateCost, type OptionCost, type ScopeCost } from './estimate.ts';
import { breakevenMonth } from './formulas.ts';
import type { CostInputs, MachineFacts } from './types.ts';

const inputs: CostInputs = {
  site: {
    currency: 'USD',
    pricePerKWh: 0.2,
    pue: 1.5,
    pricePerRackUnitMonth: 10,
    networkPerMonth: 300,
    staffFte: 0.1,
    staffCostPerYear: 120_000,
    egressTBPerMonth: 10,
    bareMetalEgressPerTB: 2,
  },
  classes: [
    // gpu: 36000 / 36 = 1000 amortisation; 36000 × 12 / 100 / 12 = 360 support; 2 U × 10 = 20 space
    {
      name: 'gpu',
      match: { tags: ['gpu'] },
      price: 36_000,
      amortisationMonths: 36,
      supportPercentPerYear: 12,
      nominalWatts: 1000,
      rackUnits: 2,
    },
    // std: 12000 / 60 = 200; 12000 × 10 / 100 / 12 = 100; 1 U × 10 = 10
    {
      name: 'std',
      match: { pool: 'web' },
      price: 12_000,
      amortisationMonths: 60,
      supportPercentPerYear: 10,
      nominalWatts: 400,
      rackUnits: 1,
    },
    // cp: 6000 / 60 = 100; 6000 × 10 / 100 / 12 = 50; 1 U × 10 = 10
    {
      name: 'cp',
      match: { pool: 'cp' },
      price: 6_000,
      amortisationMonths: 60,
      supportPercentPerYear: 10,
      nominalWatts: 200,
      rackUnits: 1,
    },
  ],
  cloud: {
    name: 'test table',
    egressPerGB: 0.05,
    controlPlaneFeePerHour: 0.1,
    terms: ['1y'],
    instances: [
      {
        name: 'small',
        vcpus: 8,
        memoryGiB: 32,
        gpus: 0,
        onDemandPerHour: 0.4,
        reservedPerHour: { '1y': 0.25 },
      },
      {
        name: 'big',
        vcpus: 16,
        memoryGiB: 64,
        gpus: 0,
        onDemandPerHour: 0.8,
        reservedPerHour: { '1y': 0.5 },
      },
      // Dearer on demand, cheaper reserved: the cheapest fit depends on the term.
      {
        name: 'big2',
        vcpus: 16,
        memoryGiB: 64,
        gpus: 0,
        onDemandPerHour: 0.9,
        reservedPerHour: { '1y': 0.4 },
      },
      { name: 'gpu4', vcpus: 32, memoryGiB: 128, gpus: 4, onDemandPerHour: 4, reservedPerHour: {} },
    ],
  },
};

const fact = (hostname: string, pool: string, over: Partial<MachineFacts>): MachineFacts => ({
  id: `m-${hostname}`,
  hostname,
  pool,
  tags: [],
  threads: 16,
  memoryGiB: 64,
  gpus: 0,
  measuredWatts: null,
  readings: 0,
  ...over,
});

const machines: MachineFacts[] = [
  fact('web-1', 'web', { measuredWatts: 250, readings: 10 }),
  fact('web-2', 'web', {}), // no readings: nominal 400 W
  fact('gpu-1', 'gpu', {
    tags: ['gpu'],
    threads: 32,
    memoryGiB: 128,
    gpus: 8,
    measuredWatts: 900,
    readings: 4,
  }),
  fact('cp-1', 'cp', { threads: 8, memoryGiB: 32, measuredWatts: 150, readings: 3 }),
  fact('lab-1', 'lab', {}), // no class matches
];
const clusters = [
  { name: 'prod', machineIds: ['m-web-1', 'm-web-2', 'm-cp-1'], controlPlaneIds: ['m-cp-1'] },
];

const close = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
const option = (s: ScopeCost, kind: string, term: string): OptionCost =>
  s.options.find((o) => o.kind === kind && o.term === term)!;

describe('cost estimate', () => {
  const e: CostEstimate = estimateCost(inputs, machines, clusters);
  const by = new Map(e.machines.map((m) => [m.hostname, m]));

  it('prices each machine from its class and its measured watts', () => {
    const m = by.get('web-1')!;
    // power: 250 W × 730 h / 1000 = 182.5 kWh × 0.20 = 36.5 × PUE 1.5 = 54.75
    close(m.lines.power, 54.75, 'web-1 power');
    assert.equal(m.wattsSource, 'measured');
    assert.equal(m.readings, 10);
    // 200 + 100 + 54.75 + 10
    close(m.monthly, 364.75, 'web-1 monthly');
    // GPU machine: 900 W × 0.73 = 657 kWh × 0.2 = 131.4 × 1.5 = 197.1; 1000 + 360 + 197.1 + 20
    close(by.get('gpu-1')!.monthly, 1577.1, 'gpu-1 monthly');
  });

  it('falls back to the class nominal watts, flagged, when a machine has no readings', () => {
    const m = by.get('web-2')!;
    assert.equal(m.wattsSource, 'nominal');
    assert.equal(m.watts, 400);
    assert.equal(m.readings, 0);
    // 400 W × 0.73 = 292 kWh × 0.2 = 58.4 × 1.5 = 87.6; 200 + 100 + 87.6 + 10 = 397.6
    close(m.lines.power, 87.6, 'web-2 power');
    close(m.monthly, 397.6, 'web-2 monthly');
    assert.equal(e.region.nominalWatts, 1);
    assert.equal(e.region.measuredWatts, 3);
    assert.match(e.notes.join('\n'), /1 of 4 machines have no BMC power readings/);
  });

  it('picks the cheapest fitting instance per term', () => {
    const m = by.get('web-1')!;
    // on demand: big 0.80 < big2 0.90 → 0.80 × 730 = 584; 1y: big2 0.40 < big 0.50 → 292
    assert.deepEqual(m.cloud['on-demand'], { instance: 'big', monthly: 584 });
    assert.deepEqual(m.cloud['1y'], { instance: 'big2', monthly: 292 });
    // cp-1 (8 threads, 32 GiB): small, 0.40 × 730 = 292 and 0.25 × 730 = 182.5
    assert.deepEqual(by.get('cp-1')!.cloud, {
      'on-demand': { instance: 'small', monthly: 292 },
      '1y': { instance: 'small', monthly: 182.5 },
    });
  });

  it('reports a machine no instance type fits and keeps it in the bare-metal totals', () => {
    assert.deepEqual(e.unfit, [{ hostname: 'gpu-1', reason: 'no instance type has 8 GPUs (most: 4)' }]);
    assert.deepEqual(by.get('gpu-1')!.cloud, { 'on-demand': null, '1y': null });
    assert.deepEqual(option(e.region, 'cloud-vms', 'on-demand').missing, ['gpu-1']);
    assert.equal(e.region.machines, 4);
  });

  it('reports a machine no class prices instead of dropping it silently', () => {
    assert.equal(e.unpriced.length, 1);
    assert.equal(e.unpriced[0].hostname, 'lab-1');
    assert.match(e.unpriced[0].reason, /no machine class matches \(pool lab\)/);
    assert.equal(by.has('lab-1'), false);
  });

  it('sums the region with the site-wide lines', () => {
    const r = e.region.bareMetal;
    close(r.lines.amortisation, 1500, 'amortisation'); // 200 + 200 + 1000 + 100
    close(r.lines.support, 610, 'support'); // 100 + 100 + 360 + 50
    close(r.lines.power, 372.3, 'power'); // 54.75 + 87.6 + 197.1 + 32.85 (cp-1: 150 × 0.73 × 0.2 × 1.5)
    close(r.lines.space, 50, 'space'); // 10 + 10 + 20 + 10
    close(r.lines.network, 300, 'network');
    close(r.lines.staff, 1000, 'staff'); // 0.1 FTE × 120000 / 12
    close(r.lines.egress, 20, 'egress'); // 10 TB × 2 per TB
    close(r.total, 3852.3, 'total'); // 1500 + 610 + 372.3 + 50 + 300 + 1000 + 20
    close(r.upfront, 66_000, 'upfront'); // 12000 + 12000 + 36000 + 6000
    close(r.running, 2352.3, 'running'); // 3852.3 − 1500
    close(r.perVcpuMonth, 3852.3 / 72, 'per vCPU'); // 16 + 16 + 32 + 8 = 72 threads
    close(r.perGiBMonth, 3852.3 / 288, 'per GiB'); // 64 + 64 + 128 + 32 = 288 GiB
    const vms = option(e.region, 'cloud-vms', 'on-demand');
    close(vms.compute, 1460, 'vms compute'); // 584 + 584 + 292 (gpu-1 unfit: left out, listed)
    close(vms.egress, 500, 'cloud egress'); // 10 TB × 1000 × 0.05 per GB
    close(vms.total, 1960, 'vms total');
    // 1960 ≤ running 2352.3: bare metal never catches up
    assert.equal(vms.breakevenMonth, null);
    const managed = option(e.region, 'managed-kubernetes', 'on-demand');
    close(managed.controlPlaneFee, 73, 'fee'); // 0.10 × 730 for the one cluster
    close(managed.compute, 1168, 'managed compute'); // cp-1 dropped: 584 + 584
    assert.equal(managed.machines, 3);
  });

  it('gives a cluster its share of the site and the breakeven month per option', () => {
    const c = e.clusters[0];
    assert.equal(c.name, 'prod');
    // 3 of the 4 priced machines: share 0.75 of network 300, staff 1000, egress 20 and cloud egress 500
    const b = c.bareMetal;
    close(b.lines.network, 225, 'network');
    close(b.lines.staff, 750, 'staff');
    close(b.lines.egress, 15, 'egress');
    // 500 + 250 + 175.2 + 30 + 225 + 750 + 15
    close(b.total, 1945.2, 'total');
    close(b.running, 1445.2, 'running');
    close(b.upfront, 30_000, 'upfront');
    close(b.perVcpuMonth, 48.63, 'per vCPU'); // 1945.2 / 40
    close(b.perGiBMonth, 12.1575, 'per GiB'); // 1945.2 / 160
    const vms = option(c, 'cloud-vms', 'on-demand');
    close(vms.total, 1835, 'vms total'); // 584 + 584 + 292 + 375
    // 30000 / (1835 − 1445.2 = 389.8) = 76.96… → month 77
    assert.equal(vms.breakevenMonth, 77);
    close(vms.perVcpuMonth, 45.875, 'vms per vCPU'); // 1835 / 40
    // reserved: 292 + 292 + 182.5 + 375 = 1141.5 < running → never
    close(option(c, 'cloud-vms', '1y').total, 1141.5, 'vms 1y');
    assert.equal(option(c, 'cloud-vms', '1y').breakevenMonth, null);
    const managed = option(c, 'managed-kubernetes', 'on-demand');
    // cp-1 dropped: 584 + 584 + 375 + 73 = 1616; 30000 / (1616 − 1445.2 = 170.8) = 175.6… → 176
    close(managed.total, 1616, 'managed total');
    assert.equal(managed.breakevenMonth, 176);
    close(managed.perVcpuMonth, 50.5, 'managed per vCPU'); // 1616 / 32 (the web machines)
    close(managed.perGiBMonth, 12.625, 'managed per GiB'); // 1616 / 128
  });

  it('names the inputs that dominate, largest first', () => {
    // prod: staff 750, amortisation 500, support 250, network 225, power 175.2, space 30, egress 15
    const d = e.clusters[0].dominant;
    assert.deepEqual(
      d.map((x) => x.input),
      ['staff', 'amortisation', 'support', 'network', 'power', 'space', 'egress'],
    );
    close(d[0].share, 750 / 1945.2, 'staff share');
  });

  it('sums each pool with its share of the site', () => {
    const web = e.pools.find((p) => p.name === 'web')!;
    // 2 of 4 machines: 400 + 200 + 142.35 + 20 + 150 + 500 + 10 = 1422.35
    close(web.bareMetal.total, 1422.35, 'web total');
    // on demand 584 + 584 + 250 egress = 1418; 24000 / (1418 − 1022.35 = 395.65) = 60.66 → 61
    assert.equal(option(web, 'cloud-vms', 'on-demand').breakevenMonth, 61);
    assert.deepEqual(
      e.pools.map((p) => p.name),
      ['cp', 'gpu', 'web'],
    );
  });
});

describe('breakevenMonth', () => {
  it('is the first whole month at which bare metal has cost no more', () => {
    // 12000 up front, 100 a month to run, the cloud 500: 12000 / 400 = 30 exactly
    assert.equal(breakevenMonth(12_000, 100, 500), 30);
    assert.equal(breakevenMonth(12_000, 100, 499), 31); // 12000 / 399 = 30.08
    assert.equal(breakevenMonth(12_000, 500, 500), null);
  });
});
