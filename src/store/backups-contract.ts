/**
 * The backups part of the store contract (store-contract.ts runs it on SQLite and PostgreSQL):
 * one scheduled backup per cluster and slot, claims by compare-and-set with lease takeover, a
 * fenced end, retention marking, events on the cluster's timeline.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Harness } from './testing.ts';
import { machineInput } from './testing.ts';

let seq = 0;

async function aCluster(h: Harness): Promise<string> {
  seq++;
  const m = await h.store.createMachine(machineInput({ state: 'ready', stateReason: 'test' }), 'user:test');
  const { cluster } = await h.store.createCluster(
    {
      name: `bk-${process.pid}-${seq}`,
      clusterFile: 'apiVersion: ingot.dev/v1alpha1\nkind: Cluster\n',
      distribution: 'kubeadm',
      version: '1.20.2',
      endpoint: '10.0.0.5:6443',
      members: [{ machineId: m.id, hostname: m.hostname, role: 'init', order: 0, address: '10.0.0.10/24' }],
      job: { kind: 'cluster-create', steps: ['deploy-nodes'] },
      reason: 'test',
    },
    'user:test',
  );
  return cluster.id;
}

const ev = (clusterId: string, type: string) => (id: string) => [
  { type, actor: 'user:test', clusterId, message: `${type} ${id}`, data: { backup: id } },
];

export function backupsContract(harness: () => Harness): void {
  it('records one scheduled backup per cluster and slot, any number of manual ones, newest first', async () => {
    const h = harness();
    const c = await aCluster(h);
    const slot = 1_800_000_000_000;
    const a = await h.store.backups.insert(
      { clusterId: c, trigger: 'schedule', slot, reason: 'schedule' },
      ev(c, 'cluster.backup.requested'),
      slot + 1,
    );
    assert.equal(a?.state, 'pending');
    assert.equal(a?.slot, slot);
    const again = await h.store.backups.insert(
      { clusterId: c, trigger: 'schedule', slot, reason: 'other region' },
      ev(c, 'cluster.backup.requested'),
      slot + 2,
    );
    assert.equal(again, null, 'the same slot twice: the second insert does nothing');
    const m1 = await h.store.backups.insert(
      { clusterId: c, trigger: 'manual', slot: null, reason: 'by hand' },
      ev(c, 'cluster.backup.requested'),
      slot + 3,
    );
    const m2 = await h.store.backups.insert(
      { clusterId: c, trigger: 'manual', slot: null, reason: 'by hand' },
      ev(c, 'cluster.backup.requested'),
      slot + 4,
    );
    assert.deepEqual(
      (await h.store.backups.list(c)).map((b) => b.id),
      [m2!.id, m1!.id, a!.id],
    );
    assert.equal(await h.store.backups.lastSlot(c), slot);
    const timeline = await h.store.listEvents({ clusterId: c, limit: 50 });
    assert.equal(
      timeline.filter((e) => e.type === 'cluster.backup.requested').length,
      3,
      'no event for the refused slot',
    );
  });

  it('gives a backup to one claimant, lets another take it over only after the lease expired, and fences the end', async () => {
    const h = harness();
    const c = await aCluster(h);
    const t0 = 1_900_000_000_000;
    const b = (await h.store.backups.insert(
      { clusterId: c, trigger: 'manual', slot: null, reason: 'x' },
      () => [],
      t0,
    ))!;
    const first = (await h.store.backups.claim('region-a', 30_000, t0)).filter((x) => x.clusterId === c);
    assert.deepEqual(
      first.map((x) => [x.id, x.state]),
      [[b.id, 'running']],
    );
    assert.deepEqual(
      (await h.store.backups.claim('region-b', 30_000, t0 + 1000)).filter((x) => x.clusterId === c),
      [],
    );
    assert.equal((await h.store.backups.heartbeat('region-a', 30_000, t0 + 10_000)) >= 1, true);
    assert.deepEqual(
      (await h.store.backups.claim('region-b', 30_000, t0 + 35_000)).filter((x) => x.clusterId === c),
      [],
      'heartbeat kept it',
    );
    const taken = (await h.store.backups.claim('region-b', 30_000, t0 + 41_000)).filter(
      (x) => x.clusterId === c,
    );
    assert.deepEqual(
      taken.map((x) => x.id),
      [b.id],
      'expired lease: taken over',
    );
    const done = {
      state: 'done',
      reason: 'taken on cp1',
      takenAt: t0 + 50_000,
      node: 'cp1',
      sizeBytes: 4096,
      sha256: 'ab'.repeat(32),
      location: `etcd-snapshots/x/${b.id}.db`,
      revision: 42,
      totalKeys: 7,
    } as const;
    assert.equal(
      await h.store.backups.finish(b.id, 'region-a', done, [
        { type: 'cluster.backup.done', actor: 'region', clusterId: c, message: 'x' },
      ]),
      false,
      'the old owner is fenced out',
    );
    assert.equal(
      await h.store.backups.finish(b.id, 'region-b', done, [
        { type: 'cluster.backup.done', actor: 'region', clusterId: c, message: 'x' },
      ]),
      true,
    );
    const got = await h.store.backups.get(b.id);
    assert.deepEqual(
      { ...got, id: undefined, clusterId: undefined, createdAt: undefined },
      { ...done, id: undefined, clusterId: undefined, createdAt: undefined, trigger: 'manual', slot: null },
    );
    const timeline = await h.store.listEvents({ clusterId: c, limit: 50 });
    assert.equal(timeline.filter((e) => e.type === 'cluster.backup.done').length, 1);
  });

  it('marks only finished backups deleted, and hides them from the list unless asked', async () => {
    const h = harness();
    const c = await aCluster(h);
    const t0 = 2_000_000_000_000;
    const b = (await h.store.backups.insert(
      { clusterId: c, trigger: 'manual', slot: null, reason: 'x' },
      () => [],
      t0,
    ))!;
    const p = (await h.store.backups.insert(
      { clusterId: c, trigger: 'manual', slot: null, reason: 'x' },
      () => [],
      t0 + 1,
    ))!;
    await h.store.backups.claim('r', 60_000, t0 + 2);
    await h.store.backups.finish(b.id, 'r', { state: 'done', reason: 'ok', sha256: 'cd'.repeat(32) }, []);
    const gone = await h.store.backups.markDeleted([b.id, p.id], 'retention: keep 1', [
      { type: 'cluster.backup.deleted', actor: 'region', clusterId: c, message: 'x' },
    ]);
    assert.deepEqual(gone, [b.id], 'a running backup is not deleted');
    assert.deepEqual(
      (await h.store.backups.list(c)).map((x) => x.id),
      [p.id],
    );
    assert.equal(
      (await h.store.backups.list(c, { includeDeleted: true })).find((x) => x.id === b.id)?.state,
      'deleted',
    );
  });

  it('seals rotated S3 keys in place of the ones they replace, with the event, and never keeps them in clear', async () => {
    const h = harness();
    const c = await aCluster(h);
    assert.equal(await h.store.clusterBackupS3Secret(c), null, 'none rotated yet');
    const atCreate = await h.store.putSecret(
      'cluster-backup-s3',
      '{"accessKey":"A1","secretKey":"create-secret-1"}',
    );
    const ev = (n: number) => [
      { type: 'cluster.backup.s3-keys-rotated', actor: 'user:admin', clusterId: c, message: `rotation ${n}` },
    ];
    const first = await h.store.setClusterBackupS3Keys(
      c,
      '{"accessKey":"A2","secretKey":"rotated-secret-2"}',
      atCreate,
      ev(1),
    );
    assert.equal(await h.store.clusterBackupS3Secret(c), first);
    assert.equal(await h.store.getSecret(first), '{"accessKey":"A2","secretKey":"rotated-secret-2"}');
    await assert.rejects(h.store.getSecret(atCreate), 'the keys of the create are deleted');
    const second = await h.store.setClusterBackupS3Keys(
      c,
      '{"accessKey":"A3","secretKey":"rotated-secret-3"}',
      first,
      ev(2),
    );
    assert.equal(await h.store.clusterBackupS3Secret(c), second);
    await assert.rejects(h.store.getSecret(first), 'the earlier rotated keys are deleted');
    const events = await h.store.listEvents({ clusterId: c, limit: 50 });
    assert.deepEqual(
      events.filter((e) => e.type === 'cluster.backup.s3-keys-rotated').map((e) => e.message),
      ['rotation 1', 'rotation 2'],
    );
    const dump = await h.dump();
    for (const secret of ['create-secret-1', 'rotated-secret-2', 'rotated-secret-3'])
      assert.ok(!dump.includes(secret), `${secret} is not stored in clear`);
    await assert.rejects(
      h.store.setClusterBackupS3Keys('c-nope', '{}', null, []),
      /cluster c-nope does not exist/,
    );
  });
}
