/**
 * The image registry against a real SQLite store and a temp artifacts dir: imports from
 * streams, loopback HTTP URLs and uploads through the API and the CLI; checksum and format
 * refusals leave no file behind; qcow2 (made by qemu-img convert) and gz/xz/zst are detected.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { authHook, hashToken } from '../src/api/auth.ts';
import { errorHandler } from '../src/api/errors.ts';
import { imageRoutes } from '../src/api/routes/images.ts';
import { SHARED_SCHEMAS } from '../src/api/schemas/index.ts';
import { ImageRegistry } from '../src/images/registry.ts';
import { imagePath, imageUrl } from '../src/images/types.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { openStore } from '../src/store/open.ts';
import { skipUnless } from './support/needs.ts';
import { startPostgres } from './support/postgres.ts';
import type { SqlStore } from '../src/store/sql-store.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** 8 MiB "disk": an MBR-ish first sector, zeros, then some data (zeros become holes). */
function rawDisk(): Buffer {
  const b = Buffer.alloc(8 * 2 ** 20);
  b.write('INGOT TEST DISK', 0);
  b.writeUInt16LE(0xaa55, 510);
  for (let i = 6 * 2 ** 20; i < 6 * 2 ** 20 + 100_000; i++) b[i] = i % 251;
  return b;
}

async function* chunks(b: Buffer, size = 100_003): AsyncIterable<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

function incomingLeft(artifacts: string): string[] {
  const d = join(artifacts, 'images', '.incoming');
  return existsSync(d) ? readdirSync(d) : [];
}

describe('image registry', () => {
  let dir: string;
  let store: SqlStore;
  let artifacts: string;
  let reg: ImageRegistry;
  let files: Server;
  let filesUrl: string;
  const disk = rawDisk();
  let qcow2: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-images-'));
    store = await openStore({ dataDir: join(dir, 'data') });
    artifacts = join(dir, 'artifacts');
    // The file server below is on loopback, which URL imports refuse unless allowed.
    reg = new ImageRegistry(store, artifacts, { sources: { allowPrivate: true } });
    writeFileSync(join(dir, 'disk.raw'), disk);
    execFileSync('qemu-img', [
      'convert',
      '-q',
      '-f',
      'raw',
      '-O',
      'qcow2',
      join(dir, 'disk.raw'),
      join(dir, 'disk.qcow2'),
    ]);
    qcow2 = readFileSync(join(dir, 'disk.qcow2'));
    execFileSync('sh', [
      '-c',
      `cd ${dir} && gzip -k disk.raw && xz -k -T1 disk.qcow2 && zstd -q -k disk.raw`,
    ]);
    // A loopback file server for URL imports.
    files = createServer((req, res) => {
      const f = join(dir, (req.url ?? '/').slice(1));
      if (!req.url?.startsWith('/files/') || !existsSync(join(dir, req.url.slice(7)))) {
        res.writeHead(404).end('no such file');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/octet-stream' })
        .end(readFileSync(join(dir, req.url.slice(7))));
      void f;
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    const addr = files.address() as { port: number };
    filesUrl = `http://127.0.0.1:${addr.port}/files`;
  });

  after(async () => {
    await new Promise((r) => files.close(r));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the migrations in version order, images being version 5', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
    );
    assert.equal(new Set(versions).size, versions.length);
    assert.match(MIGRATIONS.find((m) => m.version === 5)?.sql ?? '', /CREATE TABLE images/);
  });

  it('imports a raw image from a stream: checksum computed, file in place, zero blocks as holes', async () => {
    const img = await reg.importStream({ name: 'plain', sha256: sha(disk) }, chunks(disk), 'test');
    assert.equal(img.status, 'ready');
    assert.equal(img.format, 'raw');
    assert.equal(img.compression, 'none');
    assert.equal(img.sha256, sha(disk));
    assert.equal(img.size, disk.length);
    assert.equal(img.virtualSize, disk.length);
    assert.equal(img.path, 'images/plain.raw');
    const file = join(artifacts, img.path);
    assert.ok(readFileSync(file).equals(disk));
    assert.ok(statSync(file).blocks * 512 < disk.length / 2, 'zero blocks were written as holes');
    assert.equal(imageUrl('http://10.77.0.2:8081/', img), 'http://10.77.0.2:8081/artifacts/images/plain.raw');
  });

  it('refuses a checksum mismatch and leaves no file, only a failed image saying why', async () => {
    const wrong = sha(Buffer.from('something else'));
    await assert.rejects(
      reg.importStream({ name: 'corrupt', sha256: wrong }, chunks(disk), 'test'),
      (e: Error) => {
        assert.match(e.message, /checksum mismatch/);
        return true;
      },
    );
    assert.equal(existsSync(join(artifacts, imagePath('corrupt', 'raw', 'none'))), false);
    assert.deepEqual(incomingLeft(artifacts), []);
    const row = await reg.get('corrupt');
    assert.equal(row.status, 'failed');
    assert.match(row.statusReason, /checksum mismatch: expected/);
    assert.equal(row.sha256, null);
  });

  it('replaces a failed import of the same name, and refuses a second ready one with a conflict', async () => {
    const img = await reg.importStream({ name: 'corrupt' }, chunks(disk), 'test');
    assert.equal(img.status, 'ready');
    await assert.rejects(reg.importStream({ name: 'corrupt' }, chunks(disk), 'test'), /exists \(ready\)/);
    assert.equal((await reg.list()).filter((i) => i.name === 'corrupt').length, 1);
  });

  it('detects qcow2 (qemu-img convert) and reads its virtual size', async () => {
    const img = await reg.importStream({ name: 'q', fileName: 'disk.img' }, chunks(qcow2), 'test');
    assert.equal(img.format, 'qcow2');
    assert.equal(img.path, 'images/q.qcow2');
    assert.equal(img.virtualSize, disk.length);
    assert.equal(img.size, qcow2.length);
  });

  it('detects gz, xz and zst and the format inside them', async () => {
    for (const [file, compression, format] of [
      ['disk.raw.gz', 'gz', 'raw'],
      ['disk.qcow2.xz', 'xz', 'qcow2'],
      ['disk.raw.zst', 'zst', 'raw'],
    ] as const) {
      const bytes = readFileSync(join(dir, file));
      const img = await reg.importStream({ name: `c-${compression}` }, chunks(bytes), 'test');
      assert.equal(img.compression, compression, file);
      assert.equal(img.format, format, file);
      assert.equal(img.sha256, sha(bytes), 'the checksum is of the file as stored and served');
      assert.equal(img.path, `images/c-${compression}.${format}.${compression}`);
      assert.ok(readFileSync(join(artifacts, img.path)).equals(bytes));
    }
  });

  it('refuses a file whose bytes contradict the declared format', async () => {
    await assert.rejects(
      reg.importStream({ name: 'liar', format: 'qcow2' }, chunks(disk), 'test'),
      /format: declared qcow2 but the file is raw/,
    );
    assert.equal(existsSync(join(artifacts, 'images/liar.qcow2')), false);
    assert.deepEqual(incomingLeft(artifacts), []);
  });

  it('imports from a loopback URL in the background, and fails cleanly on a 404 or a bad checksum', async () => {
    const ok = await reg.importUrl(
      { name: 'fromurl', url: `${filesUrl}/disk.qcow2`, sha256: sha(qcow2) },
      'test',
    );
    assert.equal(ok.image.status, 'importing');
    const done = await ok.done;
    assert.equal(done.status, 'ready');
    assert.equal(done.format, 'qcow2');
    assert.equal(done.source, `${filesUrl}/disk.qcow2`);

    const missing = await reg.importUrl({ name: 'missing', url: `${filesUrl}/nope.raw` }, 'test');
    const m = await missing.done;
    assert.equal(m.status, 'failed');
    assert.match(m.statusReason, /HTTP 404/);

    const bad = await reg.importUrl(
      { name: 'badsum', url: `${filesUrl}/disk.raw`, sha256: 'a'.repeat(64) },
      'test',
    );
    const b = await bad.done;
    assert.equal(b.status, 'failed');
    assert.match(b.statusReason, /checksum mismatch/);
    assert.equal(existsSync(join(artifacts, 'images/badsum.raw')), false);
    assert.deepEqual(incomingLeft(artifacts), []);

    await assert.rejects(
      reg.importUrl({ name: 'ftp', url: 'ftp://127.0.0.1/x.raw' }, 'test'),
      /only http and https/,
    );
    await assert.rejects(
      reg.importUrl({ name: 'Bad Name', url: `${filesUrl}/disk.raw` }, 'test'),
      /not an image name/,
    );
  });

  it('removes an image with its file', async () => {
    const img = await reg.get('plain');
    await reg.remove('plain', 'test');
    assert.equal(existsSync(join(artifacts, img.path)), false);
    await assert.rejects(reg.get('plain'), /does not exist/);
  });
});

describe('image API and CLI', () => {
  let dir: string;
  let store: SqlStore;
  let app: FastifyInstance;
  let url: string;
  const admin = 'ingot_test_admin_token';
  const viewer = 'ingot_test_viewer_token';
  const disk = rawDisk();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-images-api-'));
    store = await openStore({ dataDir: join(dir, 'data') });
    await store.createToken({ name: 'admin', role: 'admin', hash: hashToken(admin), expiresAt: null });
    await store.createToken({ name: 'viewer', role: 'viewer', hash: hashToken(viewer), expiresAt: null });
    // The region's server with only the image routes (the same auth hook and error handler).
    app = Fastify();
    for (const s of SHARED_SCHEMAS) app.addSchema(s);
    app.setErrorHandler(errorHandler);
    app.addHook('onRequest', authHook(store));
    const sources = { allowPrivate: ['127.0.0.1'] };
    await app.register(imageRoutes(store, { artifactsDir: join(dir, 'artifacts'), sources }) as never, {
      prefix: '/api/v1',
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    writeFileSync(join(dir, 'disk.raw'), disk);
    // `ingot` with only the image commands, run like main.ts runs the real one.
    const src = new URL('../src/cli/', import.meta.url).pathname;
    writeFileSync(
      join(dir, 'ingot-image.ts'),
      `import { Command } from '${import.meta.resolve('commander')}';
import { exitFor } from '${src}client.ts';
import { registerImageCommand } from '${src}commands/image.ts';
const p = new Command('ingot').option('--url <url>').option('--token <t>').option('-o, --output <f>', '', 'table').exitOverride();
registerImageCommand(p);
try { await p.parseAsync(process.argv); } catch (e) {
  process.stderr.write(String((e as Error).message) + '\\n');
  process.exit(exitFor(e));
}
`,
    );
  });

  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `ingot image …` in a child process (the image commands on a bare commander program). */
  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(dir, 'ingot-image.ts'), '--url', url, '--token', admin, ...args],
        { encoding: 'utf8' },
        (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
      );
    });
  }

  it('uploads a local file with `image add`, lists it and removes it with `image rm`', async () => {
    const add = await cli('image', 'add', 'local', join(dir, 'disk.raw'), '-o', 'json');
    assert.equal(add.code, 0, add.err);
    const img = JSON.parse(add.out);
    assert.equal(img.status, 'ready');
    assert.equal(img.sha256, sha(disk));
    assert.equal(img.source, 'upload:disk.raw');
    assert.ok(readFileSync(join(dir, 'artifacts', img.path)).equals(disk));
    const ls = await cli('image', 'ls');
    assert.match(ls.out, /^local\s+os\s+raw\s+8\.0 MiB\s+ready/m);
    const rm = await cli('image', 'rm', 'local');
    assert.equal(rm.code, 0, rm.err);
    assert.equal(existsSync(join(dir, 'artifacts', img.path)), false);
    assert.equal((await cli('image', 'ls', '-o', 'json')).out.trim(), '[]');
  });

  it('refuses `image add` with a wrong --sha256 before uploading anything (exit 2)', async () => {
    const r = await cli('image', 'add', 'wrong', join(dir, 'disk.raw'), '--sha256', 'b'.repeat(64));
    assert.equal(r.code, 2);
    assert.match(r.err, /checksum mismatch/);
    const list = await fetch(`${url}/api/v1/images`, { headers: { authorization: `Bearer ${admin}` } });
    assert.deepEqual(await list.json(), []);
  });

  it('answers a mismatched upload with 400 and keeps no file', async () => {
    const res = await fetch(`${url}/api/v1/images/direct?sha256=${'c'.repeat(64)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(disk),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, 'INGOT_VALIDATION');
    assert.match(body.message, /checksum mismatch/);
    assert.deepEqual(
      readdirSync(join(dir, 'artifacts', 'images')).filter((f) => !f.startsWith('.')),
      [],
    );
  });

  it('lets viewers list but not import (403), and refuses a bad name with 400', async () => {
    const list = await fetch(`${url}/api/v1/images`, { headers: { authorization: `Bearer ${viewer}` } });
    assert.equal(list.status, 200);
    const post = await fetch(`${url}/api/v1/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', url: 'http://127.0.0.1:1/x.raw' }),
    });
    assert.equal(post.status, 403);
    const bad = await fetch(`${url}/api/v1/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '../etc', url: 'http://127.0.0.1:1/x.raw' }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /^name: /);
  });

  it('imports a URL with POST (202) and `image add NAME URL` waits for it', async () => {
    const srv = createServer((_req, res) => res.end(disk));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as { port: number }).port;
      const r = await cli(
        'image',
        'add',
        'web',
        `http://127.0.0.1:${port}/web.raw`,
        '--sha256',
        sha(disk),
        '-o',
        'json',
      );
      assert.equal(r.code, 0, r.err);
      assert.equal(JSON.parse(r.out).status, 'ready');
      const bad = await cli(
        'image',
        'add',
        'web-bad',
        `http://127.0.0.1:${port}/web.raw`,
        '--sha256',
        'd'.repeat(64),
      );
      assert.equal(bad.code, 7, 'a failed import exits with ActionFailed');
      assert.match(bad.err, /checksum mismatch/);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});

describe('image registry on PostgreSQL', {
  skip: skipUnless({ files: { postgresql: '/usr/lib/postgresql' } }),
}, () => {
  it('imports, refuses a mismatch and removes, as on SQLite', async () => {
    const pg = await startPostgres();
    const dir = mkdtempSync(join(tmpdir(), 'ingot-images-pg-'));
    const store = await openStore({ dataDir: dir, database: await pg.freshDatabase() });
    try {
      const reg = new ImageRegistry(store, join(dir, 'artifacts'));
      const disk = rawDisk();
      const img = await reg.importStream({ name: 'pg', sha256: sha(disk) }, chunks(disk), 'test');
      assert.equal(img.size, disk.length);
      assert.equal(typeof img.size, 'number');
      await assert.rejects(
        reg.importStream({ name: 'pg-bad', sha256: 'e'.repeat(64) }, chunks(disk), 'test'),
        /checksum mismatch/,
      );
      assert.equal((await reg.get('pg-bad')).status, 'failed');
      assert.deepEqual(
        (await reg.list()).map((i) => [i.name, i.status]),
        [
          ['pg', 'ready'],
          ['pg-bad', 'failed'],
        ],
      );
      await reg.remove('pg', 'test');
      assert.equal(existsSync(join(dir, 'artifacts', img.path)), false);
    } finally {
      await store.close();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
