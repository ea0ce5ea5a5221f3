/**
 * Parses an IPMI BMC address: `ipmi://host[:port][?cipher=N&privilege=LEVEL]`. Port 623 and
 * cipher suite 17 (SHA-256, AES-128) are the defaults; the cipher option in the address wins
 * over DriverOptions.cipherSuite because it is specific to that BMC.
 */
import { invalid } from '../../core/errors.ts';
import { redactAddress } from '../errors.ts';

export interface IpmiAddress {
  readonly host: string;
  readonly port: number;
  readonly cipherSuite: number | null;
  readonly privilege: string | null;
  /** `ipmi://host:port`, for messages. */
  readonly target: string;
}

const PRIVILEGES = ['CALLBACK', 'USER', 'OPERATOR', 'ADMINISTRATOR'];

export function parseIpmiAddress(address: string): IpmiAddress {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw invalid('bmc.address', `"${redactAddress(address)}" is not a valid URL`);
  }
  if (u.protocol !== 'ipmi:')
    throw invalid(
      'bmc.address',
      `scheme "${u.protocol.replace(/:$/, '')}" is not ipmi; use ipmi://HOST[:PORT]`,
    );
  if (!u.hostname) throw invalid('bmc.address', 'the address has no host; use ipmi://HOST[:PORT]');
  if (u.pathname !== '' && u.pathname !== '/')
    throw invalid('bmc.address', 'an ipmi:// address has no path; use ipmi://HOST[:PORT][?cipher=N]');
  const cipher = u.searchParams.get('cipher');
  const cipherSuite = cipher === null ? null : parseCipherSuite(cipher, 'bmc.address');
  const privilege = u.searchParams.get('privilege')?.toUpperCase() ?? null;
  if (privilege !== null && !PRIVILEGES.includes(privilege))
    throw invalid('bmc.address', `privilege "${privilege}" must be one of ${PRIVILEGES.join(', ')}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : 623;
  return { host, port, cipherSuite, privilege, target: `ipmi://${u.host}${u.port ? '' : ':623'}` };
}

/** IPMI 2.0 defines suites 0–17 (0–14 and 15–17 in the 2.0 errata); anything else is a typo. */
export function parseCipherSuite(value: string | number, field: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 17)
    throw invalid(
      field,
      `cipher suite "${value}" must be a whole number from 0 to 17 (17 and 3 are the common ones)`,
    );
  return n;
}
