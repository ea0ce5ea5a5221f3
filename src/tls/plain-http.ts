/**
 * When a service may serve plain HTTP instead of HTTPS: tokens and BMC passwords cross its
 * connections, so only on loopback (`--http`), or anywhere when the operator says so in as many
 * words (`--insecure-http`).
 */
import { isIP } from 'node:net';
import { ErrorCode, IngotError } from '../core/errors.ts';

export const PlainHttp = {
  /** HTTPS (the default). */
  Off: 'off',
  /** Plain HTTP on a loopback address only. */
  Loopback: 'loopback',
  /** Plain HTTP on any address, on the operator's explicit word. */
  Insecure: 'insecure',
} as const;
export type PlainHttp = (typeof PlainHttp)[keyof typeof PlainHttp];

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Throws a config error naming `--insecure-http` when `--http` asks for plain HTTP off loopback. */
export function checkPlainHttp(mode: PlainHttp, hosts: readonly string[]): void {
  if (mode !== PlainHttp.Loopback) return;
  const open = hosts.find((h) => !isLoopback(h));
  if (open === undefined) return;
  throw new IngotError(
    ErrorCode.Config,
    `--http: ${open} is not a loopback address, and plain HTTP would carry tokens and BMC passwords in clear there; drop --http to serve HTTPS (a certificate from --tls-cert/--tls-key or a generated one), or pass --insecure-http to serve plain HTTP anyway`,
    { details: { field: 'insecure-http', host: open } },
  );
}
