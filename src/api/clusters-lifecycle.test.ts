/**
 * Clusters as living objects over HTTP, against a real region whose fake:// machines the
 * simulated agent commissions, deploys and bootstraps: create (202), list, get, events, the
 * admin kubeconfig (admin only, audited, not cached), delete; roles, schemas and errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clusterYaml, seedClusterRegion } from '../../test/support/cluster-seed.ts';
import { eventually, startTestRegion, type TestRegion } from '../../test/support/region.ts';

interface Member {
  machineId: string;
  hostname: string;
  role: string;
  state?: string;
}
interface ClusterBody {
  id: string;
  name: string;
  state: string;
  stateReason: string;
  members: Member[];
  allowedActions: string[];
  hasKubeconfig: boolean;
  conditions: { apiReachable: boolean; nodes: { ready: number; total: number } | null } | null;
  clusterFile?: string;
}
interface ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}
type Any = ClusterBody &
  ErrorBody & {
    cluster: ClusterBody;
    job: { id: string; clusterId: string; steps: { name: string; endedAt: string | null }[] } | null;
  };

const clusterFile = (name: string, workers = 2) => clusterYaml(name, { workers, net: '10.30' });

describe('clusters over the API', () => {
  let r: TestRegion;
  let viewer: string;
  let operator: string;
  const ids = new Map<string, string>();

  before(async () => {
    r = await startTestRegion({ clusterLimits: { pollMs: 20 } });
    viewer = (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' })).body
      .secret;
    operator = (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'o', role: 'operator' }))
      .body.secret;
    for (const [h, id] of await seedClusterRegion(r, '10.30')) ids.set(h, id);
  });
  after(async () => r?.stop());

  it('refuses a create without a token (401) or from a viewer (403), and writes nothing', async () => {
    assert.equal((await r.api('POST', '/api/v1/clusters', { cluster: clusterFile('a') }, null)).status, 401);
    assert.equal(
      (await r.api('POST', '/api/v1/clusters', { cluster: clusterFile('a') }, viewer)).status,
      403,
    );
    assert.deepEqual((await r.api('GET', '/api/v1/clusters', undefined, viewer)).body, []);
  });

  it('refuses a bad Cluster file or body with 400 naming the field and the stage, and writes nothing', async () => {
    const bad = await r.api<Any>(
      'POST',
      '/api/v1/clusters',
      { cluster: 'kind: Cluster\nmetadata: {}\n' },
      operator,
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INGOT_VALIDATION');
    assert.equal(bad.body.details.stage, 'cluster-file');
    const extra = await r.api<Any>(
      'POST',
      '/api/v1/clusters',
      { cluster: clusterFile('a'), force: true },
      operator,
    );
    assert.equal(extra.status, 400);
    assert.match(extra.body.message, /force/);
    const typed = await r.api<Any>('POST', '/api/v1/clusters', { cluster: 42 }, operator);
    assert.equal(typed.status, 400);
    assert.match(typed.body.message, /cluster/);
    const tooMany = await r.api<Any>('POST', '/api/v1/clusters', { cluster: clusterFile('a', 9) }, operator);
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.details.stage, 'plan');
    assert.deepEqual((await r.api('GET', '/api/v1/clusters')).body, []);
    assert.equal(
      (await r.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total,
      3,
    );
  });

  it('creates a cluster (202), runs it to running, shows it everywhere, hands the kubeconfig to admins only and deletes it', async () => {
    const created = await r.api<Any>('POST', '/api/v1/clusters', { cluster: clusterFile('lab') }, operator);
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.cluster.state, 'creating');
    assert.equal(created.body.job?.clusterId, created.body.cluster.id);
    assert.deepEqual(
      created.body.job?.steps.map((s) => s.name),
      ['deploy-nodes', 'bootstrap-init', 'bootstrap-control-planes', 'bootstrap-workers', 'wait-ready'],
    );
    const again = await r.api<Any>('POST', '/api/v1/clusters', { cluster: clusterFile('lab') }, operator);
    assert.equal(again.status, 409);
    assert.equal(again.body.details.field, 'metadata.name');

    const running = await eventually(
      async () => {
        const g = await r.api<Any>('GET', '/api/v1/clusters/lab', undefined, viewer);
        return g.body.cluster.state === 'running' || g.body.cluster.state.startsWith('failed')
          ? g.body
          : null;
      },
      30_000,
      'the cluster to run',
    );
    assert.equal(running.cluster.state, 'running', running.cluster.stateReason);
    assert.deepEqual(
      running.cluster.members.map((m) => [m.hostname, m.role, m.state]),
      [
        ['cp-1', 'init', 'deployed'],
        ['w-1', 'worker', 'deployed'],
        ['w-2', 'worker', 'deployed'],
      ],
    );
    assert.match(running.cluster.clusterFile ?? '', /name: lab/);
    assert.deepEqual(running.cluster.conditions?.nodes, { ready: 3, total: 3 });
    assert.deepEqual(running.cluster.allowedActions, ['delete', 'scale']);
    assert.ok(running.job?.steps.every((s) => s.endedAt !== null));

    const listed = await r.api<ClusterBody[]>('GET', '/api/v1/clusters', undefined, viewer);
    assert.deepEqual(
      listed.body.map((c) => [c.name, c.state]),
      [['lab', 'running']],
    );
    assert.equal(listed.body[0].clusterFile, undefined, 'the list leaves the Cluster file out');

    const machine = await r.api<{ cluster: { cluster: string; role: string } | null; owner: string }>(
      'GET',
      `/api/v1/machines/${ids.get('w-1')}`,
    );
    assert.deepEqual(machine.body.cluster, { cluster: 'lab', role: 'worker' });
    const page = await r.api<{ items: { hostname: string; cluster: { cluster: string } | null }[] }>(
      'GET',
      '/api/v1/machines',
    );
    assert.ok(page.body.items.every((m) => m.cluster?.cluster === 'lab'));

    // The kubeconfig: admins only, never cached, and each read is audited on the cluster's timeline.
    assert.equal((await r.api('GET', '/api/v1/clusters/lab/kubeconfig', undefined, operator)).status, 403);
    const res = await r.fetch(`${r.url}/api/v1/clusters/lab/kubeconfig`, {
      headers: { authorization: `Bearer ${r.adminToken}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const { kubeconfig } = (await res.json()) as { kubeconfig: string };
    assert.match(kubeconfig, /kind: Config/);
    const events = await r.api<{ type: string; actor: string; message: string }[]>(
      'GET',
      '/api/v1/clusters/lab/events?limit=1000',
      undefined,
      viewer,
    );
    assert.ok(events.body.some((e) => e.type === 'cluster.kubeconfig.read' && e.actor.startsWith('user:')));
    assert.ok(
      events.body.some((e) => e.type === 'cluster.transition' && /creating → running/.test(e.message)),
    );
    assert.ok(!JSON.stringify(events.body).includes(kubeconfig), 'the kubeconfig never reaches an event');

    const retry = await r.api<Any>('POST', '/api/v1/clusters/lab/actions/retry', undefined, operator);
    assert.equal(retry.status, 409);
    assert.deepEqual(retry.body.details.allowed, ['delete', 'scale']);
    assert.equal((await r.api('DELETE', '/api/v1/clusters/lab', undefined, viewer)).status, 403);
    assert.equal((await r.api('DELETE', '/api/v1/clusters/lab?wipe=shred', undefined, operator)).status, 400);
    const del = await r.api<Any>('DELETE', '/api/v1/clusters/lab?wipe=quick', undefined, operator);
    assert.equal(del.status, 202, JSON.stringify(del.body));
    assert.equal(del.body.cluster.state, 'deleting');
    await eventually(
      async () => (await r.api<Any>('GET', '/api/v1/clusters/lab')).body.cluster.state === 'deleted',
      30_000,
      'the cluster to be deleted',
    );
    assert.equal(
      (await r.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total,
      3,
    );
    assert.deepEqual((await r.api('GET', '/api/v1/clusters')).body, []);
    const all = await r.api<ClusterBody[]>('GET', '/api/v1/clusters?all=true');
    assert.deepEqual(
      all.body.map((c) => c.state),
      ['deleted'],
    );
    assert.equal((await r.api('GET', '/api/v1/clusters/lab/kubeconfig')).status, 404);
  });

  it('answers 404 for a cluster that does not exist', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/clusters/nope'],
      ['GET', '/api/v1/clusters/nope/events'],
      ['GET', '/api/v1/clusters/nope/kubeconfig'],
      ['DELETE', '/api/v1/clusters/nope'],
    ] as const) {
      const res = await r.api<ErrorBody>(method, path);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.body.code, 'INGOT_NOT_FOUND');
    }
  });
});
