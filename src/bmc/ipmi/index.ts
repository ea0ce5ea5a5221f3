/** Registers the IPMI driver for `ipmi://` (lanplus through ipmitool). */
import { registerDriver } from '../registry.ts';
import { IpmiDriver } from './driver.ts';

registerDriver(['ipmi'], (creds, options) => new IpmiDriver(creds, options));

export { IpmiDriver, type IpmiDriverOptions } from './driver.ts';
