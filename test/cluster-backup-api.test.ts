/**
 * etcd backups over the API and the CLI on a simulated cluster (no node agent answers, so a
 * backup stays running): roles (a restore is admin only), 404s that say how to list, a restore
 * of a backup that is not done or whose file is damaged refused before anything is asked of a
 * node, and on the cluster's timeline with who asked. The backups themselves on real Kubernetes:
 * test/cluster-backup.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clusterYaml, seedClusterRegion } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';

interface Err {
  code: string;
  message: string;
}
interface BackupBody {
  backup: { id: string; state: string; trigger: string; cluster: string };
}

describe('cluster backups over the API and CLI', () => {
  let r: TestRegion;
  let viewer: string;
  let operator: string;

  before(async () => {
    r = await startTestRegion({ clusterLimits: { pollMs: 20 } });
    const token = async (role: string) =>
      (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: role, role })).body.secret;
    viewer = await token('viewer');
    operator = await token('operator');
    await seedClusterRegion(r, '10.41');
    assert.equal(
      (await r.api('POST', '/api/v1/clusters', { cluster: clusterYaml('bc', { net: '10.41' }) })).status,
      202,
    );
    await eventually(
      async () =>
        (await r.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/bc')).body.cluster.state ===
        'running',
      30_000,
      'the cluster to run',
    );
  });
  after(async () => r?.stop());

  it('records a manual backup for an operator (202), lists it for a viewer, refuses a viewer’s create', async () => {
    assert.equal((await r.api('POST', '/api/v1/clusters/bc/backups', {}, viewer)).status, 403);
    const c = await r.api<BackupBody>('POST', '/api/v1/clusters/bc/backups', {}, operator);
    assert.equal(c.status, 202, JSON.stringify(c.body));
    assert.equal(c.body.backup.trigger, 'manual');
    assert.equal(c.body.backup.cluster, 'bc');
    const ls = await r.api<{ items: { id: string }[] }>(
      'GET',
      '/api/v1/clusters/bc/backups',
      undefined,
      viewer,
    );
    assert.deepEqual(
      ls.body.items.map((b) => b.id),
      [c.body.backup.id],
    );
    const cli = await runIngot(['cluster', 'backup', 'ls', 'bc'], { env: r.cliEnv });
    assert.equal(cli.code, 0, cli.err);
    assert.match(cli.out, new RegExp(`^${c.body.backup.id}\\s+manual\\s+(pending|running)`, 'm'));
    const ev = await r.api<{ type: string; actor: string }[]>('GET', '/api/v1/clusters/bc/events?limit=500');
    assert.ok(
      ev.body.some((e) => e.type === 'cluster.backup.requested' && e.actor === 'user:operator'),
      JSON.stringify(ev.body.map((e) => [e.type, e.actor])),
    );
  });

  it('answers 404 for a backup of another cluster or none, naming the command that lists them', async () => {
    const g = await r.api<Err>('GET', '/api/v1/clusters/bc/backups/bk-nope');
    assert.equal(g.status, 404);
    assert.match(g.body.message, /`ingot cluster backup ls bc` lists them/);
    assert.equal((await r.api('GET', '/api/v1/clusters/nope/backups')).status, 404);
  });

  it('restores for an admin only; refuses a backup that is not done, and a damaged file, before any node is asked, on the timeline', async () => {
    const store = r.region.store;
    const c = await store.getCluster('bc');
    const running = (await store.backups.list(c.id))[0];
    assert.equal(
      (await r.api('POST', `/api/v1/clusters/bc/backups/${running.id}/restore`, {}, operator)).status,
      403,
      'an operator may not restore',
    );
    const notDone = await r.api<Err>('POST', `/api/v1/clusters/bc/backups/${running.id}/restore`, {});
    assert.equal(notDone.status, 409);
    assert.match(notDone.body.message, /only a done backup can be restored/);
    // A done backup whose file no longer matches its record.
    const b = (await store.backups.insert(
      { clusterId: c.id, trigger: 'manual', slot: null, reason: 't' },
      () => [],
    ))!;
    await store.backups.claim('test-owner', 60_000);
    const location = `etcd-snapshots/bc/${b.id}.db`;
    mkdirSync(join(r.dataDir, 'artifacts/etcd-snapshots/bc'), { recursive: true });
    writeFileSync(join(r.dataDir, 'artifacts', location), 'not the snapshot');
    await store.backups.finish(
      b.id,
      'test-owner',
      { state: 'done', reason: 'ok', sha256: 'a'.repeat(64), location, node: 'cp-1' },
      [],
    );
    const tasksBefore = (await store.db.query('SELECT id FROM agent_tasks')).length;
    const cli = await runIngot(['cluster', 'backup', 'restore', 'bc', b.id], { env: r.cliEnv });
    assert.equal(cli.code, 4, `${cli.err}\n${cli.out}`);
    assert.match(cli.err, /is damaged; restore another backup/);
    assert.equal(
      (await store.db.query('SELECT id FROM agent_tasks')).length,
      tasksBefore,
      'no node was asked anything',
    );
    const ev = await r.api<{ type: string; actor: string; message: string }[]>(
      'GET',
      '/api/v1/clusters/bc/events?limit=500',
    );
    const failed = ev.body.find((e) => e.type === 'cluster.restore.failed');
    assert.match(failed?.message ?? '', new RegExp(`restore of etcd backup ${b.id} failed: .*damaged`));
    assert.equal(failed?.actor, 'user:admin', 'who asked');
  });
});
