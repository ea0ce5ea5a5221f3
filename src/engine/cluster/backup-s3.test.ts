/**
 * The S3 backup target against a real S3-compatible server: s3rver (npm; it speaks the S3
 * REST API and keeps objects on disk) on loopback, in a directory the test made. A snapshot
 * file as the rack's upload leaves it: kept (put in the bucket, the local copy gone), listed,
 * read back with its checksum checked (a damaged object refused), retention's delete; an
 * unknown access key refused without the secret in the error (the requests are the AWS SDK's
 * S3 client's, whose SigV4 signing AWS maintains; s3rver checks the access key, not the
 * signature's value). The backup drill with the
 * artifact-store target is test/cluster-backup.test.ts; the region's use of this target for a
 * cluster whose Cluster file says `target: region-s3` is test/cluster-backup-api.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import S3rver from 's3rver';
import { S3Target } from './backup-s3.ts';

describe('S3Target against s3rver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-s3-'));
  const artifacts = join(dir, 'artifacts');
  let server: S3rver;
  let endpoint: string;
  const target = () =>
    new S3Target({
      endpoint,
      bucket: 'backups',
      prefix: 'etcd',
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      artifactsDir: artifacts,
    });
  /** A snapshot as the rack's upload leaves it in the artifact store; its measured size and sum. */
  const upload = (t: S3Target, id: string) => {
    const data = randomBytes(300_000);
    const rel = t.uploadPath('prod', id);
    mkdirSync(join(artifacts, 'etcd-snapshots', 'prod'), { recursive: true });
    writeFileSync(join(artifacts, rel), data);
    return {
      rel,
      data,
      measured: { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') },
    };
  };

  before(async () => {
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: join(dir, 's3'),
      configureBuckets: [{ name: 'backups', configs: [] }],
    });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a snapshot in the bucket, lists it, reads it back checked, and deletes it', async () => {
    const t = target();
    const a = upload(t, 'b-1');
    const loc = await t.keep(a.rel, a.measured);
    assert.equal(loc, 's3://backups/etcd/prod/b-1.db');
    assert.equal(existsSync(join(artifacts, a.rel)), false, 'the local copy is gone once in the bucket');
    const b = upload(t, 'b-2');
    const loc2 = await t.keep(b.rel, b.measured);
    assert.deepEqual(await t.list('prod'), [
      { key: 'etcd/prod/b-1.db', bytes: 300_000 },
      { key: 'etcd/prod/b-2.db', bytes: 300_000 },
    ]);
    assert.deepEqual(await t.list('other'), []);
    assert.ok((await t.read(loc, a.measured.sha256)).equals(a.data));
    await assert.rejects(
      t.read(loc, b.measured.sha256),
      /has sha256 [0-9a-f]{64}, not [0-9a-f]{64} as recorded: it is damaged/,
    );
    // Retention: the older goes.
    await t.remove(loc);
    assert.deepEqual(
      (await t.list('prod')).map((o) => o.key),
      ['etcd/prod/b-2.db'],
    );
    await t.remove(loc); // gone already: fine
    await assert.rejects(
      t.read(loc, a.measured.sha256),
      /S3 GET etcd\/prod\/b-1\.db in bucket backups answered HTTP 404 \(NoSuchKey\)/,
    );
    assert.ok((await t.read(loc2, b.measured.sha256)).equals(b.data));
  });

  it('refuses an upload that is not what the node measured, keeping nothing', async () => {
    const t = target();
    const a = upload(t, 'b-3');
    await assert.rejects(t.keep(a.rel, { ...a.measured, bytes: 1 }), /the node measured 1 bytes/);
    assert.ok(!(await t.list('prod')).some((o) => o.key.endsWith('b-3.db')));
  });

  it('an unknown access key is refused by the server, and the error never carries the secret', async () => {
    const t = new S3Target({
      endpoint,
      bucket: 'backups',
      accessKey: 'NOT-A-KEY',
      secretKey: 'not-the-secret-xyz',
      artifactsDir: artifacts,
    });
    const a = upload(t, 'b-4');
    const e = (await t.keep(a.rel, a.measured).catch((x) => x)) as Error;
    assert.match(
      e.message,
      /^S3 PUT prod\/b-4\.db in bucket backups answered HTTP 403 \(InvalidAccessKeyId\)$/,
    );
    assert.ok(
      !JSON.stringify({ m: e.message, s: e.stack, d: (e as { details?: unknown }).details }).includes(
        'not-the-secret-xyz',
      ),
    );
  });

  it('refuses an endpoint that is not an http(s) URL, naming the field', () => {
    assert.throws(
      () =>
        new S3Target({
          endpoint: 'ftp://x',
          bucket: 'b',
          accessKey: 'a',
          secretKey: 's',
          artifactsDir: artifacts,
        }),
      /endpoint: ftp:\/\/x is not an http\(s\) URL/,
    );
  });
});
