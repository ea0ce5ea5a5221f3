/**
 * Certificate fingerprints as people and tools write them: the SHA-256 of the DER certificate
 * (what `openssl x509 -fingerprint -sha256` prints, what Ingot pins) and the SHA-256 of the
 * public key (what curl's `--pinnedpubkey` takes, what the boot chain hands the agent).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { invalid } from '../core/errors.ts';

/** Upper-case hex pairs joined by colons (OpenSSL style). */
export function formatFingerprint(hex: string): string {
  return hex.toUpperCase().match(/.{2}/g)!.join(':');
}

/**
 * Normalises a fingerprint to Node's `fingerprint256` form (`AB:CD:…`); `field` names the
 * input in the error (a BMC's `tlsFingerprint`, the CLI's `--fingerprint`).
 */
export function normalizeFingerprint(fp: string, field = 'bmc.tlsFingerprint'): string {
  const hex = fp
    .replace(/^sha-?256[:=]/i, '')
    .replace(/[:\s-]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw invalid(
      field,
      'must be a SHA-256 fingerprint: 64 hex digits, colons optional (openssl x509 -fingerprint -sha256)',
    );
  }
  return formatFingerprint(hex);
}

/** The SHA-256 fingerprint of a PEM certificate, `AB:CD:…`. */
export function certFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** curl's `--pinnedpubkey` form of a PEM certificate's key: `sha256//` + base64 of the SPKI's SHA-256. */
export function publicKeyPin(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256//${createHash('sha256').update(spki).digest('base64')}`;
}
