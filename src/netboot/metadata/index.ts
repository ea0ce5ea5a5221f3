/** The metadata service (NoCloud-net and EC2-style), served by the boot HTTP server. */
export { metadataRoute, type MetadataRoute } from './route.ts';
export { defaultMetadataSource, type MetadataSource, nocloudMetaData, ec2Tree } from './documents.ts';
