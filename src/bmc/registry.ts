/**
 * Drivers register by URL scheme, like metal3's bmc package: the scheme of a machine's BMC
 * address picks its driver. Unknown schemes are an input error naming the supported ones.
 */
import { parseBmcUrl } from '../core/bmc-address.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { BmcCredentials, BmcDriver } from './driver.ts';
import { redactAddress } from './errors.ts';

export interface DriverOptions {
  /** Per-request timeout. @default 10 seconds */
  readonly timeoutMs?: number;
  /** SHA-256 fingerprint of a self-signed BMC certificate to trust (Redfish over HTTPS). */
  readonly tlsFingerprint?: string;
  /** Skip TLS verification entirely (lab use only). @default false */
  readonly insecure?: boolean;
  /** IPMI cipher suite. @default 17 */
  readonly cipherSuite?: number;
}

export type DriverFactory = (creds: BmcCredentials, options: DriverOptions) => BmcDriver;

const factories = new Map<string, DriverFactory>();

/** Registers a driver for one or more URL schemes (`redfish+https`, `ipmi`…). */
export function registerDriver(schemes: readonly string[], factory: DriverFactory): void {
  for (const s of schemes) factories.set(s, factory);
}

export function supportedSchemes(): string[] {
  return [...factories.keys()].sort();
}

function schemeOf(address: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address);
  return m ? m[1].toLowerCase() : null;
}

/**
 * Checks that an address names a known driver and carries no user or password (those go in
 * the machine's BMC username and encrypted password); throws a validation error naming `field`.
 */
export function validateBmcAddress(address: string, field = 'bmc.address'): void {
  const scheme = schemeOf(address);
  if (!scheme || !factories.has(scheme)) {
    throw new IngotError(
      ErrorCode.Validation,
      `${field}: "${redactAddress(address).slice(0, 200)}" has no supported driver scheme; use one of ${supportedSchemes()
        .map((s) => `${s}://`)
        .join(', ')} (e.g. redfish+https://10.0.0.5)`,
      { details: { field, supported: supportedSchemes() } },
    );
  }
  parseBmcUrl(address, field);
}

export function createBmcDriver(creds: BmcCredentials, options: DriverOptions = {}): BmcDriver {
  validateBmcAddress(creds.address);
  const factory = factories.get(schemeOf(creds.address)!)!;
  return factory(creds, options);
}
