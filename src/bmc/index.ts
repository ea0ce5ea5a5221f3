/**
 * Public entry of the BMC layer. Importing it registers the real drivers by URL scheme
 * (`redfish`, `redfish+http`, `redfish+https`, `ipmi`); the engine then calls createBmcDriver.
 */
import './redfish/index.ts';
import './ipmi/index.ts';

export * from './driver.ts';
export {
  createBmcDriver,
  registerDriver,
  supportedSchemes,
  validateBmcAddress,
  type DriverOptions,
} from './registry.ts';
