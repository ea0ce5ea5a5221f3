import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { isIngotError } from '../../core/errors.ts';
import { clusterPki } from '../index.ts';
import type { ClusterSpec } from '../spec/types.ts';
import { readPkiDir, writePkiDir } from './dir.ts';
import { caCertHash, generatePki, rsaKeys } from './generate.ts';
import type { PkiMaterial } from './types.ts';
import { scratchDirs } from '../../../test/support/scratch.ts';

describe('cluster PKI', () => {
  const scratch = scratchDirs();
  let pki: PkiMaterial;
  const now = new Date('2026-11-22T00:00:00Z');
  before(async () => {
    pki = await generatePki('kubeadm:cluster-admins', now);
  });

  it('issues the admin and etcd-client certificates from the right CAs', () => {
    const ca = new X509Certificate(pki.files['ca.crt']);
    const etcdCa = new X509Certificate(pki.files['etcd/ca.crt']);
    const admin = new X509Certificate(pki.files['admin.crt']);
    const etcdClient = new X509Certificate(pki.files['apiserver-etcd-client.crt']);
    assert.ok(ca.ca && etcdCa.ca);
    assert.ok(admin.verify(ca.publicKey) && admin.checkIssued(ca));
    assert.ok(etcdClient.verify(etcdCa.publicKey));
    assert.ok(!admin.verify(etcdCa.publicKey));
    assert.match(admin.subject, /O=kubeadm:cluster-admins/);
    assert.ok(admin.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), 'client auth');
  });

  it('makes ECDSA P-256 keys in SEC 1 PEM, each the pair of its certificate', () => {
    for (const crt of [
      'ca.crt',
      'etcd/ca.crt',
      'front-proxy-ca.crt',
      'admin.crt',
      'apiserver-etcd-client.crt',
    ]) {
      const keyPem = pki.files[crt.replace(/\.crt$/, '.key')];
      assert.match(keyPem, /^-----BEGIN EC PRIVATE KEY-----\n/, crt);
      const key = createPrivateKey(keyPem);
      assert.deepEqual(
        [key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve],
        ['ec', 'prime256v1'],
        crt,
      );
      assert.ok(new X509Certificate(pki.files[crt]).checkPrivateKey(key), `${crt} pairs with its key`);
    }
    const sa = createPrivateKey(pki.files['sa.key']);
    assert.equal(sa.asymmetricKeyType, 'ec');
    assert.equal(
      pki.files['sa.pub'],
      createPublicKey(sa).export({ type: 'spki', format: 'pem' }).toString(),
      'sa.pub is the public half of sa.key',
    );
  });

  it('makes an RSA-2048 service-account key (PKCS #1 PEM) where kubeadm before 1.31 needs one, the rest ECDSA; clusterPki asks for it for those kubeadm versions only', async () => {
    const rsa = await generatePki('system:masters', now, { rsaServiceAccountKey: true });
    assert.match(rsa.files['sa.key'], /^-----BEGIN RSA PRIVATE KEY-----\n/);
    const sa = createPrivateKey(rsa.files['sa.key']);
    assert.deepEqual([sa.asymmetricKeyType, sa.asymmetricKeyDetails?.modulusLength], ['rsa', 2048]);
    assert.equal(
      rsa.files['sa.pub'],
      createPublicKey(sa).export({ type: 'spki', format: 'pem' }).toString(),
      'sa.pub is the public half of sa.key',
    );
    assert.equal(createPrivateKey(rsa.files['ca.key']).asymmetricKeyType, 'ec');
    const saType = async (distribution: string, version: string) =>
      createPrivateKey(
        (await clusterPki({ spec: { distribution, version } } as unknown as ClusterSpec, now)).files[
          'sa.key'
        ],
      ).asymmetricKeyType;
    assert.equal(await saType('kubeadm', 'v1.20.2'), 'rsa');
    assert.equal(await saType('kubeadm', 'v1.30.2'), 'rsa');
    assert.equal(await saType('kubeadm', 'v1.31.0'), 'ec');
    assert.equal(await saType('k3s', 'v1.20.2'), 'ec');
  });

  it('never hands the same RSA key out twice, though the next one is made ahead', async () => {
    const keys = await Promise.all(
      Array.from(
        { length: 3 },
        async () =>
          (await generatePki('system:masters', now, { rsaServiceAccountKey: true })).files['sa.key'],
      ),
    );
    keys.push((await generatePki('system:masters', now, { rsaServiceAccountKey: true })).files['sa.key']);
    assert.equal(new Set(keys).size, keys.length);
    const pairs = await Promise.all([rsaKeys(), rsaKeys()]);
    assert.notEqual(
      KeyObject.from(pairs[0].privateKey).export({ type: 'pkcs1', format: 'pem' }).toString(),
      KeyObject.from(pairs[1].privateKey).export({ type: 'pkcs1', format: 'pem' }).toString(),
    );
  });

  it('tracks every certificate’s expiry: CAs ten years, leaves one year', () => {
    const byFile = Object.fromEntries(pki.expiry.map((e) => [e.file, e]));
    assert.deepEqual(Object.keys(byFile).sort(), [
      'admin.crt',
      'apiserver-etcd-client.crt',
      'ca.crt',
      'etcd/ca.crt',
      'front-proxy-ca.crt',
    ]);
    assert.equal(byFile['ca.crt'].notAfter, '2036-11-19T00:00:00.000Z');
    assert.equal(byFile['admin.crt'].notAfter, '2027-11-22T00:00:00.000Z');
    assert.equal(byFile['ca.crt'].isCA, true);
  });

  it('computes kubeadm’s discovery hash: sha256 of the CA public key', async () => {
    const der = new X509Certificate(pki.files['ca.crt']).publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(
      await caCertHash(pki.files['ca.crt']),
      `sha256:${createHash('sha256').update(der).digest('hex')}`,
    );
  });

  it('makes kubeadm-shaped tokens', () => {
    assert.match(pki.tokens.bootstrapToken, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.equal(Buffer.from(pki.tokens.encryptionKey, 'base64').length, 32);
  });

  it('writes keys 0600 and reads back the same material', () => {
    const dir = scratch('ingot-pki-');
    writePkiDir(dir, pki);
    assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'tokens.yaml')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'ca.crt')).mode & 0o777, 0o644);
    const back = readPkiDir(dir);
    assert.deepEqual(back, pki);
  });

  it('refuses a half PKI directory instead of silently replacing the cluster’s CA', () => {
    const dir = scratch('ingot-pki-');
    writePkiDir(dir, pki);
    unlinkSync(join(dir, 'etcd', 'ca.key'));
    assert.throws(
      () => readPkiDir(dir),
      (e) => isIngotError(e, 'INGOT_CONFIG') && /missing etcd\/ca.key/.test(e.message),
    );
  });
});
