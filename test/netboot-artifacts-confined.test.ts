/**
 * The rack's boot HTTP server never serves a byte from outside its artifacts dir: not through
 * `..` (plain, percent-encoded, double-encoded, with encoded slashes or backslashes), absolute
 * paths, NUL, nor symlinks inside the dir that lead out. Top-level links that assemble the dir
 * (the boot image, the lab's images, Debian's ipxe.efi → /boot) keep working, but nothing below
 * them may lead out either. Requests are sent as raw bytes, so no client normalises them, with
 * the token of a machine leased 127.0.0.1 (OS images need it); plain HTTP, this server has no
 * certificate (what is confined does not depend on the transport).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type BootHttpServer,
  hashBootToken,
  newBootToken,
  startBootHttpServer,
} from '../src/netboot/http/index.ts';
import { openStore } from '../src/store/open.ts';
import type { SqlStore } from '../src/store/sql-store.ts';
import { leaseLoopback, machine } from './support/boot-http.ts';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-ARTIFACTS';

describe('the artifact server stays inside its artifacts dir', () => {
  let dir: string;
  let store: SqlStore;
  let server: BootHttpServer;
  let port: number;
  const token = newBootToken();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-confined-'));
    store = await openStore({ dataDir: join(dir, 'data') });
    const artifacts = join(dir, 'artifacts');
    const outside = join(dir, 'outside');
    const mount = join(dir, 'mounted-elsewhere');
    mkdirSync(join(artifacts, 'images'), { recursive: true });
    mkdirSync(join(artifacts, 'ephemeral'));
    mkdirSync(outside);
    mkdirSync(mount);
    writeFileSync(join(dir, 'secret.txt'), SECRET);
    writeFileSync(join(outside, 'secret.txt'), SECRET);
    writeFileSync(join(artifacts, 'ephemeral', 'vmlinuz'), 'kernel');
    writeFileSync(join(artifacts, 'images', 'ok.raw'), 'image');
    writeFileSync(join(mount, 'good.txt'), 'mounted file');
    // Links below the top level that lead out.
    symlinkSync(join(dir, 'secret.txt'), join(artifacts, 'images', 'evil.raw'));
    symlinkSync(outside, join(artifacts, 'images', 'sub'));
    symlinkSync('../../secret.txt', join(artifacts, 'images', 'relative.raw'));
    symlinkSync(join(outside, 'secret.txt'), join(mount, 'leak'));
    // A top-level link, the way the boot image and the lab's images are linked in.
    symlinkSync(mount, join(artifacts, 'mounted'));
    server = await startBootHttpServer({ store, host: '127.0.0.1', artifactsDir: artifacts });
    const m = await store.createMachine(machine(), 'test');
    await leaseLoopback(store, m.id);
    await store.setMachineBootToken(m.id, hashBootToken(token), Date.now() + 3600_000);
    port = Number(new URL(server.url).port);
  });
  after(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () =>
        s.write(`GET ${path} HTTP/1.1\r\nHost: rack\r\nX-Ingot-Token: ${token}\r\nConnection: close\r\n\r\n`),
      );
      let out = '';
      s.setEncoding('latin1');
      s.on('data', (d) => {
        out += d;
      });
      s.on('error', reject);
      s.on('close', () => resolve({ status: Number(out.split(' ')[1]), body: out }));
    });

  it('serves what is inside, and what a top-level link brings in', async () => {
    for (const [path, body] of [
      ['/artifacts/ephemeral/vmlinuz', 'kernel'],
      ['/artifacts/images/ok.raw', 'image'],
      ['/artifacts/mounted/good.txt', 'mounted file'],
    ]) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.ok(res.body.endsWith(body), path);
    }
  });

  it('refuses traversal however it is written, and links that lead out, without a byte of what is outside', async () => {
    const attempts = [
      '/artifacts/../secret.txt',
      '/artifacts/images/../../secret.txt',
      '/artifacts/%2e%2e/secret.txt',
      '/artifacts/%2E%2E/secret.txt',
      '/artifacts/.%2e/secret.txt',
      '/artifacts/%2e%2e%2fsecret.txt',
      '/artifacts/..%2fsecret.txt',
      '/artifacts/images/..%2F..%2Fsecret.txt',
      '/artifacts/images/%2e%2e%2f%2e%2e%2fdata%2fsecret.key',
      '/artifacts/%252e%252e/secret.txt',
      '/artifacts/..%5csecret.txt',
      '/artifacts/images%5c..%5c..%5csecret.txt',
      '/artifacts/%2fetc%2fpasswd',
      '/artifacts//etc/passwd',
      '/artifacts/images/ok.raw%00.txt',
      '/artifacts/./images/../../secret.txt',
      '/artifacts/images/evil.raw',
      '/artifacts/images/relative.raw',
      '/artifacts/images/sub/secret.txt',
      '/artifacts/mounted/leak',
      '/artifacts/mounted/../secret.txt',
      '/artifacts/mounted/%2e%2e/outside/secret.txt',
      '/ipxe/../../../etc/passwd',
      '/ipxe/%2e%2e/%2e%2e/etc/passwd',
    ];
    for (const path of attempts) {
      const res = await get(path);
      assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
      assert.ok(!res.body.includes(SECRET), `${path} leaked the secret`);
      assert.ok(!res.body.includes('root:x:0:0'), `${path} leaked /etc/passwd`);
    }
  });
});
