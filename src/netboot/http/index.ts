/** Boot HTTP: iPXE scripts, artifacts with Range, metadata and the agent's phone-home. */
export { startBootHttpServer, type BootHttpOptions, type BootHttpServer } from './server.ts';
export type { EphemeralImage } from './context.ts';
export { LocalBoot, LOCALBOOT_TAG, INITRD_NAME } from './scripts.ts';
export { hashBootToken, newBootToken } from './tokens.ts';
export type { BootLogger } from './logger.ts';
