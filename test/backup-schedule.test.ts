/**
 * The region's etcd backup scheduler against a real PostgreSQL shared by two regions (two
 * stores, two BackupServices, as two `ingot serve` on one database): a due slot of the Cluster
 * file's schedule becomes exactly one backup and one node agent task, whichever region looks
 * first; a backup no node agent takes up fails with the reason on the cluster's timeline; and
 * retention removes the files and listings of the backups past `retention`; a damaged file is
 * refused for a restore.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupService } from '../src/engine/cluster/backups.ts';
import { openStore } from '../src/store/open.ts';
import type { SqlStore } from '../src/store/sql-store.ts';
import { machineInput, runningClusterRecord } from '../src/store/testing.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';

const FILE = (schedule: string, retention: number) => `apiVersion: ingot.dev/v1alpha1
kind: Cluster
metadata: { name: sched }
spec:
  endpoint: { address: 10.0.0.10 }
  backups: { etcd: { schedule: '${schedule}', retention: ${retention} } }
`;

describe('etcd backup schedules on one PostgreSQL shared by two regions', () => {
  let pg: TestPostgres;
  let dir: string;
  let a: SqlStore;
  let b: SqlStore;
  let clusterId = '';

  before(async () => {
    pg = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'ingot-bk-sched-'));
    const db = await pg.freshDatabase();
    a = await openStore({ dataDir: join(dir, 'a'), database: db });
    mkdirSync(join(dir, 'b'), { recursive: true });
    // Regions on one PostgreSQL share the secret key file.
    b = await openStore({
      dataDir: join(dir, 'b'),
      database: db,
      secretKeyFile: join(dir, 'a', 'secret.key'),
    });
    const m = await a.createMachine(machineInput({ state: 'ready', stateReason: 'test' }), 'test');
    const cluster = await runningClusterRecord(a, {
      name: 'sched',
      clusterFile: FILE('*/5 * * * *', 2),
      version: 'v1.20.2',
      endpoint: '10.0.0.10:6443',
      members: [{ machineId: m.id, hostname: m.hostname, role: 'init', order: 0, address: '10.0.0.11/24' }],
      // Created (and running) since an hour before the slot the test looks at.
      at: Date.parse('2026-12-03T03:00:00Z'),
    });
    clusterId = cluster.id;
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const service = (store: SqlStore, owner: string, now: number) =>
    new BackupService({
      store,
      artifactsDir: join(dir, 'artifacts'),
      owner,
      now: () => now,
      wait: { pickupMs: 300, pollMs: 50 },
    });

  it('takes one backup per due slot whichever region looks, and fails one no node agent takes up, on the timeline', async () => {
    const now = Date.parse('2026-12-03T04:07:30Z');
    const ra = service(a, 'region-a', now);
    const rb = service(b, 'region-b', now);
    await Promise.all([ra.tick(), rb.tick(), ra.tick(), rb.tick()]);
    await Promise.all([ra.settled(), rb.settled()]);
    const all = await a.backups.list(clusterId, { includeDeleted: true });
    assert.deepEqual(
      all.map((x) => [x.trigger, new Date(x.slot ?? 0).toISOString()]),
      [['schedule', '2026-12-03T04:05:00.000Z']],
    );
    const tasks = await a.db.query('SELECT name FROM agent_tasks WHERE job_id = ?', [all[0].id]);
    assert.deepEqual(tasks, [{ name: 'etcd-snapshot' }], 'one snapshot task for the slot');
    assert.equal(all[0].state, 'failed');
    assert.match(all[0].reason, /no node agent took the etcd-snapshot task up/);
    const ev = await a.listEvents({ clusterId, limit: 50 });
    assert.deepEqual(
      ev.filter((e) => e.type.startsWith('cluster.backup.')).map((e) => e.type),
      ['cluster.backup.requested', 'cluster.backup.started', 'cluster.backup.failed'],
    );
    // The same instant again: nothing new; the next slot: one more.
    await Promise.all([ra.tick(), rb.tick()]);
    assert.equal((await a.backups.list(clusterId)).length, 1);
    const later = service(b, 'region-b', Date.parse('2026-12-03T04:10:01Z'));
    await later.tick();
    await later.settled();
    assert.equal((await a.backups.list(clusterId)).length, 2);
  });

  it('removes the files and listings of backups past the retention, oldest first, never the newest', async () => {
    const now = Date.parse('2026-12-03T05:00:00Z');
    const r = service(a, 'region-a', now);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const x = (await a.backups.insert(
        { clusterId, trigger: 'manual', slot: null, reason: 't' },
        () => [],
        now + i,
      ))!;
      await a.backups.claim('setup', 60_000, now + i);
      const location = `etcd-snapshots/sched/${x.id}.db`;
      mkdirSync(join(dir, 'artifacts/etcd-snapshots/sched'), { recursive: true });
      writeFileSync(join(dir, 'artifacts', location), `snapshot ${i}`);
      await a.backups.finish(x.id, 'setup', { state: 'done', reason: 'ok', takenAt: now + i, location }, []);
      ids.push(x.id);
    }
    const c = await a.getCluster(clusterId);
    assert.deepEqual(await r.retention(c), [ids[0]]);
    assert.equal(existsSync(join(dir, 'artifacts', `etcd-snapshots/sched/${ids[0]}.db`)), false);
    assert.equal(existsSync(join(dir, 'artifacts', `etcd-snapshots/sched/${ids[2]}.db`)), true);
    assert.deepEqual(
      (await a.backups.list(clusterId)).filter((x) => x.state === 'done').map((x) => x.id),
      [ids[2], ids[1]],
    );
    // A kept file whose bytes no longer match its record is refused for a restore.
    const kept = `etcd-snapshots/sched/${ids[2]}.db`;
    assert.equal(
      (await r.target.read(kept, createHash('sha256').update('snapshot 2').digest('hex'))).toString(),
      'snapshot 2',
    );
    await assert.rejects(r.target.read(kept, 'a'.repeat(64)), /is damaged; restore another backup/);
  });
});
