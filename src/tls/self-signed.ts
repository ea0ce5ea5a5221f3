/**
 * A self-signed certificate (WebCrypto ECDSA P-256): the virtual BMC's, like the one a real BMC
 * ships with, and a region's or rack's when no certificate is given. The SHA-256 fingerprint is
 * what a client pins (the Redfish driver's `tlsFingerprint`, `ingot login`).
 */
import { createHash, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { formatFingerprint } from './fingerprint.ts';

export interface SelfSignedCert {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 of the DER certificate, upper-case hex pairs joined by colons (OpenSSL style). */
  readonly fingerprint256: string;
}

export async function generateSelfSignedCert(
  hosts: readonly string[] = ['127.0.0.1', 'localhost'],
  commonName = 'Ingot virtual BMC',
  days = 365,
): Promise<SelfSignedCert> {
  const crypto = webcrypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const names = hosts.map((h) =>
    isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h },
  );
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
      name: `CN=${commonName.replace(/[,=+<>#;\\"]/g, ' ')}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + days * 24 * 3600_000),
      signingAlgorithm: alg,
      // node:crypto's and the DOM's WebCrypto types differ slightly; the objects are the same.
      keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
      extensions: [
        new x509.SubjectAlternativeNameExtension(names),
        new x509.BasicConstraintsExtension(false),
      ],
    },
    crypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END PRIVATE KEY-----\n`;
  const der = Buffer.from(cert.rawData);
  return {
    certPem: cert.toString('pem'),
    keyPem,
    fingerprint256: formatFingerprint(createHash('sha256').update(der).digest('hex')),
  };
}
