/**
 * etcd backups over the API and the CLI on a simulated cluster (no node agent answers, so a
 * backup stays running): roles (a restore is admin only), 404s that say how to list, a restore
 * of a backup that is not done or whose file is damaged refused before anything is asked of a
 * node, and on the cluster's timeline with who asked. The cluster's Cluster file says
 * `target: region-s3` with a real S3-compatible server (s3rver on loopback): backups whose
 * etcd-snapshot task the test answers as the node agent would (the snapshot put where the rack
 * would have stored it) land in the bucket under the cluster's prefix, are listed, retention
 * deletes the oldest object, a restore reads the object back checked (a damaged one refused),
 * and the S3 keys are sealed in the store, in no API answer. The backups themselves on real
 * Kubernetes: test/cluster-backup.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { machineInput, runningClusterRecord } from '../src/store/testing.ts';
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
  let s3: S3rver;
  let endpoint = '';
  const s3dir = mkdtempSync(join(tmpdir(), 'ingot-bk-s3-'));
  // The keys the Cluster file's SecretRefs name, from the region's environment at create.
  const SECRET = 'S3RVER-secret-value-never-echoed';

  before(async () => {
    s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: s3dir,
      configureBuckets: [{ name: 'backups', configs: [] }],
    });
    endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    process.env.INGOT_SECRET_BK_ACCESS = 'S3RVER';
    process.env.INGOT_SECRET_BK_SECRET = SECRET;
    r = await startTestRegion({ clusterLimits: { pollMs: 20 } });
    const token = async (role: string) =>
      (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: role, role })).body.secret;
    viewer = await token('viewer');
    operator = await token('operator');
    await seedClusterRegion(r, '10.41');
    assert.equal(
      (
        await r.api('POST', '/api/v1/clusters', {
          cluster: `${clusterYaml('bc', { net: '10.41' })}  backups:
    etcd:
      retention: 2
      target: region-s3
      regionS3:
        endpoint: ${endpoint}
        bucket: backups
        prefix: etcd
        accessKey: { secret: bk-access }
        secretKey: { secret: bk-secret }
`,
        })
      ).status,
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
  after(async () => {
    await r?.stop();
    await s3?.close();
    delete process.env.INGOT_SECRET_BK_ACCESS;
    delete process.env.INGOT_SECRET_BK_SECRET;
    rmSync(s3dir, { recursive: true, force: true });
  });

  /** A manual backup of `cluster` whose snapshot task the test answers as the node agent would; it must end done at `where(id)`. */
  const answeredBackup = async (cluster: string, where: (id: string) => string) => {
    const store = r.region.store;
    const made = await r.api<BackupBody>('POST', `/api/v1/clusters/${cluster}/backups`, {}, operator);
    assert.equal(made.status, 202);
    const id = made.body.backup.id;
    const task = await eventually(
      async () => store.findAgentTask(id, 'etcd-snapshot'),
      20_000,
      'the etcd-snapshot task',
    );
    const data = randomBytes(50_000);
    const file = join(r.dataDir, 'artifacts', (task.params as { artifact: string }).artifact);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
    const sha256 = createHash('sha256').update(data).digest('hex');
    await store.updateAgentTask(task.id, { status: 'running' }, []);
    await store.updateAgentTask(
      task.id,
      { status: 'done', result: { sha256, bytes: data.length, revision: 7, totalKeys: 3, hash: 1 } },
      [],
    );
    const done = await eventually(
      async () => {
        const b = await store.backups.get(id);
        return b && b.state !== 'running' && b.state !== 'pending' ? b : null;
      },
      20_000,
      'the backup to end',
    );
    assert.equal(done.state, 'done', done.reason);
    assert.equal(done.location, where(id));
    return { id, data, sha256 };
  };
  const s3Objects = async () =>
    (await readdirRec(join(s3dir, 'backups'))).filter((f) => f.endsWith('._S3rver_object')).sort();

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

  it('keeps backups in the S3 bucket under the cluster’s prefix, lists them, deletes the oldest for retention, restores only a checked object', async () => {
    const store = r.region.store;
    const c = await store.getCluster('bc');
    const backup = () => answeredBackup('bc', (id) => `s3://backups/etcd/bc/${id}.db`);
    const a = await backup();
    const b = await backup();
    assert.deepEqual(await s3Objects(), [
      `etcd/bc/${a.id}.db._S3rver_object`,
      `etcd/bc/${b.id}.db._S3rver_object`,
    ]);
    const cli = await runIngot(['cluster', 'backup', 'ls', 'bc'], { env: r.cliEnv });
    assert.equal(cli.code, 0, cli.err);
    for (const x of [a, b]) assert.match(cli.out, new RegExp(`^${x.id}\\s+manual\\s+done`, 'm'));
    // Retention 2: a third one deletes the oldest object and listing.
    const third = await backup();
    const kept = [`etcd/bc/${b.id}.db._S3rver_object`, `etcd/bc/${third.id}.db._S3rver_object`];
    // Retention runs once the backup is recorded done.
    await eventually(
      async () => JSON.stringify(await s3Objects()) === JSON.stringify(kept),
      10_000,
      'the oldest object deleted',
    );
    assert.equal((await store.backups.get(a.id))?.state, 'deleted');
    // A restore reads the object back and checks it: the kept bytes are the snapshot's.
    const target = await r.region.backups.targetFor(c, `s3://backups/etcd/bc/${b.id}.db`);
    assert.ok((await target.read(`s3://backups/etcd/bc/${b.id}.db`, b.sha256)).equals(b.data));
    // A damaged object is refused before any node is asked.
    const client = new S3Client({
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'x' },
    });
    await client.send(
      new PutObjectCommand({ Bucket: 'backups', Key: `etcd/bc/${b.id}.db`, Body: 'damaged' }),
    );
    client.destroy();
    const tasksBefore = (await store.db.query('SELECT id FROM agent_tasks')).length;
    const restore = await runIngot(['cluster', 'backup', 'restore', 'bc', b.id], { env: r.cliEnv });
    assert.equal(restore.code, 4, `${restore.err}\n${restore.out}`);
    assert.match(
      restore.err,
      /backup's object s3:\/\/backups\/etcd\/bc\/.* is damaged; restore another backup/,
    );
    assert.equal((await store.db.query('SELECT id FROM agent_tasks')).length, tasksBefore);
    // The keys: sealed in the store, never in the Cluster file, a job or an answer.
    const sealed = await store.db.query<{ purpose: string; ciphertext: string }>(
      "SELECT purpose, ciphertext FROM secrets WHERE purpose = 'cluster-backup-s3'",
    );
    assert.equal(sealed.length, 1);
    assert.ok(!sealed[0].ciphertext.includes(SECRET));
    for (const path of [
      '/api/v1/clusters/bc',
      '/api/v1/clusters/bc/backups',
      '/api/v1/clusters/bc/events?limit=500',
    ])
      assert.ok(!JSON.stringify((await r.api('GET', path)).body).includes(SECRET), path);
  });

  it('keeps the backups of a cluster without target: region-s3 in the region’s artifact store, beside the cluster whose own S3 spec selects its bucket', async () => {
    const store = r.region.store;
    const m = await store.createMachine(machineInput({ state: 'ready', stateReason: 'test' }), 'user:test');
    await runningClusterRecord(store, {
      name: 'bd',
      clusterFile: clusterYaml('bd', { net: '10.42' }),
      version: 'v1.30.2',
      endpoint: '10.42.0.10:6443',
      members: [{ machineId: m.id, hostname: m.hostname, role: 'init', order: 0, address: '10.42.0.11/24' }],
    });
    const before = await s3Objects();
    const kept = await answeredBackup('bd', (id) => `etcd-snapshots/bd/${id}.db`);
    assert.ok(
      readFileSync(join(r.dataDir, 'artifacts', `etcd-snapshots/bd/${kept.id}.db`)).equals(kept.data),
      'in the artifact store',
    );
    assert.deepEqual(await s3Objects(), before, 'nothing of bd in the bucket');
    const bc = await answeredBackup('bc', (id) => `s3://backups/etcd/bc/${id}.db`);
    assert.ok((await s3Objects()).includes(`etcd/bc/${bc.id}.db._S3rver_object`), 'bc’s still in its bucket');
  });

  it('rotates the S3 keys for an admin only: refused keys change nothing, new ones are sealed in place of the old, audited, never echoed, and used by the next backup', async () => {
    const store = r.region.store;
    const c = await store.getCluster('bc');
    const sealed = () =>
      store.db.query<{ id: string; ciphertext: string }>(
        "SELECT id, ciphertext FROM secrets WHERE purpose = 'cluster-backup-s3' ORDER BY id",
      );
    const path = '/api/v1/clusters/bc/backups/s3-keys';
    const NEW = 'rotated-secret-value-never-echoed';
    const before = await sealed();
    assert.equal(before.length, 1);

    assert.equal((await r.api('PUT', path, { accessKey: 'ROTATED', secretKey: NEW }, operator)).status, 403);
    const spaced = await r.api<Err>('PUT', path, { accessKey: 'ROTATED', secretKey: `${NEW} x` });
    assert.equal(spaced.status, 400);
    assert.match(spaced.body.message, /^secretKey: may hold printable ASCII only/);
    // An access key the server does not know: tried first, refused, the keys in use unchanged.
    const refused = await r.api<Err>('PUT', path, { accessKey: 'NOT-A-KEY', secretKey: NEW });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(
      refused.body.message,
      /refused by bucket backups .*InvalidAccessKeyId.*the keys in use are unchanged/,
    );
    assert.deepEqual(await sealed(), before);
    const notS3 = await r.api<Err>('PUT', '/api/v1/clusters/bd/backups/s3-keys', {
      accessKey: 'ROTATED',
      secretKey: NEW,
    });
    assert.equal(notS3.status, 409);
    assert.match(notS3.body.message, /no S3 keys to rotate/);
    for (const x of [spaced, refused, notS3]) assert.ok(!JSON.stringify(x.body).includes(NEW));

    // The server gets a new key pair; the CLI rotates to it (the secret key from a file).
    const { DUMMY_ACCOUNT } = createRequire(import.meta.url)('s3rver/lib/models/account.js') as {
      DUMMY_ACCOUNT: { createKeyPair(a: string, s: string): void; revokeAccessKey(a: string): void };
    };
    DUMMY_ACCOUNT.createKeyPair('ROTATED', NEW);
    const keyFile = join(s3dir, 'new-secret-key');
    writeFileSync(keyFile, `${NEW}\n`);
    try {
      const cli = await runIngot(
        ['cluster', 'backup', 's3-keys', 'bc', '--access-key', 'ROTATED', '--secret-key-file', keyFile],
        { env: r.cliEnv },
      );
      assert.equal(cli.code, 0, `${cli.err}\n${cli.out}`);
      assert.match(
        cli.out,
        /the S3 keys of bc's backups \(bucket backups at http:\/\/127\.0\.0\.1:\d+\) are rotated/,
      );
      assert.ok(!`${cli.out}${cli.err}`.includes(NEW), 'the CLI never prints the secret key');
      const after = await sealed();
      assert.equal(after.length, 1, 'the old keys are deleted');
      assert.notEqual(after[0].id, before[0].id);
      assert.equal(await store.clusterBackupS3Secret(c.id), after[0].id);
      assert.ok(!after[0].ciphertext.includes(NEW), 'sealed, not in clear');
      const ev = (
        await r.api<{ type: string; actor: string }[]>('GET', '/api/v1/clusters/bc/events?limit=1000')
      ).body;
      const rotated = ev.filter((e) => e.type === 'cluster.backup.s3-keys-rotated');
      assert.deepEqual(
        rotated.map((e) => e.actor),
        ['user:admin'],
        'one rotation, by the admin (the refused ones recorded nothing)',
      );
      assert.ok(!JSON.stringify(ev).includes(NEW));

      // The old key no longer works on the server: the next backup lands with the new one.
      DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
      const next = await answeredBackup('bc', (id) => `s3://backups/etcd/bc/${id}.db`);
      assert.ok((await s3Objects()).includes(`etcd/bc/${next.id}.db._S3rver_object`));
    } finally {
      DUMMY_ACCOUNT.createKeyPair('S3RVER', 'S3RVER');
    }
  });
});

async function readdirRec(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(dir, { recursive: true })).map(String);
}
