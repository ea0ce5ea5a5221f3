/**
 * The certificate a TLS server presents, read without trusting it: what `ingot login` shows
 * before it pins a region's certificate on first use.
 */
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { ErrorCode, IngotError } from '../core/errors.ts';

export interface PeerCertificate {
  /** `AB:CD:…`, SHA-256 of the DER certificate. */
  readonly fingerprint256: string;
  readonly subject: string;
  readonly subjectAltName: string;
  readonly validTo: string;
}

export function peerCertificate(url: string, timeoutMs = 10_000): Promise<PeerCertificate> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port || 443);
  return new Promise((resolve, reject) => {
    // Not trusted here on purpose: the caller shows the fingerprint and pins it, or refuses.
    const s = connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(isIP(host) ? {} : { servername: host }),
      timeout: timeoutMs,
    });
    const fail = (why: string) => {
      s.destroy();
      reject(new IngotError(ErrorCode.Unreachable, `cannot read the TLS certificate of ${url}: ${why}`));
    };
    s.once('secureConnect', () => {
      const c = s.getPeerCertificate();
      s.end();
      if (!c?.fingerprint256) return fail('the server showed no certificate');
      resolve({
        fingerprint256: c.fingerprint256,
        subject: [c.subject?.CN ?? ''].flat().join(', '),
        subjectAltName: c.subjectaltname ?? '',
        validTo: c.valid_to,
      });
    });
    s.once('timeout', () => fail(`no TLS handshake within ${timeoutMs} ms`));
    s.once('error', (e) => fail((e as NodeJS.ErrnoException).code ?? e.message));
  });
}
