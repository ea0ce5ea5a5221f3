/** The snapshot store's bookkeeping (the snapshots themselves are taken on the bed: test/day2.test.ts). */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isIngotError } from '../../core/errors.ts';
import { listSnapshots, pruneSnapshots, readSnapshot, snapshotDir } from './snapshot.ts';

const artifacts = mkdtempSync(join(tmpdir(), 'ingot-snapshots-'));
after(() => rmSync(artifacts, { recursive: true, force: true }));

function put(cluster: string, id: string, takenAt: string, data = Buffer.from(id)) {
  const dir = snapshotDir(artifacts, cluster);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${id}.db`), data);
  const sha256 = '0'.repeat(64);
  writeFileSync(
    join(dir, `${id}.json`),
    JSON.stringify({
      id,
      cluster,
      node: 'cp1',
      takenAt,
      sha256,
      bytes: data.length,
      revision: 1,
      totalKeys: 1,
      hash: 1,
    }),
  );
}

describe('the snapshot store', () => {
  it('lists newest first and prunes to the retention, files and records both', () => {
    put('c1', 'etcd-a', '2026-12-01T00:00:00.000Z');
    put('c1', 'etcd-c', '2026-12-03T00:00:00.000Z');
    put('c1', 'etcd-b', '2026-12-02T00:00:00.000Z');
    put('c2', 'etcd-x', '2026-11-01T00:00:00.000Z');
    assert.deepEqual(
      listSnapshots(artifacts, 'c1').map((s) => s.id),
      ['etcd-c', 'etcd-b', 'etcd-a'],
    );
    assert.deepEqual(pruneSnapshots(artifacts, 'c1', 2), ['etcd-a']);
    assert.deepEqual(
      listSnapshots(artifacts, 'c1').map((s) => s.id),
      ['etcd-c', 'etcd-b'],
    );
    assert.equal(existsSync(join(snapshotDir(artifacts, 'c1'), 'etcd-a.db')), false);
    assert.deepEqual(
      listSnapshots(artifacts, 'c2').map((s) => s.id),
      ['etcd-x'],
      'another cluster is left alone',
    );
    assert.deepEqual(listSnapshots(artifacts, 'none'), []);
  });

  it('refuses a bad retention, a bad cluster name and an unknown snapshot', () => {
    assert.throws(
      () => pruneSnapshots(artifacts, 'c1', 0),
      (e) => isIngotError(e, 'INGOT_VALIDATION') && /^spec.backups.etcd.retention: /.test(e.message),
    );
    assert.throws(
      () => snapshotDir(artifacts, '../etc'),
      (e) => isIngotError(e, 'INGOT_VALIDATION'),
    );
    assert.throws(
      () => readSnapshot(artifacts, 'c1', 'etcd-zz'),
      (e) => isIngotError(e, 'INGOT_NOT_FOUND'),
    );
  });

  it('refuses a snapshot whose bytes do not match its record', () => {
    put('c3', 'etcd-d', '2026-12-01T00:00:00.000Z');
    assert.throws(
      () => readSnapshot(artifacts, 'c3', 'etcd-d'),
      (e) => isIngotError(e, 'INGOT_CONFLICT') && /does not match its checksum/.test(e.message),
    );
  });
});
