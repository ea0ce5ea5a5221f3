/**
 * Wire schemas (TypeBox → JSON Schema), one file per domain. Fastify validates every request
 * against them and @fastify/swagger turns them into the OpenAPI 3.1 document at
 * /api/v1/openapi.json, from which the UI's types are generated. Value lists (states, actions,
 * roles, formats…) come from the core's constants, never repeated here.
 */
import { BundleT } from './bundles.ts';
import { BackupT } from './cluster-backups.ts';
import { ClusterOperationSchema } from './cluster-operations.ts';
import { ClusterT } from './clusters.ts';
import { ErrorBody } from './common.ts';
import { EventT } from './events.ts';
import { ImageT } from './images.ts';
import { JobT, MachineT } from './machines.ts';
import { SubnetT } from './subnets.ts';
import { TokenT } from './tokens.ts';

export * from './bundles.ts';
export * from './cluster-backups.ts';
export * from './cluster-nodes.ts';
export * from './cluster-scale.ts';
export * from './cluster-operations.ts';
export * from './clusters.ts';
export * from './common.ts';
export * from './cost.ts';
export * from './events.ts';
export * from './health.ts';
export * from './images.ts';
export * from './machines.ts';
export * from './sensors.ts';
export * from './subnets.ts';
export * from './tokens.ts';

/** Shared schemas registered once with Fastify so routes can `$ref` them. */
export const SHARED_SCHEMAS = [
  ErrorBody,
  MachineT,
  JobT,
  EventT,
  SubnetT,
  TokenT,
  ImageT,
  BundleT,
  ClusterT,
  BackupT,
  ClusterOperationSchema,
];
