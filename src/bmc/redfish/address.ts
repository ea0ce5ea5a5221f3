/**
 * Parses a Redfish BMC address. `redfish://` means HTTPS, as in metal3; the path may name the
 * system (`/redfish/v1/Systems/ID`), otherwise the driver discovers it.
 */
import { invalid } from '../../core/errors.ts';
import { redactAddress } from '../errors.ts';

export interface RedfishAddress {
  /** `https://host:port` */
  readonly origin: string;
  /** `/redfish/v1/Systems/ID`, or null to discover the only system. */
  readonly systemPath: string | null;
  /** The address without credentials or query, for messages. */
  readonly target: string;
  /** `?fingerprint=` from the address, if given. */
  readonly fingerprint: string | null;
  readonly insecure: boolean;
}

export function parseRedfishAddress(address: string): RedfishAddress {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw invalid('bmc.address', `"${redactAddress(address)}" is not a valid URL`);
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  const proto =
    scheme === 'redfish+http' ? 'http' : scheme === 'redfish' || scheme === 'redfish+https' ? 'https' : null;
  if (!proto)
    throw invalid(
      'bmc.address',
      `scheme "${scheme}" is not a Redfish scheme; use redfish+https://, redfish+http:// or redfish://`,
    );
  if (!u.hostname)
    throw invalid(
      'bmc.address',
      'the address has no host; use redfish+https://HOST[:PORT][/redfish/v1/Systems/ID]',
    );
  const path = u.pathname.replace(/\/+$/, '');
  let systemPath: string | null = null;
  if (path !== '' && path !== '/redfish/v1') {
    if (!/^\/redfish\/v1\/Systems\/[^/]+$/.test(path)) {
      throw invalid('bmc.address', `path "${path}" must be empty or /redfish/v1/Systems/ID`);
    }
    systemPath = path;
  }
  const origin = `${proto}://${u.host}`;
  return {
    origin,
    systemPath,
    target: `${scheme}://${u.host}${path}`,
    fingerprint: u.searchParams.get('fingerprint'),
    insecure: ['1', 'true', 'yes'].includes((u.searchParams.get('insecure') ?? '').toLowerCase()),
  };
}
