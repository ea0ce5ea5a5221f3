/**
 * Draining and uncordoning one node of a running (simulated) cluster through the API and the
 * CLI. The drain is a durable operation (kind `drain`): 202 with the operation, followed with
 * `GET …/operations/{id}`; its steps (cordoned → drained) on the operation, its events on the
 * cluster's timeline with the node and the operation. A PodDisruptionBudget holding it is the
 * node's message ("blocked by PDB ns/name") until it lets go; still holding at the timeout,
 * the drain fails naming the PDB, the node left cordoned and the cluster running, and `ingot
 * cluster drain` exits 1 saying so. A second operation while one runs is 409; roles and bad input
 * are refused. A region dying mid-drain: test/cluster-drain-takeover.test.ts; the drain itself
 * against real Kubernetes: test/day2.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../src/core/errors.ts';
import { FakeKube } from '../src/kube/fake.ts';
import { startRunningClusterRegion } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { eventually, type TestRegion } from './support/region.ts';

interface Err {
  code: string;
  message: string;
  details: Record<string, unknown>;
}
interface DrainView {
  operation: string;
  state: string;
  node: string;
  step: string | null;
  timeoutSeconds: number;
  evicted: string[];
}
interface Op {
  id: string;
  kind: string;
  state: string;
  reason: string;
  actor: string;
  params: { node?: string; timeoutSeconds?: number; force?: boolean };
  progress: {
    nodes: { hostname: string; state: string; step: string | null; message: string | null }[];
    drain?: { evicted: string[]; kept: string[]; pdb: string | null };
  };
}
interface Ev {
  type: string;
  data: { node?: string; operation?: string; pdb?: string };
}

describe('cluster drain (a durable operation) and uncordon', { timeout: 120_000 }, () => {
  let r: TestRegion;
  let viewer: string;
  const kube = new FakeKube();

  before(async () => {
    ({ r, viewer } = await startRunningClusterRegion('dc', '10.40', kube));
  });
  after(async () => r?.stop());

  const op = async (id: string) => (await r.api<Op>('GET', `/api/v1/clusters/dc/operations/${id}`)).body;
  const ended = (id: string) =>
    eventually(
      async () => {
        const o = await op(id);
        return o.state === 'running' ? null : o;
      },
      30_000,
      `operation ${id} ended`,
    );
  const clusterState = async () =>
    (await r.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/dc')).body.cluster.state;
  const events = async () => (await r.api<Ev[]>('GET', '/api/v1/clusters/dc/events?limit=1000')).body;

  it('answers 202 with the drain operation; its node goes cordoned → drained, the pods evicted are recorded, and it is on the timeline', async () => {
    kube.podsOn.set('w-1', ['shop/web-1', 'shop/web-2']);
    const d = await r.api<DrainView>('POST', '/api/v1/clusters/dc/nodes/w-1/drain', {});
    assert.equal(d.status, 202, JSON.stringify(d.body));
    assert.equal(d.body.node, 'w-1');
    assert.equal(d.body.state, 'running');
    assert.equal(d.body.timeoutSeconds, 300);
    const o = await ended(d.body.operation);
    assert.equal(o.kind, 'drain');
    assert.equal(o.state, 'succeeded', o.reason);
    assert.equal(o.actor, 'user:admin');
    assert.deepEqual(o.params, { node: 'w-1', timeoutSeconds: 300, force: false, ...o.params });
    assert.deepEqual(
      o.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [['w-1', 'done', 'drained']],
    );
    assert.deepEqual(o.progress.drain?.evicted, ['shop/web-1', 'shop/web-2']);
    assert.ok(kube.cordoned.has('w-1'), 'a drained node stays cordoned');
    // The node's newest drain, in the view the POST answered.
    const v = await r.api<DrainView>('GET', '/api/v1/clusters/dc/nodes/w-1/drain');
    assert.equal(v.status, 200, JSON.stringify(v.body));
    assert.deepEqual(
      [v.body.operation, v.body.state, v.body.step, v.body.evicted],
      [d.body.operation, 'succeeded', 'drained', ['shop/web-1', 'shop/web-2']],
    );
    const none = await r.api<{ code: string; message: string }>('GET', '/api/v1/clusters/dc/nodes/w-2/drain');
    assert.equal(none.status, 404);
    assert.match(none.body.message, /no drain of node w-2; `ingot cluster drain dc w-2` starts one/);
    assert.equal(await clusterState(), 'running');
    const u = await r.api('POST', '/api/v1/clusters/dc/nodes/w-1/uncordon', {});
    assert.equal(u.status, 200);
    assert.equal(kube.cordoned.has('w-1'), false);
    const mine = (await events()).filter((e) => e.data.node === 'w-1');
    assert.deepEqual(
      mine.map((e) => e.type),
      ['cluster.node.drain', 'cluster.node.drained', 'cluster.node.uncordoned'],
    );
    assert.deepEqual(
      mine.slice(0, 2).map((e) => e.data.operation),
      [d.body.operation, d.body.operation],
    );
  });

  it('while a PDB holds the drain the node says "blocked by PDB ns/name"; once it lets go the drain ends succeeded', async () => {
    kube.blockedByPdb.set('w-2', 'shop/checkout');
    // The eviction attempt waits on the PDB as the real drain does: the node's message comes
    // from the refusals it is told of meanwhile.
    kube.blockWaits = true;
    try {
      const d = await r.api<DrainView>('POST', '/api/v1/clusters/dc/nodes/w-2/drain', { timeoutSeconds: 60 });
      assert.equal(d.status, 202);
      const blocked = await eventually(
        async () => {
          const o = await op(d.body.operation);
          return /blocked by PDB shop\/checkout/.test(o.progress.nodes[0].message ?? '') ? o : null;
        },
        10_000,
        'the node blocked by the PDB',
      );
      assert.equal(blocked.state, 'running');
      assert.equal(blocked.progress.nodes[0].step, 'cordoned');
      assert.ok(kube.cordoned.has('w-2'));
      kube.blockedByPdb.delete('w-2');
      const o = await ended(d.body.operation);
      assert.equal(o.state, 'succeeded', o.reason);
      assert.equal(o.progress.drain?.pdb, 'shop/checkout', 'the PDB that held it is kept');
      const blockedEv = (await events()).filter(
        (e) => e.type === 'cluster.node.drain-blocked' && e.data.operation === d.body.operation,
      );
      assert.equal(blockedEv.length, 1, 'told once per reason');
      assert.equal(blockedEv[0].data.pdb, 'shop/checkout');
    } finally {
      kube.blockWaits = false;
      kube.blockedByPdb.delete('w-2');
      await kube.uncordon(
        (await r.region.store.clusterKubeconfig((await r.region.store.getCluster('dc')).id)) ?? '',
        'w-2',
      );
    }
  });

  it('still blocked at the timeout: failed naming the PDB and what to do, the node cordoned, the cluster running; the CLI exits 1 saying so', async () => {
    kube.blockedByPdb.set('w-2', 'shop/checkout');
    try {
      const d = await r.api<DrainView>('POST', '/api/v1/clusters/dc/nodes/w-2/drain', { timeoutSeconds: 2 });
      assert.equal(d.status, 202);
      const o = await ended(d.body.operation);
      assert.equal(o.state, 'failed');
      assert.match(
        o.reason,
        /drain of w-2 failed: blocked by PDB shop\/checkout .*after 2 s \(the timeout\): relax the PodDisruptionBudget shop\/checkout or add replicas elsewhere, then drain again; w-2 stays cordoned/,
      );
      assert.equal(o.progress.nodes[0].state, 'failed');
      assert.ok(kube.cordoned.has('w-2'), 'left cordoned');
      const state = await eventually(
        async () => ((await clusterState()) === 'running' ? 'running' : null),
        10_000,
        'the cluster running',
      );
      assert.equal(state, 'running', 'nothing is half-done: not failed_updating');
      const last = (await events()).filter((e) => e.data.operation === d.body.operation).at(-1);
      assert.equal(last?.type, 'cluster.node.drain-failed');
      assert.equal(last?.data.pdb, 'shop/checkout');

      const cli = await runIngot(['cluster', 'drain', 'dc', 'w-2', '--timeout', '2'], { env: r.cliEnv });
      assert.equal(cli.code, 1, `${cli.err}\n${cli.out}`);
      assert.match(cli.out, /drain .* of w-2 failed: drain of w-2 failed: blocked by PDB shop\/checkout/);
      assert.match(cli.err, /w-2 cordoned; evicting its pods|w-2 blocked by PDB shop\/checkout/);
    } finally {
      kube.blockedByPdb.delete('w-2');
    }
    const ok = await runIngot(['cluster', 'drain', 'dc', 'w-2'], { env: r.cliEnv });
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /w-2 drained and cordoned: 0 pod\(s\) evicted/);
    assert.equal((await runIngot(['cluster', 'uncordon', 'dc', 'w-2'], { env: r.cliEnv })).code, 0);
  });

  it('asks again while the cluster API does not answer, and fails with the reason when it still does not at the timeout', async () => {
    const k = (await r.region.store.clusterKubeconfig((await r.region.store.getCluster('dc')).id)) ?? '';
    kube.apiDown = true;
    try {
      const d = await r.api<DrainView>('POST', '/api/v1/clusters/dc/nodes/w-1/drain', { timeoutSeconds: 60 });
      assert.equal(d.status, 202);
      const waiting = await eventually(
        async () => {
          const o = await op(d.body.operation);
          return /the cluster API does not answer/.test(o.progress.nodes[0].message ?? '') ? o : null;
        },
        10_000,
        'the drain waiting on the API',
      );
      assert.equal(waiting.state, 'running');
      kube.apiDown = false;
      const o = await ended(d.body.operation);
      assert.equal(o.state, 'succeeded', o.reason);
      await kube.uncordon(k, 'w-1');

      // The API goes away after the cordon, in the middle of the evictions, and stays away.
      kube.drainHold = async () => {
        throw new IngotError(ErrorCode.Unreachable, 'connect ECONNREFUSED (test)', { retryable: true });
      };
      const f = await r.api<DrainView>('POST', '/api/v1/clusters/dc/nodes/w-1/drain', { timeoutSeconds: 1 });
      const failed = await ended(f.body.operation);
      assert.equal(failed.state, 'failed');
      assert.match(
        failed.reason,
        /drain of w-1 failed: the cluster API does not answer: connect ECONNREFUSED \(test\) after 1 s \(the timeout\)/,
      );
      assert.equal(failed.progress.nodes[0].step, 'cordoned');
    } finally {
      kube.apiDown = false;
      kube.drainHold = null;
    }
    await eventually(async () => ((await clusterState()) === 'running' ? true : null), 10_000, 'running');
    await kube.uncordon(k, 'w-1');
  });

  it('refuses a drain while another operation holds the cluster (409 naming it), and --no-wait answers at once', async () => {
    kube.blockedByPdb.set('w-1', 'shop/checkout');
    try {
      const cli = await runIngot(['cluster', 'drain', 'dc', 'w-1', '--timeout', '60', '--no-wait'], {
        env: r.cliEnv,
      });
      assert.equal(cli.code, 0, cli.err);
      const id = /drain (\S+) of w-1 started \(at most 60 s\)/.exec(cli.out)?.[1];
      assert.ok(id, cli.out);
      const again = await r.api<Err>('POST', '/api/v1/clusters/dc/nodes/w-2/drain', {});
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'INGOT_OPERATION_RUNNING');
      assert.match(again.body.message, new RegExp(`already runs operation ${id} \\(drain, running\\)`));
      const abort = await r.api<Op>('POST', '/api/v1/clusters/dc/operations/active/abort', {});
      assert.equal(abort.status, 200);
      const o = await ended(id);
      assert.equal(o.state, 'aborted');
      await eventually(async () => ((await clusterState()) === 'running' ? true : null), 10_000, 'running');
    } finally {
      kube.blockedByPdb.delete('w-1');
    }
    await kube.uncordon(
      (await r.region.store.clusterKubeconfig((await r.region.store.getCluster('dc')).id)) ?? '',
      'w-1',
    );
  });

  it('refuses a node that is not a member (404), a viewer (403), bad input (400), and changes nothing', async () => {
    const nf = await r.api<Err>('POST', '/api/v1/clusters/dc/nodes/nope/drain', {});
    assert.equal(nf.status, 404);
    assert.match(nf.body.message, /node nope is not a member of cluster dc: its members are cp-1, w-1, w-2/);
    assert.equal((await r.api('POST', '/api/v1/clusters/dc/nodes/w-1/drain', {}, viewer)).status, 403);
    const bad = await r.api<Err>('POST', '/api/v1/clusters/dc/nodes/w-1/drain', { timeoutSeconds: 0 });
    assert.equal(bad.status, 400);
    const long = await r.api<Err>('POST', '/api/v1/clusters/dc/nodes/w-1/drain', { timeoutSeconds: 3601 });
    assert.equal(long.status, 400);
    const extra = await r.api<Err>('POST', '/api/v1/clusters/dc/nodes/w-1/drain', { grace: 1 });
    assert.equal(extra.status, 400);
    const cli = await runIngot(['cluster', 'drain', 'dc', 'w-1', '--timeout', '4000'], { env: r.cliEnv });
    assert.notEqual(cli.code, 0);
    assert.match(cli.err, /--timeout: 4000 must be a whole number of seconds from 1 to 3600/);
    assert.equal(kube.cordoned.has('w-1'), false);
    const other = await r.api<Err>('GET', '/api/v1/clusters/dc/operations/nope');
    assert.equal(other.status, 404);
  });
});
