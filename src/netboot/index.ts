/** Network boot: rack services (DHCP, boot HTTP, metadata) and the URL contract between them. */
export { startRackServices, type RackServices, type RackServicesOptions } from './rack.ts';
export { startBootHttpServer, type BootHttpOptions, type BootHttpServer } from './http/index.ts';
export { metadataRoute, type MetadataSource } from './metadata/index.ts';
export * from './urls.ts';
