/**
 * Health metrics at scale (issue 17): GET /metrics of a real region whose store holds N
 * machines, each with a health poll (fake readings) and `--disks` SMART reports, beside the
 * floor — prom-client alone serialising the same gauges with the same number of series and
 * label shapes, without Ingot's store or logic. Each side runs in its own child process so its
 * memory is its own (peak RSS while scraping: VmHWM, reset after seeding through
 * /proc/self/clear_refs). Times are medians of `--runs` after one warm-up. Because this host is
 * shared, Ingot's child also times its health families alone (store → text, in-process) in
 * turns with the floor's registry.metrics() built in the same process after the RSS figures,
 * so both sides of that comparison meet the same load. Prints a Markdown table
 * (docs/bench-health.md).
 *
 *   node bench/health-metrics.ts [--machines 10000] [--disks 2] [--runs 5]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { Gauge, Registry } from 'prom-client';

const { values } = parseArgs({
  options: {
    machines: { type: 'string', default: '10000' },
    disks: { type: 'string', default: '2' },
    runs: { type: 'string', default: '5' },
    role: { type: 'string' },
  },
});
const MACHINES = Number(values.machines);
const DISKS = Number(values.disks);
const RUNS = Number(values.runs);

interface Result {
  role: string;
  seedS: number;
  scrapeMs: number[];
  bytes: number;
  series: number;
  rssAfterSeedMiB: number;
  peakScrapeMiB: number;
  /** Ingot: its health families alone, in-process, in turns with the floor; the floor: its scrape. */
  inProcessMs: number[];
  /** Ingot's child only: the floor's registry.metrics() in turns with inProcessMs. */
  pairedFloorMs: number[];
}

const status = (key: string) =>
  Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) /
  1024;
const resetPeak = () => writeFileSync('/proc/self/clear_refs', '5');
const seriesIn = (text: string) => text.split('\n').filter((l) => /^ingot_(machine|disk)_/.test(l)).length;

async function scrapeRuns(
  scrape: () => Promise<string>,
  inProcess: () => Promise<string> = scrape,
): Promise<Omit<Result, 'role' | 'seedS' | 'pairedFloorMs'>> {
  global.gc?.();
  const rssAfterSeedMiB = status('VmRSS');
  resetPeak();
  const first = await scrape();
  const scrapeMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await scrape();
    scrapeMs.push(performance.now() - t0);
  }
  const peakScrapeMiB = status('VmHWM');
  const inProcessMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await inProcess();
    inProcessMs.push(performance.now() - t0);
  }
  return {
    scrapeMs,
    bytes: first.length,
    series: seriesIn(first),
    rssAfterSeedMiB,
    peakScrapeMiB,
    inProcessMs,
  };
}

async function ingot(): Promise<Result> {
  const { startTestRegion } = await import('../test/support/region.ts');
  const { seedMachines } = await import('../test/support/ui-seed.ts');
  const { summarise } = await import('../src/health/summary.ts');
  const r = await startTestRegion({ healthPollMs: 0, powerSampleMs: 0 });
  try {
    const t0 = performance.now();
    const ids = await seedMachines(r.region.store, { machines: MACHINES, zones: 4, racksPerZone: 25 });
    const now = Date.now();
    for (const [i, id] of ids.entries()) {
      const report = {
        health: i % 50 === 0 ? ('warning' as const) : ('ok' as const),
        readings: [
          { name: 'CPU1 Temp', kind: 'temperature' as const, value: 40 + (i % 30), unit: 'Cel' },
          { name: 'Inlet Temp', kind: 'temperature' as const, value: 22, unit: 'Cel' },
          ...[1, 2, 3, 4].map((f) => ({
            name: `Fan ${f}`,
            kind: 'fan' as const,
            value: 5000,
            unit: 'RPM',
            health: 'ok' as const,
          })),
          { name: 'Power Supply 1', kind: 'power' as const, value: 110, unit: 'W', health: 'ok' as const },
          { name: 'Power Supply 2', kind: 'power' as const, value: 105, unit: 'W', health: 'ok' as const },
          { name: 'System input power', kind: 'power' as const, value: 215 + (i % 40), unit: 'W' },
        ],
      };
      await r.region.store.recordHealthSample(summarise(id, now, report, []));
      await r.region.store.recordDiskHealth(
        Array.from({ length: DISKS }, (_, d) => ({
          machineId: id,
          serial: `SN${i}-${d}`,
          at: now,
          device: `/dev/nvme${d}`,
          model: 'Bench NVMe',
          protocol: 'nvme' as const,
          passed: true,
          reallocatedSectors: null,
          pendingSectors: null,
          mediaErrors: 0,
          percentageUsed: i % 100,
          temperatureCelsius: 35,
          powerOnHours: 1000,
          source: 'agent' as const,
        })),
      );
    }
    const seedS = (performance.now() - t0) / 1000;
    const scrape = async () => {
      const res = await r.fetch(`${r.region.url}/metrics`, {
        headers: { authorization: `Bearer ${r.adminToken}` },
      });
      if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
      return res.text();
    };
    const { healthMetrics } = await import('../src/health/metrics.ts');
    const health = healthMetrics(r.region.store, { reuseMs: 0 });
    const http = await scrapeRuns(scrape, () => health.exposition());
    // Paired with the floor, in turns, under the same load (this host is shared): Ingot's health
    // families from the store vs prom-client serialising the same series it already holds.
    const floorRegistry = await buildFloor();
    const inProcessMs: number[] = [];
    const pairedFloorMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      await health.exposition();
      inProcessMs.push(performance.now() - t);
      t = performance.now();
      await floorRegistry.metrics();
      pairedFloorMs.push(performance.now() - t);
    }
    return { role: 'ingot', seedS, ...http, inProcessMs, pairedFloorMs };
  } finally {
    await r.stop();
  }
}

/** prom-client alone: the same gauges, series and label shapes, values set once, no store. */
async function buildFloor(): Promise<Registry> {
  const registry = new Registry();
  const { MACHINE_LABELS, DISK_LABELS } = await import('../src/health/metrics.ts');
  const machineNames = [
    'bmc_up',
    'health_status',
    'temperature_max_celsius',
    'fans',
    'fans_failed',
    'psus',
    'psus_failed',
    'power_watts',
    'sel_critical_entries',
    'health_poll_timestamp_seconds',
  ];
  const diskNames = [
    'smart_passed',
    'media_errors',
    'endurance_used_ratio',
    'temperature_celsius',
    'report_timestamp_seconds',
  ];
  const labels = (i: number) => ({
    machine: `m-01kbfloor${String(i).padStart(16, '0')}`,
    hostname: `node-${String(i).padStart(5, '0')}`,
    zone: `az${(i % 4) + 1}`,
    rack: `r${String((Math.floor(i / 4) % 25) + 1).padStart(2, '0')}`,
    pool: i % 2 === 0 ? 'default' : 'batch',
    cluster: '',
    node: '',
  });
  for (const n of machineNames) {
    const g = new Gauge({
      name: `ingot_machine_${n}`,
      help: n,
      labelNames: MACHINE_LABELS,
      registers: [registry],
    });
    for (let i = 0; i < MACHINES; i++) g.set(labels(i), i % 100);
  }
  for (const n of diskNames) {
    const g = new Gauge({ name: `ingot_disk_${n}`, help: n, labelNames: DISK_LABELS, registers: [registry] });
    for (let i = 0; i < MACHINES; i++)
      for (let d = 0; d < DISKS; d++)
        g.set({ ...labels(i), serial: `SN${i}-${d}`, device: `/dev/nvme${d}` }, d);
  }
  return registry;
}

async function floor(): Promise<Result> {
  const t0 = performance.now();
  const registry = await buildFloor();
  const seedS = (performance.now() - t0) / 1000;
  return { role: 'floor', seedS, ...(await scrapeRuns(() => registry.metrics())), pairedFloorMs: [] };
}

if (values.role) {
  const r = values.role === 'ingot' ? await ingot() : await floor();
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}

const child = (role: string): Result => {
  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      new URL(import.meta.url).pathname,
      `--role=${role}`,
      `--machines=${MACHINES}`,
      `--disks=${DISKS}`,
      `--runs=${RUNS}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [child('floor'), child('ingot')];
process.stdout.write(
  `${MACHINES} machines × ${DISKS} disks, ${RUNS} scrapes after a warm-up; ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n\n`,
);
process.stdout.write(
  '| side | series | exposition | GET /metrics p50 | GET max | in-process p50 | floor, same turns, p50 | RSS after seeding | peak RSS while scraping |\n|---|---|---|---|---|---|---|---|---|\n',
);
const ms = (xs: number[]) => (xs.length ? `${median(xs).toFixed(0)} ms` : '—');
for (const r of rows) {
  const ingotRow = r.role === 'ingot';
  process.stdout.write(
    `| ${ingotRow ? 'Ingot (region, SQLite)' : 'floor (prom-client alone)'} | ${r.series.toLocaleString('en')} | ${(r.bytes / 2 ** 20).toFixed(1)} MiB | ${ingotRow ? ms(r.scrapeMs) : '—'} | ${ingotRow ? `${Math.max(...r.scrapeMs).toFixed(0)} ms` : '—'} | ${ms(r.inProcessMs)} | ${ms(r.pairedFloorMs)} | ${r.rssAfterSeedMiB.toFixed(0)} MiB | ${r.peakScrapeMiB.toFixed(0)} MiB |\n`,
  );
}
