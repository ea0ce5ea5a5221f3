/**
 * What a BMC password is bound to. A machine's BMC password is sent only to the endpoint it
 * was given for: the scheme, host and port of its address, and the address's transport
 * options (`?fingerprint=`, `?insecure=`, `?cipher=`…), which decide whom the connection
 * trusts. Moving the address to another endpoint without giving the password again would let
 * anyone allowed to edit a machine point the stored password at a host of their choosing; the
 * store refuses that (src/store/machines-sql.ts). The path (which system on the BMC) is not
 * part of the endpoint. Pure: URL parsing only.
 */
import { invalid } from './errors.ts';

/** Schemes that name the same transport. */
const SCHEME_ALIAS: Readonly<Record<string, string>> = { redfish: 'redfish+https' };
/** The port a scheme means when the address gives none. */
const DEFAULT_PORT: Readonly<Record<string, string>> = {
  'redfish+https': '443',
  'redfish+http': '80',
  ipmi: '623',
};

/**
 * Parses a BMC address and refuses user-info in it: a password inside the URL would be shown
 * wherever the address is (machine lists, events, the CLI, the database in clear).
 */
export function parseBmcUrl(address: string, field = 'bmc.address'): URL {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw invalid(field, 'is not a valid URL; write it like redfish+https://10.0.0.5 or ipmi://10.0.0.6');
  }
  if (u.username !== '' || u.password !== '')
    throw invalid(
      field,
      'must not carry a user or password (user:password@host); give the user as bmc.username and the password as bmc.password, which is stored encrypted',
    );
  return u;
}

/** `scheme://host:port[?options]`: where a BMC password for this address may be sent. */
export function bmcEndpoint(address: string): string {
  // Not parseBmcUrl: an address stored before user-info was refused still has an endpoint.
  const u = new URL(address);
  const raw = u.protocol.replace(/:$/, '').toLowerCase();
  const scheme = SCHEME_ALIAS[raw] ?? raw;
  const port = u.port || DEFAULT_PORT[scheme] || '';
  const options = [...u.searchParams]
    .map(([k, v]) => [k.toLowerCase(), v] as [string, string])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = options.length > 0 ? `?${new URLSearchParams(options)}` : '';
  return `${scheme}://${u.hostname.toLowerCase()}${port ? `:${port}` : ''}${query}`;
}

/**
 * The address without `user:password@`, for display: addresses stored before user-info was
 * refused must not show a password anywhere.
 */
export function withoutUserInfo(address: string): string {
  try {
    const u = new URL(address);
    if (u.username === '' && u.password === '') return address;
    return address.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
  } catch {
    return address;
  }
}
