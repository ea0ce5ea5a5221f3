/**
 * A drain (kind `drain`) survives the region running it: region A dies in the middle of the
 * eviction (its worker halted dead, its leases left to expire; the simulated cluster's drain
 * holds A's call there), region B on the same store takes the job over, says so on the timeline
 * (`cluster.node.drain-takeover`) and drains again from the cordon: the operation succeeds, the
 * cluster runs, and `ingot cluster drain` — which asked region A and follows the operation
 * through it — exits 0 with the pods evicted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeKube } from '../src/kube/fake.ts';
import { clusterYaml, createRunningCluster, seedClusterRegion } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';

interface Op {
  id: string;
  kind: string;
  state: string;
  reason: string;
  progress: {
    nodes: { hostname: string; state: string; step: string | null }[];
    drain?: { runner: string | null; evicted: string[] };
  };
}
interface Ev {
  type: string;
  message: string;
  data: Record<string, unknown>;
}

describe('a drain whose region dies mid-drain is finished by another region on the same store', {
  timeout: 120_000,
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-drain-tk-'));
  const kube = new FakeKube();
  let a: TestRegion;
  let b: TestRegion | undefined;
  let bury: () => void = () => {};
  const opts = () => ({ dataDir, clusterLimits: { pollMs: 20 }, leaseMs: 800, simulatedKube: kube });

  before(async () => {
    a = await startTestRegion(opts());
    await seedClusterRegion(a, '10.58');
    await createRunningCluster(a, 'tk', clusterYaml('tk', { net: '10.58' }), 60_000);
  });
  after(async () => {
    bury();
    await b?.stop().catch(() => undefined);
    await a?.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('region B takes the drain over after region A died mid-eviction, drains from the cordon, and the CLI following A exits 0', async () => {
    // Region A's eviction never answers (the region died there); buried at the end.
    let held: () => void = () => {};
    const inEviction = new Promise<void>((r) => {
      held = r;
    });
    const buried = new Promise<void>((r) => {
      bury = r;
    });
    kube.drainHold = async () => {
      held();
      await buried;
      throw new Error('region A is dead');
    };
    kube.podsOn.set('w-2', ['shop/web-7']);
    const cli = runIngot(['cluster', 'drain', 'tk', 'w-2', '--timeout', '60'], { env: a.cliEnv });
    await inEviction;
    const ops = (await a.api<Op[]>('GET', '/api/v1/clusters/tk/operations')).body;
    const id = ops[0].id;
    assert.equal(ops[0].kind, 'drain');
    // Dead: no more writes, its lease left to expire (halt waits for its stuck step: buried at the end).
    const halted = a.region.engine.worker.halt();
    const atDeath = (await a.api<Op>('GET', `/api/v1/clusters/tk/operations/${id}`)).body;
    assert.equal(atDeath.state, 'running');
    assert.equal(atDeath.progress.nodes[0].step, 'cordoned');
    assert.equal(atDeath.progress.drain?.runner, a.region.engine.owner);
    kube.drainHold = null;
    b = await startTestRegion(opts());
    const bOwner = b.region.engine.owner;
    const end = await eventually(
      async () => {
        const o = (await b!.api<Op>('GET', `/api/v1/clusters/tk/operations/${id}`)).body;
        return o.state === 'running' ? null : o;
      },
      30_000,
      'the drain ended in region B',
    );
    assert.equal(end.state, 'succeeded', end.reason);
    assert.equal(end.progress.drain?.runner, bOwner);
    assert.deepEqual(end.progress.drain?.evicted, ['shop/web-7']);
    assert.ok(kube.cordoned.has('w-2'));
    const done = await cli;
    assert.equal(done.code, 0, `${done.err}\n${done.out}`);
    assert.match(done.out, /w-2 drained and cordoned: 1 pod\(s\) evicted \(shop\/web-7\)/);
    bury();
    await halted;
    const ev = (await b.api<Ev[]>('GET', '/api/v1/clusters/tk/events?limit=1000')).body.filter(
      (e) => e.data.operation === id,
    );
    const takeover = ev.filter((e) => e.type === 'cluster.node.drain-takeover');
    assert.equal(takeover.length, 1, ev.map((e) => e.type).join(' '));
    assert.match(
      takeover[0].message,
      new RegExp(
        `taken over by ${bOwner} after step cordoned \\(${a.region.engine.owner}, which ran it, stopped\\); draining again from the cordon`,
      ),
    );
    assert.deepEqual(
      ev.filter((e) => e.type.startsWith('cluster.node.drain')).map((e) => e.type),
      ['cluster.node.drain', 'cluster.node.drain-takeover', 'cluster.node.drained'],
    );
    const c = await eventually(
      async () => {
        const g = await b!.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/tk');
        return g.body.cluster.state === 'running' ? g.body.cluster : null;
      },
      10_000,
      'the cluster running',
    );
    assert.equal(c.state, 'running');
  });
});
