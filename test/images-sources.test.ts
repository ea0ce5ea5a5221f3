/**
 * URL imports — OS images and Kubernetes bundles, one policy — do not reach the region's own
 * host: loopback, link-local and the host's own addresses are refused (by name too, after
 * DNS), each redirect hop is checked, and a connection is checked again when it is made. An
 * operator can opt in, to all or to a list. Real HTTP servers on loopback stand for the
 * services a request must never reach.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetch } from 'undici';
import { BundleRegistry } from '../src/bundles/registry.ts';
import { ImageRegistry } from '../src/images/registry.ts';
import { RefusedSource, SourcePolicy } from '../src/images/source-policy.ts';
import { openStore } from '../src/store/open.ts';
import type { SqlStore } from '../src/store/sql-store.ts';
import { startTestRegion, type TestRegion } from './support/region.ts';

const DISK = Buffer.alloc(1 << 20, 3);

/** A server that counts requests; answers a disk image, or a redirect when `redirectTo` is set. */
async function server(
  host: string,
  redirectTo?: () => string,
): Promise<{ url: string; hits: string[]; srv: Server }> {
  const hits: string[] = [];
  const srv = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (redirectTo) res.writeHead(302, { location: redirectTo() }).end();
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(DISK);
  });
  await new Promise<void>((resolve) => srv.listen(0, host, resolve));
  const port = (srv.address() as AddressInfo).port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, hits, srv };
}

describe('where URL imports may fetch from', () => {
  let r: TestRegion;
  let inside: Awaited<ReturnType<typeof server>>;
  before(async () => {
    r = await startTestRegion();
    inside = await server('127.0.0.1');
  });
  after(async () => {
    await r?.stop();
    inside?.srv.close();
  });

  const importUrl = (name: string, url: string) =>
    r.api<{ code: string; message: string; details: { field: string } }>('POST', '/api/v1/images', {
      name,
      url,
    });

  it('refuses loopback and link-local URLs, by address or by name, with a 400 naming url and nothing registered', async () => {
    const port = new URL(inside.url).port;
    for (const [name, url, why] of [
      ['lo', `${inside.url}/disk.raw`, /a loopback address/],
      [
        'lo-name',
        `http://localhost:${port}/disk.raw`,
        /localhost resolves to an address that is (127\.0\.0\.1|::1), a loopback address/,
      ],
      ['lo-other', `http://127.1.2.3:${port}/disk.raw`, /a loopback address/],
      ['lo6', `http://[::1]:${port}/disk.raw`, /a loopback address/],
      ['mapped', `http://[::ffff:127.0.0.1]:${port}/disk.raw`, /a loopback address/],
      ['metadata', 'http://169.254.169.254/latest/meta-data/', /a link-local address/],
      ['zero', `http://0.0.0.0:${port}/disk.raw`, /an unspecified address/],
    ] as const) {
      const res = await importUrl(name, url);
      assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.details.field, 'url');
      assert.match(res.body.message, why);
      assert.match(res.body.message, /--allow-private-sources/);
      assert.equal((await r.api('GET', `/api/v1/images/${name}`)).status, 404, 'nothing registered');
    }
    assert.deepEqual(inside.hits, [], 'no request reached the loopback server');
  });

  it('refuses the same addresses for bundle URL imports, through the API, with nothing registered', async () => {
    for (const url of [`${inside.url}/k.tar.gz`, 'http://169.254.169.254/k.tar.gz']) {
      const res = await r.api<{ message: string; details: { field: string } }>('POST', '/api/v1/bundles', {
        url,
        name: 'k',
      });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.details.field, 'url');
      assert.match(res.body.message, /--allow-private-sources/);
    }
    assert.deepEqual((await r.api('GET', '/api/v1/bundles')).body, []);
    assert.deepEqual(inside.hits, [], 'no request reached the loopback server');
  });

  it('refuses the region host’s own addresses', async () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4');
    // A host with loopback only has no other own address to try; the loopback cases cover it.
    if (!own) return;
    const listener = await server(own.address);
    try {
      const res = await importUrl('own', `${listener.url}/disk.raw`);
      assert.equal(res.status, 400);
      assert.match(res.body.message, /the region host's own addresses/);
      assert.deepEqual(listener.hits, []);
    } finally {
      listener.srv.close();
    }
  });

  describe('with an operator’s allow list', () => {
    let dir: string;
    let store: SqlStore;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ingot-sources-'));
      store = await openStore({ dataDir: join(dir, 'data') });
    });
    after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('imports from an allowed address, and fails an import whose redirect leads to a refused one', async () => {
      const reg = new ImageRegistry(store, join(dir, 'artifacts'), {
        sources: { allowPrivate: ['127.0.0.2/32'] },
      });
      const allowed = await server('127.0.0.2');
      const hop = await server('127.0.0.2', () => `${inside.url}/disk.raw`);
      try {
        const ok = await reg.importUrl({ name: 'allowed', url: `${allowed.url}/disk.raw` }, 'test');
        assert.equal((await ok.done).status, 'ready');
        const before = inside.hits.length;
        const redirected = await reg.importUrl({ name: 'redirected', url: `${hop.url}/disk.raw` }, 'test');
        const img = await redirected.done;
        assert.equal(img.status, 'failed');
        assert.match(img.statusReason, /127\.0\.0\.1, a loopback address/);
        assert.equal(inside.hits.length, before, 'the redirect target got no request');
        await assert.rejects(
          reg.importUrl({ name: 'direct', url: `${inside.url}/disk.raw` }, 'test'),
          RefusedSource,
        );
      } finally {
        allowed.srv.close();
        hop.srv.close();
      }
    });

    it('holds bundle URL imports to the same policy: a refused address before registering, a redirect to one at its hop', async () => {
      const reg = new BundleRegistry(store, join(dir, 'artifacts'), {
        sources: { allowPrivate: ['127.0.0.2/32'] },
      });
      const hop = await server('127.0.0.2', () => `${inside.url}/k.tar.gz`);
      try {
        const before = inside.hits.length;
        await assert.rejects(
          reg.importUrl({ url: `${inside.url}/k.tar.gz`, name: 'direct' }, 'test'),
          RefusedSource,
        );
        assert.deepEqual(await store.listBundles(), [], 'nothing registered');
        const redirected = await reg.importUrl({ url: `${hop.url}/k.tar.gz`, name: 'redirected' }, 'test');
        const b = await redirected.done;
        assert.equal(b.status, 'failed');
        assert.match(b.statusReason, /127\.0\.0\.1, a loopback address/);
        assert.equal(inside.hits.length, before, 'the loopback server got no request');
      } finally {
        hop.srv.close();
      }
    });

    it('imports from anywhere when an operator allows all private sources', async () => {
      const reg = new ImageRegistry(store, join(dir, 'artifacts'), { sources: { allowPrivate: true } });
      const done = await (await reg.importUrl({ name: 'anywhere', url: `${inside.url}/disk.raw` }, 'test'))
        .done;
      assert.equal(done.status, 'ready');
    });
  });

  it('checks every connection it makes, so a name that resolves or a literal address is refused when connecting too', async () => {
    const policy = new SourcePolicy();
    const dispatcher = policy.dispatcher();
    try {
      const before = inside.hits.length;
      for (const url of [`${inside.url}/x`, `http://localhost:${new URL(inside.url).port}/x`]) {
        const err = await fetch(url, { dispatcher }).then(
          () => null,
          (e: Error) => e,
        );
        assert.ok(err, url);
        assert.ok(
          (err as { cause?: unknown }).cause instanceof RefusedSource,
          `${url}: ${String((err as { cause?: unknown }).cause)}`,
        );
      }
      assert.equal(inside.hits.length, before, 'no request was sent');
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses an allow list entry that is not an address or CIDR, when the region starts', () => {
    assert.throws(() => new SourcePolicy({ allowPrivate: ['10.0.0.0/33'] }), /not an address or CIDR/);
    assert.throws(() => new SourcePolicy({ allowPrivate: ['mirror.local'] }), /not an address or CIDR/);
  });
});
