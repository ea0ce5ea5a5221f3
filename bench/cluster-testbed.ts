/**
 * `cluster create` on the test bed vs the floor, in one run (docs/bench-cluster.md):
 *
 * - floor: the bed's own direct bring-up of the same 1+1 cluster (`up()`: kubeadm init and join
 *   run by the bed itself with its own render), its phases as `up` times them;
 * - Ingot: a prepared bed (the same nodes stopped before kubeadm), enrolled and commissioned in
 *   a region, then `POST /api/v1/clusters` until `running`, split by what each node's agent
 *   reported (test/support/cluster-bed.ts; the same wiring as test/cluster-testbed.test.ts).
 *
 *   node bench/cluster-testbed.ts     (root; the Kubernetes 1.20.2 bundle must be built)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { down, up } from '../src/lab/testbed/bed.ts';
import {
  bedClusterFile,
  newClusterBed,
  nodeTimeline,
  startClusterBed,
  stopClusterBed,
  type TimelineEvent,
} from '../test/support/cluster-bed.ts';
import { NODE_IMAGE } from '../test/support/cluster-seed.ts';
import { bedName, reapStaleBeds, waitFor } from '../test/support/testbed.ts';

const say = (l: string) => process.stdout.write(`${l}\n`);

async function floor(): Promise<Record<string, number>> {
  const name = bedName('cf');
  const root = mkdtempSync(join(tmpdir(), 'ingot-cf-'));
  try {
    const bed = await up({ name, topology: '1+1', root });
    return bed.timings;
  } finally {
    await down({ name, root });
    rmSync(root, { recursive: true, force: true });
  }
}

async function ingot(): Promise<{ prepare: Record<string, number>; total: number; timeline: string[] }> {
  const cb = newClusterBed(bedName('cc'));
  try {
    await startClusterBed(cb);
    const r = cb.r!;
    const t = Date.now();
    const res = await r.api('POST', '/api/v1/clusters', {
      cluster: bedClusterFile('bench', cb.bed!),
      image: NODE_IMAGE.name,
    });
    if (res.status !== 202) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
    const state = async () =>
      (await r.api<{ cluster: { state: string; stateReason: string } }>('GET', '/api/v1/clusters/bench')).body
        .cluster;
    await waitFor(
      async () => ['running', 'failed_creating'].includes((await state()).state),
      20 * 60_000,
      'create',
    );
    const total = (Date.now() - t) / 1000;
    const end = await state();
    if (end.state !== 'running') throw new Error(`create failed: ${end.stateReason}`);
    const ev = (await r.api<TimelineEvent[]>('GET', '/api/v1/clusters/bench/events?limit=1000')).body;
    const timeline = [...cb.ids].map(
      ([n, id]) =>
        `${n}: ${nodeTimeline(ev, id)
          .map((x) => `${x.what} +${x.s.toFixed(1)}s`)
          .join(' | ')}`,
    );
    return { prepare: cb.prepareTimings ?? {}, total, timeline };
  } finally {
    await stopClusterBed(cb);
  }
}

if (import.meta.main) {
  await reapStaleBeds('cf');
  await reapStaleBeds('cc');
  say(
    `load average before: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const f = await floor();
  say(`floor (the bed's own kubeadm bring-up, s): ${JSON.stringify(f)}`);
  const i = await ingot();
  say(`ingot: prepared bed (s): ${JSON.stringify(i.prepare)}`);
  say(`ingot: cluster create → running: ${i.total.toFixed(1)} s`);
  for (const l of i.timeline) say(`  ${l}`);
  say(
    `load average after: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
}
