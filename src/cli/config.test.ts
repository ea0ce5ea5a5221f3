import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certFingerprint } from '../tls/fingerprint.ts';
import { generateSelfSignedCert } from '../tls/self-signed.ts';
import { resolveTarget } from './config.ts';

describe('the CLI target', () => {
  const saved = { ...process.env };
  let dir: string;
  let pin: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-cli-target-'));
    const data = join(dir, 'data');
    mkdirSync(join(data, 'tls'), { recursive: true });
    const cert = await generateSelfSignedCert(['127.0.0.1'], 'test region');
    writeFileSync(join(data, 'tls', 'region.crt'), cert.certPem);
    writeFileSync(join(data, 'admin.token'), 'local-token\n');
    pin = `sha256:${certFingerprint(cert.certPem)}`;
    for (const k of ['INGOT_URL', 'INGOT_TOKEN', 'INGOT_FINGERPRINT']) delete process.env[k];
    process.env.INGOT_DATA = data;
    process.env.XDG_CONFIG_HOME = join(dir, 'config');
  });
  after(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('pins the local region’s certificate for the default URL and for another loopback port', () => {
    assert.deepEqual(resolveTarget({}), {
      url: 'https://127.0.0.1:8080',
      token: 'local-token',
      fingerprint: pin,
    });
    assert.equal(resolveTarget({ url: 'https://127.0.0.1:41000/' }).fingerprint, pin);
    assert.equal(resolveTarget({ url: 'https://localhost:41000' }).fingerprint, pin);
  });

  it('never hands the local certificate to a region elsewhere, and an explicit pin wins', () => {
    assert.equal(resolveTarget({ url: 'https://region.example:8080' }).fingerprint, null);
    assert.equal(
      resolveTarget({ url: 'https://127.0.0.1:1', fingerprint: 'sha256:AB' }).fingerprint,
      'sha256:AB',
    );
  });
});
