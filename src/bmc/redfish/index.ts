/** Registers the Redfish driver for `redfish://` (HTTPS), `redfish+https://` and `redfish+http://`. */
import { registerDriver } from '../registry.ts';
import { RedfishDriver } from './driver.ts';

registerDriver(
  ['redfish', 'redfish+http', 'redfish+https'],
  (creds, options) => new RedfishDriver(creds, options),
);

export { RedfishDriver, type RedfishDriverOptions } from './driver.ts';
export { normalizeFingerprint } from '../../tls/fingerprint.ts';
