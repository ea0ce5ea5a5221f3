import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { caCertHash, generatePki, rsaKeys } from './generate.ts';
import { subjectPublicKeyInfo } from './spki.ts';

x509.cryptoProvider.set(crypto as unknown as Crypto);

/** The plain path: the x509 library's parse of the whole certificate. */
const librarySpki = (pem: string) => Buffer.from(new x509.X509Certificate(pem).publicKey.rawData);

describe('subjectPublicKeyInfo', () => {
  it('is the bytes the x509 library reads, for ECDSA and RSA certificates, and the CA hash is the same', async () => {
    const pki = await generatePki('kubeadm:cluster-admins', new Date('2026-12-01T00:00:00Z'));
    const pems = Object.entries(pki.files).filter(([f]) => f.endsWith('.crt'));
    assert.ok(pems.length >= 5);
    const keys = await rsaKeys();
    const rsa = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=rsa',
      notBefore: new Date('2026-12-01T00:00:00Z'),
      notAfter: new Date('2036-12-01T00:00:00Z'),
      keys,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    });
    pems.push(['rsa.crt', rsa.toString('pem')]);
    for (const [name, pem] of pems) {
      const spki = subjectPublicKeyInfo(pem);
      assert.ok(spki, name);
      assert.deepEqual(Buffer.from(spki), librarySpki(pem), name);
      const plain = `sha256:${createHash('sha256').update(librarySpki(pem)).digest('hex')}`;
      assert.equal(await caCertHash(pem), plain, name);
    }
  });

  it('leaves what is not one plainly encoded certificate to the library', async () => {
    const pki = await generatePki('kubeadm:cluster-admins', new Date('2026-12-01T00:00:00Z'));
    const pem = pki.files['ca.crt'];
    const body = pem.split('\n').slice(1, -2).join('\n');
    for (const bad of [
      pem + pem,
      'not a certificate',
      pem.replace('CERTIFICATE', 'PUBLIC KEY'),
      `-----BEGIN CERTIFICATE-----\n${body.slice(0, 40)}\n-----END CERTIFICATE-----\n`,
      `-----BEGIN CERTIFICATE-----\n${Buffer.from([0x30, 0x80, 0, 0]).toString('base64')}\n-----END CERTIFICATE-----\n`,
    ])
      assert.equal(subjectPublicKeyInfo(bad), undefined, bad.slice(0, 60));
  });
});
