import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { checkPlainHttp, isLoopback, PlainHttp } from './plain-http.ts';
import { loadServerTls } from './server-cert.ts';

describe('a service certificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once in DATA/tls, key and certificate 0600, naming the listen address, and kept across starts', async () => {
    const first = await loadServerTls({ dataDir: dir, service: 'rack', hosts: ['10.9.8.7'] });
    assert.equal(first.generated, true);
    assert.equal(first.selfSigned, true);
    for (const f of ['rack.crt', 'rack.key'])
      assert.equal(statSync(join(dir, 'tls', f)).mode & 0o777, 0o600, f);
    const x = new X509Certificate(readFileSync(join(dir, 'tls', 'rack.crt')));
    assert.match(x.subjectAltName ?? '', /IP Address:10\.9\.8\.7/);
    assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(x.fingerprint256, first.fingerprint256);
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.match(first.publicKeyPin, /^sha256\/\/[A-Za-z0-9+/]{43}=$/);
    const again = await loadServerTls({ dataDir: dir, service: 'rack', hosts: ['10.9.8.7'] });
    assert.equal(again.generated, false);
    assert.equal(again.fingerprint256, first.fingerprint256);
    const region = await loadServerTls({ dataDir: dir, service: 'region', hosts: ['127.0.0.1'] });
    assert.notEqual(region.fingerprint256, first.fingerprint256, 'region and rack have their own');
  });

  it('takes the operator’s certificate and key, and refuses a key that is not the certificate’s naming --tls-key', async () => {
    const a = await loadServerTls({ dataDir: join(dir, 'a'), service: 'region', hosts: ['127.0.0.1'] });
    const b = await loadServerTls({ dataDir: join(dir, 'b'), service: 'region', hosts: ['127.0.0.1'] });
    const given = await loadServerTls({
      dataDir: dir,
      service: 'region',
      certFile: join(dir, 'a', 'tls', 'region.crt'),
      keyFile: join(dir, 'a', 'tls', 'region.key'),
      hosts: [],
    });
    assert.equal(given.fingerprint256, a.fingerprint256);
    assert.equal(given.selfSigned, false);
    const refused = (o: { certFile?: string; keyFile?: string }, field: string, msg: RegExp) =>
      assert.rejects(loadServerTls({ dataDir: dir, service: 'region', hosts: [], ...o }), (e: unknown) => {
        assert.ok(e instanceof IngotError && e.code === ErrorCode.Config, String(e));
        assert.equal(e.details.field, field);
        assert.match(e.message, msg);
        return true;
      });
    await refused(
      { certFile: join(dir, 'a', 'tls', 'region.crt'), keyFile: join(dir, 'b', 'tls', 'region.key') },
      'tls-key',
      /^--tls-key: .* is not the key of the certificate/,
    );
    await refused(
      { certFile: join(dir, 'a', 'tls', 'region.crt') },
      'tls-key',
      /^--tls-key: missing; give both/,
    );
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
    await refused(
      { certFile: join(dir, 'junk.pem'), keyFile: join(dir, 'a', 'tls', 'region.key') },
      'tls-cert',
      /is not a PEM certificate/,
    );
    await refused({ certFile: join(dir, 'nope.crt'), keyFile: join(dir, 'nope.key') }, 'tls-cert', /ENOENT/);
    assert.notEqual(a.fingerprint256, b.fingerprint256);
  });
});

describe('plain HTTP', () => {
  it('is allowed on loopback with --http, anywhere with --insecure-http, and refused elsewhere naming --insecure-http', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.ok(isLoopback(h), h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com']) assert.ok(!isLoopback(h), h);
    checkPlainHttp(PlainHttp.Loopback, ['127.0.0.1']);
    checkPlainHttp(PlainHttp.Insecure, ['0.0.0.0']);
    checkPlainHttp(PlainHttp.Off, ['0.0.0.0']);
    assert.throws(
      () => checkPlainHttp(PlainHttp.Loopback, ['0.0.0.0']),
      (e: unknown) =>
        e instanceof IngotError &&
        e.code === ErrorCode.Config &&
        e.details.field === 'insecure-http' &&
        /^--http: 0\.0\.0\.0 is not a loopback address.*--insecure-http/.test(e.message),
    );
  });
});
