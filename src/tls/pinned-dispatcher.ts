/**
 * An HTTP dispatcher that trusts one certificate by its SHA-256 fingerprint: the Redfish driver
 * pins self-signed BMC certificates with it, the CLI the region's. TLS verification is on by
 * default; pinning replaces the chain check instead of disabling it.
 */
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { normalizeFingerprint } from './fingerprint.ts';

export interface DispatcherOptions {
  /** SHA-256 fingerprint to pin (hex, colons optional, `sha256:` prefix allowed). */
  readonly fingerprint?: string | null;
  readonly insecure?: boolean;
  /** Connect and response-headers timeout. */
  readonly timeoutMs: number;
  /** Longest silence within a body (0: none, for event streams). @default timeoutMs */
  readonly bodyTimeoutMs?: number;
  /** The fingerprint's name in an error about it. @default bmc.tlsFingerprint */
  readonly fieldName?: string;
}

export class FingerprintMismatchError extends Error {
  readonly code = 'INGOT_TLS_FINGERPRINT_MISMATCH';
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super(`certificate fingerprint sha256:${actual} does not match the pinned sha256:${expected}`);
    this.expected = expected;
    this.actual = actual;
  }
}

export function createDispatcher(opts: DispatcherOptions): Agent {
  const common = {
    keepAliveTimeout: 30_000,
    connections: 8,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.bodyTimeoutMs ?? opts.timeoutMs,
  };
  if (!opts.fingerprint) {
    return new Agent({ ...common, connect: { rejectUnauthorized: !opts.insecure, timeout: opts.timeoutMs } });
  }
  const expected = normalizeFingerprint(opts.fingerprint, opts.fieldName);
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
