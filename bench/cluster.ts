/**
 * Plans and renders a 1,000-node cluster (3 control planes, 3 external etcd members, 994
 * workers, every add-on, fresh PKI) and prints how long each phase takes.
 * Goal (issue 6): plan + render in < 5 s. Results: docs/bench-cluster.md.
 *   node bench/cluster.ts [--nodes 1000] [--runs 5]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPlan, generatePki, renderArtifacts, validateCluster } from '../src/cluster/index.ts';
import { writeArtifacts } from '../src/cluster/render/write.ts';
import { inventory } from '../src/cluster/testing.ts';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '1000' }, runs: { type: 'string', default: '5' } },
});
const nodes = Number(values.nodes);
const runs = Number(values.runs);

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

const rows: number[][] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-bench-'));
  const t0 = process.hrtime.bigint();
  const plan = buildPlan(spec, inv2);
  const tPlan = ms(t0);
  const t1 = process.hrtime.bigint();
  const pki = await generatePki('kubeadm:cluster-admins');
  const tPki = ms(t1);
  const t2 = process.hrtime.bigint();
  const artifacts = await renderArtifacts(spec, plan, pki, secrets);
  const tRender = ms(t2);
  const t3 = process.hrtime.bigint();
  writeArtifacts(dir, artifacts);
  const tWrite = ms(t3);
  const total = ms(t0);
  // Peer: the same bytes written with bare mkdir + writeFileSync, i.e. what the disk costs.
  const raw = mkdtempSync(join(tmpdir(), 'ingot-bench-raw-'));
  const t4 = process.hrtime.bigint();
  for (const a of artifacts) {
    mkdirSync(dirname(join(raw, a.path)), { recursive: true });
    writeFileSync(join(raw, a.path), a.content);
  }
  rows.push([tPlan, tPki, tRender, tWrite, total, ms(t4)]);
  rmSync(raw, { recursive: true, force: true });
  if (i === 0) {
    const bytes = artifacts.reduce((n, a) => n + a.content.length, 0);
    process.stdout.write(
      `${plan.nodes.length} nodes, ${artifacts.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB\n`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const names = ['plan', 'pki', 'render', 'write', 'total', 'raw-write-peer'];
process.stdout.write(
  `median of ${runs} runs (ms): ${names.map((n, i) => `${n} ${median(rows.map((r) => r[i])).toFixed(0)}`).join(', ')}\n`,
);
process.stdout.write(`max total: ${Math.max(...rows.map((r) => r[4])).toFixed(0)} ms\n`);
