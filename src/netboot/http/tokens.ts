/** Per-machine boot tokens: random, URL- and kernel-command-line-safe; only the SHA-256 is stored. */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** 192 random bits, base64url (no `=`, `+`, `/`: safe on a kernel command line and in a URL path). */
export function newBootToken(): string {
  return randomBytes(24).toString('base64url');
}

export function hashBootToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const TOKEN_RE = /^[A-Za-z0-9_-]{16,128}$/;

export function looksLikeToken(s: string | undefined | null): s is string {
  return typeof s === 'string' && TOKEN_RE.test(s);
}

/** The token a request presents: `Authorization: Bearer`, `X-Ingot-Token`, or EC2's token header. */
export function tokenFromHeaders(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  for (const h of ['x-ingot-token', 'x-aws-ec2-metadata-token']) {
    const v = req.headers[h];
    if (typeof v === 'string' && v) return v.trim();
  }
  return null;
}
