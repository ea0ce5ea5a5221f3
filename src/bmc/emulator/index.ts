/** The virtual Redfish BMC: public entry. */
export { startEmulator, systemId, type Emulator, type EmulatorOptions } from './server.ts';
export { FaultKind, FaultInjector, type FaultOptions } from './faults.ts';
export { Quirk, QUIRKS } from './quirks.ts';
export {
  MemoryPowerTarget,
  type PowerTarget,
  type EmulatedBoot,
  type EmulatedBootTarget,
} from './power-target.ts';
export { EmulatedSystem } from './system.ts';
export { generateSelfSignedCert, type SelfSignedCert } from '../../tls/self-signed.ts';
