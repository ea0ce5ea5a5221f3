/**
 * Orchestration overhead of `cluster create` (issue 15): N ready fake:// machines turned into a
 * running cluster (deploy every node through its own deploy job, bootstrap in order, wait for
 * Ready) against the floor of N plain deploy workflows on the same kind of region: the same
 * store (SQLite), worker, fake BMCs and simulated agent, in one process. The cluster adds the
 * plan, the PKI, rendering N user-data documents (sealed), the bootstrap tasks and the polls.
 * Runs alternate floor and cluster (the machine is shared: load moves both alike) and the
 * medians are printed. Usage: node bench/cluster-create.ts [--nodes 1000] [--runs 5]
 * [--deploys N] [--joins N] (members deployed / workers joining at once; default: all)
 * [--only floor|cluster] (one side alone, to profile it).
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resetFakeBmcs } from '../src/bmc/fake.ts';
import { requestAction } from '../src/engine/actions.ts';
import { createCluster } from '../src/engine/cluster/actions.ts';
import { FakeAgent } from '../src/engine/fake-agent.ts';
import { POLL } from '../src/engine/steps.ts';
import { Worker } from '../src/engine/worker.ts';
import { FakeKube } from '../src/kube/fake.ts';
import { openStore } from '../src/store/open.ts';
import type { SqlStore } from '../src/store/sql-store.ts';
import { machineInput } from '../src/store/testing.ts';
import { clusterYaml, NODE_IMAGE } from '../test/support/cluster-seed.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    deploys: { type: 'string' },
    joins: { type: 'string' },
    runs: { type: 'string', default: '5' },
    // For a profile of one side (node --cpu-prof …): no ratio is printed.
    only: { type: 'string' },
  },
});
const N = Number(values.nodes);
const DEPLOYS = Number(values.deploys ?? N);
const JOINS = Number(values.joins ?? N);
POLL.agentMs = 50;

async function region(): Promise<{ store: SqlStore; dir: string; ids: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'ingot-bench-cluster-'));
  const store = await openStore({ dataDir: dir });
  await store.createSubnet(
    {
      name: 'nodes',
      cidr: '10.20.0.0/20',
      gateway: '10.20.0.1',
      dns: [],
      vlan: null,
      dhcpMode: 'full',
      autoEnlist: false,
      ranges: [{ kind: 'dynamic', start: '10.20.15.0', end: '10.20.15.254' }],
    },
    'bench',
  );
  await store.createImage(NODE_IMAGE, 'bench');
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const m = await store.createMachine(
      machineInput({
        pool: i === 0 ? 'control' : 'general',
        rack: `r${i % 20}`,
        state: 'ready',
        stateReason: 'bench',
      }),
      'bench',
    );
    await store.updateMachine(
      m.id,
      { disks: [{ name: 'sda', sizeBytes: 480e9 }], cpu: { cores: 8 }, memoryBytes: 32 * 2 ** 30 },
      'bench',
    );
    ids.push(m.id);
  }
  return { store, dir, ids };
}

function worker(store: SqlStore, kube: FakeKube): Worker {
  const w = new Worker({
    store,
    agent: new FakeAgent({ kube }),
    pollMs: 20,
    limits: { global: 2 * N + 10, perRack: N, perBmc: 4 },
    cluster: { kube, limits: { pollMs: 50, deploys: DEPLOYS, joins: JOINS }, secrets: () => undefined },
  });
  w.start();
  return w;
}

async function waitFor(f: () => Promise<boolean>): Promise<void> {
  while (!(await f())) await new Promise((r) => setTimeout(r, 50));
}

async function floor(): Promise<number> {
  const { store, dir, ids } = await region();
  const w = worker(store, new FakeKube());
  const userData = `#cloud-config\n${'# padding\n'.repeat(2000)}`;
  const t0 = performance.now();
  for (const id of ids)
    await requestAction(store, { machineId: id, action: 'deploy', actor: 'bench', sealedUserData: userData });
  await waitFor(async () => (await store.countMachinesByState()).deployed === N);
  const ms = performance.now() - t0;
  await w.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  resetFakeBmcs();
  return ms;
}

async function cluster(): Promise<{ ms: number; steps: Record<string, number> }> {
  const { store, dir } = await region();
  const kube = new FakeKube();
  const w = worker(store, kube);
  const t0 = performance.now();
  const { cluster } = await createCluster(store, {
    clusterFile: clusterYaml('bench', { workers: N - 1 }),
    actor: 'bench',
    secrets: () => undefined,
  });
  const accepted = performance.now() - t0;
  await waitFor(async () => {
    const c = await store.getCluster(cluster.id);
    if (c.state.startsWith('failed')) throw new Error(`${c.state}: ${c.stateReason}`);
    return c.state === 'running';
  });
  const ms = performance.now() - t0;
  const steps: Record<string, number> = { 'create (plan, PKI, allocate)': accepted };
  for (const e of await store.listEvents({ clusterId: cluster.id, limit: 100_000 }))
    if (e.type === 'step.completed') steps[String(e.data.step)] = Number(e.data.ms);
  await w.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  resetFakeBmcs();
  return { ms, steps };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const floors: number[] = [];
const clusters: { ms: number; steps: Record<string, number> }[] = [];
if (values.only === 'cluster' || values.only === 'floor') {
  const t = values.only === 'floor' ? await floor() : (await cluster()).ms;
  console.log(`${values.only} alone: ${Math.round(t)} ms`);
  process.exit(0);
}
for (let i = 0; i < Number(values.runs); i++) {
  floors.push(await floor());
  clusters.push(await cluster());
  console.log(`run ${i + 1}: floor ${Math.round(floors[i])} ms, cluster ${Math.round(clusters[i].ms)} ms`);
}
const f = median(floors);
const c = median(clusters.map((x) => x.ms));
console.log(
  `nodes ${N}, deploys at once ${DEPLOYS}, joins at once ${JOINS}; ${cpus().length} cores; medians of ${floors.length}`,
);
const spread = (xs: number[]) =>
  `min ${Math.round(Math.min(...xs))} / median ${Math.round(median(xs))} / max ${Math.round(Math.max(...xs))} ms`;
const ratios = clusters.map((x, i) => x.ms / floors[i]);
console.log(`floor: ${N} plain deploy workflows: ${spread(floors)}`);
console.log(
  `cluster create → running: ${spread(clusters.map((x) => x.ms))} (ratio of medians ${(c / f).toFixed(2)})`,
);
console.log(
  `per-run ratios (cluster / the floor run just before it): ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}`,
);
for (const k of Object.keys(clusters[0].steps))
  console.log(`  ${k}: ${Math.round(median(clusters.map((x) => x.steps[k])))} ms`);
