/**
 * The agent's side of the rack's HTTPS without a VM: its own shell code (the pin file
 * ingot-agent writes, write-image.sh's image_fetch and trust_rack) run by sh with curl against a
 * real boot HTTP server on loopback. The rack's images go over the pinned connection with the
 * boot token; an image URL elsewhere gets neither token nor pin; a rack with another key is
 * refused; the deployed OS's root gets the rack's certificate in its trust store.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashBootToken, newBootToken } from '../src/netboot/http/index.ts';
import { publicKeyPin } from '../src/tls/fingerprint.ts';
import { generateSelfSignedCert } from '../src/tls/self-signed.ts';
import { type Harness, leaseLoopback, machine, startHarness } from './support/boot-http.ts';

const GUEST = new URL('../src/agent/guest/', import.meta.url).pathname;

describe('the agent over the rack’s HTTPS (its shell code, sh + curl)', () => {
  let h: Harness;
  let work: string;
  const token = newBootToken();
  let elsewhere: Server;
  let seen: IncomingHttpHeaders | null = null;

  before(async () => {
    h = await startHarness();
    work = mkdtempSync(join(tmpdir(), 'ingot-agent-tls-'));
    mkdirSync(join(h.artifacts, 'images'), { recursive: true });
    writeFileSync(join(h.artifacts, 'images', 'os.raw'), 'the rack image');
    const m = await h.store.createMachine(machine(), 'test');
    await leaseLoopback(h.store, m.id);
    await h.store.setMachineBootToken(m.id, hashBootToken(token), Date.now() + 3600_000);
    elsewhere = createServer((req, res) => {
      seen = req.headers;
      res.end('an image from elsewhere');
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    await h.close();
    await new Promise<void>((r) => elsewhere.close(() => r()));
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs `body` in sh with the agent's state as ingot-agent sets it up from the kernel line. */
  function agent(
    body: string,
    env: Record<string, string>,
  ): Promise<{ code: number; out: string; err: string }> {
    const run = join(work, 'run');
    mkdirSync(run, { recursive: true });
    // The same lines ingot-agent runs after reading ingot.url / ingot.pin / ingot.token.
    const setup = readFileSync(join(GUEST, 'ingot-agent'), 'utf8');
    const pinLines = /^TLSCFG=.*\nif \[ -n "\$PIN" \].*$/m.exec(setup)?.[0];
    assert.ok(pinLines, 'ingot-agent writes its curl pin file');
    const script = [
      'set -u',
      `RUN=${run}`,
      'HDR=$RUN/auth.hdr',
      `printf 'Authorization: Bearer %s\\n' "$TOKEN" >"$HDR"`,
      pinLines,
      'die() { echo "FAILED: $*" >&2; exit 1; }',
      `. ${join(GUEST, 'tasks', 'write-image.sh')}`,
      body,
    ].join('\n');
    return new Promise((resolve) =>
      execFile('sh', ['-c', script], { env: { PATH: process.env.PATH ?? '', ...env } }, (e, out, err) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
      ),
    );
  }

  it('fetches the rack’s image over the pinned HTTPS with its boot token', async () => {
    const r = await agent('image_fetch', {
      URL: h.http.secureUrl,
      PIN: h.pin!,
      TOKEN: token,
      T_URL: `${h.http.secureUrl}/artifacts/images/os.raw`,
    });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'the rack image');
  });

  it('sends an image URL elsewhere neither the token nor through the pin', async () => {
    const other = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/os.raw`;
    const r = await agent('image_fetch', { URL: h.http.secureUrl, PIN: h.pin!, TOKEN: token, T_URL: other });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'an image from elsewhere');
    assert.equal(seen?.authorization, undefined, 'the boot token stays with the rack');
  });

  it('asks for ChaCha20-Poly1305 on a CPU without AES instructions, and the rack honours it', async () => {
    // What TLS suite the image download gets: the agent's cipher_prefs (lib/rack.sh) under a
    // CPU whose flags lack `aes` (QEMU TCG's default), and under one that has it.
    const fetch = async (flags: string) => {
      const cpuinfo = join(work, `cpuinfo-${flags.length}`);
      writeFileSync(cpuinfo, `processor\t: 0\nflags\t\t: fpu sse sse2 ${flags}\n`);
      return agent(
        `. ${join(GUEST, 'lib', 'rack.sh')}; cipher_prefs >>"$TLSCFG"; curl -v -K "$TLSCFG" -H @"$HDR" -fsS "$T_URL"`,
        {
          URL: h.http.secureUrl,
          PIN: h.pin!,
          TOKEN: token,
          T_URL: `${h.http.secureUrl}/artifacts/images/os.raw`,
          INGOT_CPUINFO: cpuinfo,
        },
      );
    };
    const noAes = await fetch('pni cx16');
    assert.equal(noAes.code, 0, noAes.err);
    assert.equal(noAes.out, 'the rack image');
    assert.match(noAes.err, /SSL connection using TLSv1\.3 \/ TLS_CHACHA20_POLY1305_SHA256/);
    const aes = await fetch('pni aes avx2');
    assert.equal(aes.code, 0, aes.err);
    assert.match(aes.err, /SSL connection using TLSv1\.3 \/ TLS_AES_256_GCM_SHA384/);
  });

  it('refuses a rack whose key is not the pinned one at the handshake (curl exit 90)', async () => {
    const other = await generateSelfSignedCert(['127.0.0.1'], 'not the rack');
    const r = await agent('image_fetch', {
      URL: h.http.secureUrl,
      PIN: publicKeyPin(other.certPem),
      TOKEN: token,
      T_URL: `${h.http.secureUrl}/artifacts/images/os.raw`,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.err, /public key does not match pinned public key|\(90\)/i);
  });

  it('puts the rack’s certificate, fetched over the pinned connection, in the deployed OS’s trust store', async () => {
    const root = join(work, 'root');
    mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
    writeFileSync(join(root, 'etc/ssl/certs/ca-certificates.crt'), '# the distribution CAs\n');
    const r = await agent(`trust_rack ${root}`, { URL: h.http.secureUrl, PIN: h.pin!, TOKEN: token });
    assert.equal(r.code, 0, r.err);
    assert.equal(
      readFileSync(join(root, 'usr/local/share/ca-certificates/ingot-rack.crt'), 'utf8'),
      h.certPem,
    );
    assert.equal(
      readFileSync(join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8'),
      `# the distribution CAs\n${h.certPem}`,
    );
  });
});
