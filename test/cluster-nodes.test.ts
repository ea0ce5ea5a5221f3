/**
 * Draining and uncordoning one node of a running (simulated) cluster through the API and the
 * CLI: the drain a PodDisruptionBudget holds is a 409 INGOT_DRAIN_BLOCKED naming the PDB (exit
 * code 4 from `ingot cluster drain`), and is on the cluster's timeline with the node; roles and
 * bad input are refused. The drain itself against real Kubernetes: test/day2.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeKube } from '../src/kube/fake.ts';
import { startRunningClusterRegion } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import type { TestRegion } from './support/region.ts';

interface Err {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

describe('cluster drain and uncordon', () => {
  let r: TestRegion;
  let viewer: string;
  const kube = new FakeKube();

  before(async () => {
    ({ r, viewer } = await startRunningClusterRegion('dc', '10.40', kube));
  });
  after(async () => r?.stop());

  it('drains a member node (200) and uncordons it, both on the cluster timeline', async () => {
    const d = await r.api<{ node: string; evicted: string[] }>(
      'POST',
      '/api/v1/clusters/dc/nodes/w-1/drain',
      {},
    );
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.node, 'w-1');
    assert.ok(kube.cordoned.has('w-1'));
    const u = await r.api('POST', '/api/v1/clusters/dc/nodes/w-1/uncordon', {});
    assert.equal(u.status, 200);
    assert.equal(kube.cordoned.has('w-1'), false);
    const types = (
      await r.api<{ type: string; data: { node?: string } }[]>('GET', '/api/v1/clusters/dc/events?limit=500')
    ).body
      .filter((e) => e.data.node === 'w-1')
      .map((e) => e.type);
    assert.deepEqual(types, ['cluster.node.drain', 'cluster.node.drained', 'cluster.node.uncordoned']);
  });

  it('answers 409 INGOT_DRAIN_BLOCKED naming the PDB, and the CLI exits 4 saying so', async () => {
    kube.blockedByPdb.set('w-2', 'shop/checkout');
    try {
      const d = await r.api<Err>('POST', '/api/v1/clusters/dc/nodes/w-2/drain', { timeoutSeconds: 5 });
      assert.equal(d.status, 409);
      assert.equal(d.body.code, 'INGOT_DRAIN_BLOCKED');
      assert.equal(d.body.details.pdb, 'shop/checkout');
      assert.match(d.body.message, /blocked by PDB shop\/checkout for 5 s/);
      const cli = await runIngot(['cluster', 'drain', 'dc', 'w-2', '--timeout', '5'], { env: r.cliEnv });
      assert.equal(cli.code, 4, cli.err);
      assert.match(cli.err, /blocked by PDB shop\/checkout/);
      const last = (
        await r.api<{ type: string; data: { node?: string; pdb?: string } }[]>(
          'GET',
          '/api/v1/clusters/dc/events?limit=500',
        )
      ).body.at(-1);
      assert.equal(last?.type, 'cluster.node.drain-failed');
      assert.equal(last?.data.pdb, 'shop/checkout');
    } finally {
      kube.blockedByPdb.delete('w-2');
    }
    const ok = await runIngot(['cluster', 'drain', 'dc', 'w-2'], { env: r.cliEnv });
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /w-2 drained and cordoned: 0 pod\(s\) evicted/);
    assert.equal((await runIngot(['cluster', 'uncordon', 'dc', 'w-2'], { env: r.cliEnv })).code, 0);
  });

  it('refuses a node that is not a member (404), a viewer (403), bad input (400), and changes nothing', async () => {
    const nf = await r.api<Err>('POST', '/api/v1/clusters/dc/nodes/nope/drain', {});
    assert.equal(nf.status, 404);
    assert.match(nf.body.message, /node nope is not a member of cluster dc: its members are cp-1, w-1, w-2/);
    assert.equal((await r.api('POST', '/api/v1/clusters/dc/nodes/w-1/drain', {}, viewer)).status, 403);
    const bad = await r.api<Err>('POST', '/api/v1/clusters/dc/nodes/w-1/drain', { timeoutSeconds: 0 });
    assert.equal(bad.status, 400);
    const extra = await r.api<Err>('POST', '/api/v1/clusters/dc/nodes/w-1/drain', { grace: 1 });
    assert.equal(extra.status, 400);
    const cli = await runIngot(['cluster', 'drain', 'dc', 'w-1', '--timeout', '900'], { env: r.cliEnv });
    assert.notEqual(cli.code, 0);
    assert.match(cli.err, /--timeout: 900 must be a whole number of seconds from 1 to 280/);
    assert.equal(kube.cordoned.has('w-1'), false);
  });
});
