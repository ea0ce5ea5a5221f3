/**
 * The bundle registry against a real SQLite store, a temp artifacts dir and real archives
 * (umoci + skopeo): imports from streams and loopback URLs, refusals that leave no file, a
 * real region's API and roles, the `ingot bundle` CLI as a child process, and an upload cut
 * by kill -9 of `ingot serve` that the next start marks failed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashToken } from '../src/api/auth.ts';
import { BundleRegistry } from '../src/bundles/registry.ts';
import { makeImageArchive, tarGz, writeUpstreamTree } from '../src/bundles/testing.ts';
import type { Bundle } from '../src/core/bundle.ts';
import { IngotError } from '../src/core/errors.ts';
import { openStore } from '../src/store/open.ts';
import type { SqlStore } from '../src/store/sql-store.ts';
import { runIngot } from './support/ingot-cli.ts';
import { startTestRegion, type TestRegion } from './support/region.ts';
import { startServe } from './support/serve-process.ts';

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const incoming = (artifacts: string) => {
  const d = join(artifacts, 'bundles', '.incoming');
  return existsSync(d) ? readdirSync(d) : [];
};

describe('bundle registry', () => {
  let dir: string;
  let store: SqlStore;
  let artifacts: string;
  let reg: BundleRegistry;
  let tree: string;
  let tarball: string;
  let files: Server;
  let filesUrl: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-bundles-'));
    store = await openStore({ dataDir: join(dir, 'data') });
    artifacts = join(dir, 'artifacts');
    // The test's file server is on loopback, which the region refuses by default.
    reg = new BundleRegistry(store, artifacts, { sources: { allowPrivate: ['127.0.0.1'] } });
    tree = join(dir, 'tree');
    writeUpstreamTree(tree, {
      extras: [{ file: 'pause.tar', ref: 'k8s.gcr.io/pause:3.2', format: 'oci-archive' }],
      cni: ['bridge', 'loopback'],
    });
    tarball = join(dir, 'kubernetes-server-linux-amd64.tar.gz');
    tarGz(tree, tarball);
    files = createServer((req, res) => {
      const f = join(dir, (req.url ?? '/').replace(/^\/files\//, ''));
      if (!req.url?.startsWith('/files/') || !existsSync(f)) return res.writeHead(404).end();
      res.writeHead(200);
      createReadStream(f).pipe(res);
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}/files`;
  });
  after(async () => {
    await new Promise((r) => files.close(r));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports an official-layout tarball: named after version and arch, files checksummed under bundles/<id>', async () => {
    const b = await reg.importStream(
      { fileName: 'k.tar.gz', sha256: sha(tarball) },
      createReadStream(tarball),
      't',
    );
    assert.equal(b.status, 'ready');
    assert.equal(b.name, 'kubernetes-v1.20.2-amd64');
    assert.equal(b.version, 'v1.20.2');
    assert.equal(b.arch, 'amd64');
    const root = reg.dirOf(b);
    assert.equal(b.path, `bundles/${b.id}`);
    const stored = JSON.parse(readFileSync(join(root, 'ingot-bundle.json'), 'utf8'));
    assert.deepEqual(stored, b.manifest);
    assert.equal(b.sha256, sha(join(root, 'ingot-bundle.json')));
    for (const f of [...b.manifest!.binaries, ...b.manifest!.images, ...b.manifest!.cniPlugins])
      assert.equal(sha(join(root, f.path)), f.sha256, f.path);
    assert.deepEqual(readdirSync(root).sort(), ['bin', 'cni', 'images', 'ingot-bundle.json']);
    assert.deepEqual(incoming(artifacts), []);
    await reg.remove(b.id, 't');
    assert.ok(!existsSync(root));
  });

  it('refuses a bundle without a kubelet: a failed row saying why and no file left', async () => {
    const broken = join(dir, 'broken');
    rmSync(broken, { recursive: true, force: true });
    mkdirSync(broken);
    tarGz(tree, join(broken, 'b.tar.gz'));
    const t2 = join(dir, 'tree2');
    rmSync(t2, { recursive: true, force: true });
    // The same tree without its kubelet.
    await new Promise<void>((r, j) =>
      spawn('cp', ['-a', tree, t2]).on('close', (c) => (c === 0 ? r() : j(new Error('cp')))),
    );
    unlinkSync(join(t2, 'kubernetes/server/bin/kubelet'));
    tarGz(t2, join(broken, 'nokubelet.tar.gz'));
    await assert.rejects(
      reg.importStream(
        { name: 'nokubelet', fileName: 'nokubelet.tar.gz' },
        createReadStream(join(broken, 'nokubelet.tar.gz')),
        't',
      ),
      (e: unknown) =>
        e instanceof IngotError &&
        /the bundle has no kubelet/.test(e.message) &&
        e.details.field === 'kubelet',
    );
    const row = await reg.get('nokubelet');
    assert.equal(row.status, 'failed');
    assert.match(row.statusReason, /no kubelet/);
    assert.ok(!existsSync(reg.dirOf(row)));
    assert.deepEqual(incoming(artifacts), []);
  });

  it('refuses a checksum mismatch, naming the field', async () => {
    await assert.rejects(
      reg.importStream({ name: 'badsum', sha256: 'a'.repeat(64) }, createReadStream(tarball), 't'),
      (e: unknown) =>
        e instanceof IngotError && e.details.field === 'sha256' && /checksum mismatch/.test(e.message),
    );
    assert.deepEqual(incoming(artifacts), []);
  });

  it('refuses what is not a tar before unpacking anything', async () => {
    async function* text() {
      yield Buffer.from('this is not a bundle\n'.repeat(100));
    }
    await assert.rejects(
      reg.importStream({ name: 'notatar', fileName: 'notes.txt' }, text(), 't'),
      (e: unknown) =>
        e instanceof IngotError &&
        /notes\.txt: is not a tar archive/.test(e.message) &&
        e.details.field === 'notes.txt',
    );
    assert.equal((await reg.get('notatar')).status, 'failed');
    assert.deepEqual(incoming(artifacts), []);
  });

  it('refuses a lone image archive: it is not a bundle', async () => {
    const img = join(dir, 'lone.tar');
    makeImageArchive(img, { ref: 'k8s.gcr.io/pause:3.2' });
    await assert.rejects(
      reg.importStream({ name: 'lone', fileName: 'lone.tar' }, createReadStream(img), 't'),
      /lone\.tar: is a container image archive, not a bundle/,
    );
  });

  it('refuses a second bundle of the same version and arch, naming the field', async () => {
    const first = await reg.importStream({}, createReadStream(tarball), 't');
    await assert.rejects(
      reg.importStream({}, createReadStream(tarball), 't'),
      (e: unknown) =>
        e instanceof IngotError &&
        e.code === 'INGOT_CONFLICT' &&
        e.details.field === 'name' &&
        /--name/.test(e.message),
    );
    const other = await reg.importStream({ name: 'second-copy' }, createReadStream(tarball), 't');
    assert.equal(other.status, 'ready');
    await reg.remove(first.id, 't');
    await reg.remove(other.id, 't');
  });

  it('imports from a URL in the background, and fails with the HTTP status of a missing one', async () => {
    const { bundle, done } = await reg.importUrl(
      { url: `${filesUrl}/kubernetes-server-linux-amd64.tar.gz`, name: 'fromurl' },
      't',
    );
    assert.equal(bundle.status, 'importing');
    const ready = await done;
    assert.equal(ready.status, 'ready', ready.statusReason);
    assert.equal(ready.source, `${filesUrl}/kubernetes-server-linux-amd64.tar.gz`);
    const missing = await reg.importUrl({ url: `${filesUrl}/nope.tar.gz`, name: 'missing' }, 't');
    const failed = await missing.done;
    assert.equal(failed.status, 'failed');
    assert.match(failed.statusReason, /answered HTTP 404/);
    await assert.rejects(reg.importUrl({ url: 'file:///etc/passwd' }, 't'), /only http and https/);
    await reg.remove('fromurl', 't');
  });

  it('marks imports a stopped region left behind as failed and removes their partial files', async () => {
    const b = await store.createBundle({ name: 'halfway', source: 'upload:x', path: 'bundles/{id}' }, 't');
    mkdirSync(join(artifacts, 'bundles', '.incoming', b.id, 'tree'), { recursive: true });
    mkdirSync(join(artifacts, 'bundles', 'bnd_orphan'), { recursive: true });
    const fresh = await store.createBundle(
      { name: 'elsewhere', source: 'upload:y', path: 'bundles/{id}' },
      't',
    );
    const failed = await new BundleRegistry(store, artifacts).recoverInterrupted();
    assert.deepEqual(
      failed.map((f) => f.id),
      [b.id],
    );
    const row = await store.getBundle('halfway');
    assert.equal(row.status, 'failed');
    assert.match(row.statusReason, /interrupted: the region stopped while importing it/);
    assert.ok(!existsSync(join(artifacts, 'bundles', '.incoming', b.id)));
    assert.ok(!existsSync(join(artifacts, 'bundles', 'bnd_orphan')));
    // Another region's import (no files here, progress within STALE_MS) is left alone.
    assert.equal((await store.getBundle(fresh.id)).status, 'importing');
    await store.deleteBundle(fresh.id, 't');
  });
});

describe('bundle API and CLI on a real region', () => {
  let r: TestRegion;
  let dir: string;
  let tree: string;
  const viewer = 'ingot_test_bundle_viewer';

  before(async () => {
    r = await startTestRegion();
    await r.region.store.createToken({
      name: 'viewer',
      role: 'viewer',
      hash: hashToken(viewer),
      expiresAt: null,
    });
    dir = mkdtempSync(join(tmpdir(), 'ingot-bundles-cli-'));
    tree = join(dir, 'k8s');
    writeUpstreamTree(tree, {
      extras: [{ file: 'etcd.tar', ref: 'k8s.gcr.io/etcd:3.4.13-0' }],
      cni: ['bridge'],
    });
  });
  after(async () => {
    await r?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ingot = (args: string[], env: Record<string, string> = {}) =>
    runIngot(args, { env: { ...r.cliEnv, XDG_CONFIG_HOME: dir, ...env } });

  it('adds a bundle directory with `ingot bundle add DIR`, lists, shows and removes it', async () => {
    const add = await ingot(['bundle', 'add', tree, '-o', 'json']);
    assert.equal(add.code, 0, add.err);
    const b = JSON.parse(add.out) as Bundle;
    assert.equal(b.name, 'kubernetes-v1.20.2-amd64');
    assert.equal(b.source, 'upload:k8s');
    const ls = await ingot(['bundle', 'ls']);
    assert.match(
      ls.out,
      /kubernetes-v1\.20\.2-amd64\s+v1\.20\.2\s+amd64\s+kubeadm,kubelet,kubectl\s+5\s+1\s/,
    );
    const show = await ingot(['bundle', 'show', 'kubernetes-v1.20.2-amd64']);
    assert.match(show.out, /version: +v1\.20\.2 \(from 4 \.docker_tag files/);
    assert.match(show.out, /absent: +pause, coredns/);
    assert.match(show.out, /k8s\.gcr\.io\/etcd:3\.4\.13-0 +etcd +docker-archive/);
    const rm = await ingot(['bundle', 'rm', 'kubernetes-v1.20.2-amd64']);
    assert.equal(rm.code, 0, rm.err);
    assert.equal((await ingot(['bundle', 'show', 'kubernetes-v1.20.2-amd64'])).code, 3);
  });

  it('adds the release tarball as a file (checksummed by the CLI) and refuses a wrong --sha256 before uploading', async () => {
    const tgz = join(dir, 'kubernetes-server-linux-amd64.tar.gz');
    tarGz(tree, tgz);
    const bad = await ingot(['bundle', 'add', tgz, '--sha256', 'b'.repeat(64)]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /checksum mismatch.*nothing was uploaded/);
    const ok = await ingot(['bundle', 'add', tgz, '--name', 'k120']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^k120 ready v1\.20\.2 amd64/);
    await ingot(['bundle', 'rm', 'k120']);
  });

  it('says why a broken bundle is refused, with exit code 2', async () => {
    const broken = join(dir, 'broken');
    writeUpstreamTree(broken, { binaries: { kubelet: { version: 'v1.21.0' } } });
    const res = await ingot(['bundle', 'add', broken]);
    assert.equal(res.code, 2);
    assert.match(res.err, /kubernetes\/server\/bin\/kubelet: does not carry the version string v1\.20\.2/);
  });

  it('lets viewers list and read bundles but not add or remove them', async () => {
    const list = await r.api('GET', '/api/v1/bundles', undefined, viewer);
    assert.equal(list.status, 200);
    const add = await r.api<{ code: string }>(
      'POST',
      '/api/v1/bundles',
      { url: 'http://127.0.0.1:1/x.tar.gz' },
      viewer,
    );
    assert.equal(add.status, 403);
    const del = await r.api('DELETE', '/api/v1/bundles/whatever', undefined, viewer);
    assert.equal(del.status, 403);
    const badName = await r.api<{ message: string }>('POST', '/api/v1/bundles', {
      url: 'http://x/y',
      name: 'Bad Name',
    });
    assert.equal(badName.status, 400);
    const doc = await r.api<{ paths: Record<string, unknown> }>('GET', '/api/v1/openapi.json');
    for (const p of ['/api/v1/bundles', '/api/v1/bundles/{name}', '/api/v1/bundles/upload'])
      assert.ok(doc.body.paths[p], `OpenAPI lacks ${p}`);
  });
});

describe('a bundle upload cut by kill -9 of the region', () => {
  it('is marked failed, with its partial files removed, when the region starts again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ingot-bundles-crash-'));
    let serve = await startServe(dataDir);
    try {
      // Half an upload: the region has the row and a half-unpacked tree when it dies.
      const src = join(dataDir, 'src');
      mkdirSync(src);
      writeFileSync(join(src, 'big'), randomBytes(4 * 2 ** 20));
      const half = execFileSync('tar', ['-C', src, '-cf', '-', 'big'], { maxBuffer: 64 * 2 ** 20 }).subarray(
        0,
        2 ** 20,
      );
      const ac = new AbortController();
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(half));
        },
      });
      const upload = serve
        .fetch(`${serve.url}/api/v1/bundles/upload?name=cut`, {
          method: 'POST',
          headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/octet-stream' },
          body,
          duplex: 'half',
          signal: ac.signal,
        } as RequestInit)
        .catch(() => null);
      const end = Date.now() + 10_000;
      let b: Bundle | null = null;
      while (Date.now() < end) {
        b = await serve.api<Bundle>('GET', '/api/v1/bundles/cut').catch(() => null);
        if (b && /received/.test(b.statusReason)) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.equal(b?.status, 'importing');
      await serve.kill('SIGKILL');
      ac.abort();
      await upload;
      serve = await startServe(dataDir);
      const after = await serve.api<Bundle>('GET', '/api/v1/bundles/cut');
      assert.equal(after.status, 'failed');
      assert.match(after.statusReason, /interrupted: the region stopped while importing it/);
      assert.ok(!existsSync(join(dataDir, 'artifacts', 'bundles', '.incoming', b!.id)));
    } finally {
      await serve.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
