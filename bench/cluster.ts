/**
 * Plans and renders a 1,000-node cluster (3 control planes, 3 external etcd members, 994
 * workers, every add-on, fresh PKI) and prints each phase beside its floor, measured in the
 * same run (issue 19):
 *  - plan + PKI + render in memory vs the floor: generating the same keys and certificates
 *    alone (`generatePki`, as many RSA keys and certificates); goal ratio ≤ 2;
 *  - writing the files vs bare mkdir + writeFileSync of the same bytes.
 * Floor and product alternate which goes first; each run prints its ratios, the end their
 * min / median / max and the load average. `--warmup` runs of both go first, not counted (since
 * 2026-12-05: the first run's floor, JIT not warm, took 2–3× its later runs and pulled the
 * ratio's median down). A full collection goes before each timed floor and product (since
 * 2026-12-06), so neither pays for the other's garbage: a young-generation collection here takes
 * 12–17 ms, half the floor, and which of the two it fell in decided a run's ratio (1.05–4.06 in
 * one sitting without, 1.53–2.80 with). Results: docs/bench-cluster.md.
 *   node bench/cluster.ts [--nodes 1000] [--runs 5] [--warmup 2]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildPlan, generatePki, renderArtifacts, validateCluster } from '../src/cluster/index.ts';
import { writeArtifacts } from '../src/cluster/render/write.ts';
import { inventory } from '../src/cluster/testing.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
  },
});
const nodes = Number(values.nodes);
const runs = Number(values.runs);
const warmup = Number(values.warmup);

// 3 zones × 12 racks × 28 machines = 1,008 machines on one /20.
const inv = inventory(3, 12, Math.ceil(nodes / 36));
const base = inv.subnets[0];
const inv2 = {
  ...inv,
  subnets: [
    {
      ...base,
      cidr: '10.0.0.0/20',
      ranges: [{ kind: 'dynamic' as const, start: '10.0.15.0', end: '10.0.15.254' }],
    },
  ],
};
const racks = [...new Set(inv.machines.map((m) => m.rack))];
const spec = validateCluster({
  apiVersion: 'ingot.dev/v1alpha1',
  kind: 'Cluster',
  metadata: { name: 'bench' },
  spec: {
    controlPlane: { count: 3 },
    etcd: { topology: 'external', count: 3 },
    workers: [{ name: 'general', count: nodes - 6 }],
    endpoint: { address: '10.0.0.10' },
    networking: {
      bond: { members: [] },
      cni: {
        plugin: 'cilium',
        bgp: {
          asn: 64512,
          peers: racks.map((r, i) => ({
            address: `10.0.14.${i + 1}`,
            asn: 65001 + i,
            racks: [r],
            password: { secret: 'tor' },
          })),
        },
      },
      metallb: { pools: [{ name: 'lb', addresses: ['10.0.13.0/24'] }] },
    },
    storage: { provider: 'longhorn' },
    observability: { loki: true },
    backups: {
      etcd: {
        s3: {
          endpoint: 'https://s3.example.com',
          bucket: 'b',
          accessKey: { secret: 'a' },
          secretKey: { secret: 's' },
        },
      },
    },
    gitops: { provider: 'flux', repository: 'https://git.example.com/bench.git' },
  },
});
const secrets = new Map([
  ['tor', 'pw'],
  ['a', 'AK'],
  ['s', 'SK'],
]);

function ms(t: bigint): number {
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const load = () => loadavg()[0].toFixed(1);
process.stdout.write(
  `# cluster render bench ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} × ${cpus()[0].model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load ${load()}\n`,
);

// A full collection on demand, without a command-line flag: `node bench/cluster.ts` as before.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function floor(): Promise<number> {
  gc();
  const t = process.hrtime.bigint();
  await generatePki('kubeadm:cluster-admins');
  return ms(t);
}

type Row = {
  plan: number;
  pki: number;
  render: number;
  product: number;
  floor: number;
  write: number;
  rawWrite: number;
};
for (let i = 0; i < warmup; i++) {
  await renderArtifacts(spec, buildPlan(spec, inv2), await generatePki('kubeadm:cluster-admins'), secrets);
  await floor();
}
if (warmup > 0) process.stdout.write(`${warmup} warm-up runs of both, not counted\n`);
const rows: Row[] = [];
for (let i = 0; i < runs; i++) {
  // The floor goes first in even runs, last in odd ones: a load change hits both alike.
  const before = i % 2 === 0 ? await floor() : 0;
  gc();
  const t0 = process.hrtime.bigint();
  const plan = buildPlan(spec, inv2);
  const tPlan = ms(t0);
  const t1 = process.hrtime.bigint();
  const pki = await generatePki('kubeadm:cluster-admins');
  const tPki = ms(t1);
  const t2 = process.hrtime.bigint();
  const artifacts = await renderArtifacts(spec, plan, pki, secrets);
  const tRender = ms(t2);
  const product = ms(t0);
  const after = i % 2 === 1 ? await floor() : 0;
  const dir = mkdtempSync(join(tmpdir(), 'ingot-bench-'));
  const t3 = process.hrtime.bigint();
  writeArtifacts(dir, artifacts);
  const tWrite = ms(t3);
  // Floor of the writes: the same bytes written with bare mkdir + writeFileSync.
  const raw = mkdtempSync(join(tmpdir(), 'ingot-bench-raw-'));
  const t4 = process.hrtime.bigint();
  for (const a of artifacts) {
    mkdirSync(dirname(join(raw, a.path)), { recursive: true });
    writeFileSync(join(raw, a.path), a.content);
  }
  const row = {
    plan: tPlan,
    pki: tPki,
    render: tRender,
    product,
    floor: before + after,
    write: tWrite,
    rawWrite: ms(t4),
  };
  rows.push(row);
  rmSync(raw, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  if (i === 0) {
    const bytes = artifacts.reduce((n, a) => n + a.content.length, 0);
    process.stdout.write(
      `${plan.nodes.length} nodes, ${artifacts.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB\n`,
    );
  }
  process.stdout.write(
    `run ${i + 1}: plan ${row.plan.toFixed(0)} + PKI ${row.pki.toFixed(0)} + render ${row.render.toFixed(0)} = ${row.product.toFixed(0)} ms vs PKI alone ${row.floor.toFixed(0)} ms: ${(row.product / row.floor).toFixed(2)}×; write ${row.write.toFixed(0)} vs bare ${row.rawWrite.toFixed(0)} ms: ${(row.write / row.rawWrite).toFixed(2)}× (load ${load()})\n`,
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[], digits = 0) =>
  `min ${Math.min(...xs).toFixed(digits)} / median ${median(xs).toFixed(digits)} / max ${Math.max(...xs).toFixed(digits)}`;
process.stdout.write(
  `over ${runs} runs (ms): ${(['plan', 'pki', 'render', 'product', 'floor'] as const).map((k) => `${k} ${median(rows.map((r) => r[k])).toFixed(0)}`).join(', ')}\n`,
);
process.stdout.write(
  `plan + PKI + render / PKI alone (goal ≤ 2): ${spread(
    rows.map((r) => r.product / r.floor),
    2,
  )}\n`,
);
process.stdout.write(
  `write / bare writes: ${spread(
    rows.map((r) => r.write / r.rawWrite),
    2,
  )}; load ${load()}\n`,
);
