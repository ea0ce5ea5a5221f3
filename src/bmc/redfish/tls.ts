/**
 * The HTTP dispatcher of a Redfish client. TLS verification is on by default; a self-signed
 * BMC certificate can be trusted by pinning its SHA-256 fingerprint instead of disabling checks.
 */
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { invalid } from '../../core/errors.ts';

export interface DispatcherOptions {
  /** SHA-256 fingerprint to pin (hex, colons optional, `sha256:` prefix allowed). */
  readonly fingerprint?: string | null;
  readonly insecure?: boolean;
  readonly timeoutMs: number;
}

/** Normalises a fingerprint to Node's `fingerprint256` form (`AB:CD:…`). */
export function normalizeFingerprint(fp: string): string {
  const hex = fp
    .replace(/^sha-?256[:=]/i, '')
    .replace(/[:\s-]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw invalid(
      'bmc.tlsFingerprint',
      'must be a SHA-256 fingerprint: 64 hex digits, colons optional (openssl x509 -fingerprint -sha256)',
    );
  }
  return hex.match(/.{2}/g)!.join(':');
}

export class FingerprintMismatchError extends Error {
  readonly code = 'INGOT_TLS_FINGERPRINT_MISMATCH';
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super(`certificate fingerprint ${actual} does not match the pinned ${expected}`);
    this.expected = expected;
    this.actual = actual;
  }
}

export function createDispatcher(opts: DispatcherOptions): Agent {
  const common = {
    keepAliveTimeout: 30_000,
    connections: 8,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  };
  if (!opts.fingerprint) {
    return new Agent({ ...common, connect: { rejectUnauthorized: !opts.insecure, timeout: opts.timeoutMs } });
  }
  const expected = normalizeFingerprint(opts.fingerprint);
  // The chain of a self-signed certificate cannot verify, so verification is replaced (not
  // skipped): the connection is accepted only if the leaf certificate is exactly the pinned one.
  // TLS session resumption is off: a resumed session shows no peer certificate to compare.
  const connector = buildConnector({
    rejectUnauthorized: false,
    timeout: opts.timeoutMs,
    maxCachedSessions: 0,
  });
  return new Agent({
    ...common,
    connect: (options, callback) => {
      connector(options, (err, socket) => {
        if (err || !socket) return callback(err ?? new Error('no socket'), null);
        const tls = socket as TLSSocket;
        if (typeof tls.getPeerCertificate !== 'function') return callback(null, socket);
        const actual = tls.getPeerCertificate().fingerprint256 ?? '';
        if (actual !== expected) {
          socket.destroy();
          return callback(new FingerprintMismatchError(expected, actual), null);
        }
        callback(null, socket);
      });
    },
  });
}
