/**
 * The pins against real peers: Node's HTTPS server with a generated certificate, undici through
 * the pinned dispatcher (what the CLI and the Redfish driver use), and curl's --pinnedpubkey
 * (what the agent in the boot image uses) with the public-key pin of the same certificate.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { publicKeyPin } from './fingerprint.ts';
import { createDispatcher, FingerprintMismatchError } from './pinned-dispatcher.ts';
import { generateSelfSignedCert, type SelfSignedCert } from './self-signed.ts';

const run = promisify(execFile);

describe('pinning a self-signed certificate', () => {
  let cert: SelfSignedCert;
  let other: SelfSignedCert;
  let server: Server;
  let url: string;
  before(async () => {
    [cert, other] = await Promise.all([
      generateSelfSignedCert(['127.0.0.1'], 'Ingot test'),
      generateSelfSignedCert(['127.0.0.1'], 'Ingot other'),
    ]);
    server = createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.end('pinned ok\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('accepts exactly the pinned certificate, and names both fingerprints when another one answers', async () => {
    const ok = createDispatcher({ fingerprint: `sha256:${cert.fingerprint256}`, timeoutMs: 5000 });
    const res = await request(url, { dispatcher: ok });
    assert.equal(await res.body.text(), 'pinned ok\n');
    await ok.close();
    const wrong = createDispatcher({ fingerprint: other.fingerprint256, timeoutMs: 5000 });
    await assert.rejects(request(url, { dispatcher: wrong }), (e: unknown) => {
      assert.ok(e instanceof FingerprintMismatchError, String(e));
      assert.equal(e.actual, cert.fingerprint256);
      assert.equal(e.expected, other.fingerprint256);
      return true;
    });
    await wrong.close();
  });

  it('pins for curl through a config file the way the agent writes it (src/agent/guest/ingot-agent)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingot-curlrc-'));
    try {
      const rc = (pin: string) => {
        const f = join(dir, 'tls.curlrc');
        writeFileSync(f, `insecure\npinnedpubkey = "${pin}"\n`);
        return f;
      };
      const { stdout } = await run('curl', ['-K', rc(publicKeyPin(cert.certPem)), '-sS', url]);
      assert.equal(stdout, 'pinned ok\n');
      await assert.rejects(run('curl', ['-K', rc(publicKeyPin(other.certPem)), '-sS', url]), { code: 90 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives curl a --pinnedpubkey that it accepts for this certificate and refuses for another', async () => {
    const { stdout } = await run('curl', ['-sS', '-k', '--pinnedpubkey', publicKeyPin(cert.certPem), url]);
    assert.equal(stdout, 'pinned ok\n');
    await assert.rejects(
      run('curl', ['-sS', '-k', '--pinnedpubkey', publicKeyPin(other.certPem), url]),
      (e: unknown) => {
        assert.equal(
          (e as { code: number }).code,
          90,
          'curl: SSL public key does not match pinned public key',
        );
        return true;
      },
    );
  });
});
