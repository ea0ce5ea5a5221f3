/**
 * The Cluster file's day-2 sections (schema.ts, docs/day2.md): etcd backups (schedule,
 * retention, where they are kept), the hardware-risk policy and node remediation.
 */
import { bool, int, obj, type Schema, secretRef, str } from './schema-parts.ts';

export const backups: Schema = obj(
  {
    etcd: obj(
      {
        schedule: str({
          default: '0 */6 * * *',
          maxLength: 200,
          description:
            'Cron schedule (5 fields, UTC) of the snapshots: the region takes them into its artifact store (without s3), or the in-cluster CronJob uploads them (with s3)',
        }),
        retention: int({
          minimum: 1,
          maximum: 1000,
          default: 28,
          description: 'Snapshots kept (the newest)',
        }),
        maxAgeDays: int({
          minimum: 0,
          maximum: 3650,
          default: 0,
          description: 'Snapshots older than this are removed, except the newest (0: no age limit)',
        }),
        target: {
          enum: ['region', 'region-s3'],
          default: 'region',
          description:
            'Where the region keeps its snapshots: its artifact store, or the bucket of regionS3 (not used with s3, the in-cluster CronJob)',
        },
        regionS3: obj(
          {
            endpoint: str({ description: 'http(s)://host[:port] of the S3-compatible server' }),
            bucket: str(),
            region: str({ default: 'us-east-1' }),
            prefix: str({
              default: '',
              description: 'Objects are <prefix>/<cluster>/<backup id>.db',
            }),
            accessKey: secretRef,
            secretKey: secretRef,
          },
          { required: ['endpoint', 'bucket', 'accessKey', 'secretKey'] },
        ),
        s3: obj(
          {
            endpoint: str(),
            bucket: str(),
            region: str({ default: 'us-east-1' }),
            folder: str({ default: '' }),
            accessKey: secretRef,
            secretKey: secretRef,
          },
          { required: ['endpoint', 'bucket', 'accessKey', 'secretKey'] },
        ),
      },
      {},
    ),
  },
  { default: {} },
);

export const hardware: Schema = obj(
  {
    onRisk: {
      enum: ['alert', 'cordon', 'drain'],
      default: 'alert',
      description:
        'What Ingot does to a node whose disk reports SMART failure or rising reallocated/pending sectors, or whose BMC reports a critical sensor: alert (timeline only), cordon, or drain (Eviction API, PDBs honoured)',
    },
    drainTimeoutSeconds: int({ minimum: 1, maximum: 3600, default: 300 }),
    drainAttempts: int({
      minimum: 1,
      maximum: 10,
      default: 3,
      description:
        'How many times per episode Ingot cordons or drains the node when a try fails (the first included); then it gives up, on the timeline',
    }),
    retryAfterSeconds: int({
      minimum: 1,
      maximum: 86400,
      default: 600,
      description:
        'The wait after a failed cordon or drain before the next try; doubled after each further failure',
    }),
    uncordonWhenHealthy: bool(
      false,
      'Uncordon a node Ingot cordoned for its hardware once the hardware gives no reason any more (never one cordoned by an operator)',
    ),
  },
  { default: {} },
);

export const remediation: Schema = obj(
  {
    enabled: bool(
      false,
      'Remediate unhealthy nodes: fence through the BMC, then power on, reprovision or replace',
    ),
    unhealthyAfterSeconds: int({
      minimum: 30,
      maximum: 86400,
      default: 300,
      description: 'How long a Node may be NotReady/Unknown before it is unhealthy',
    }),
    maxUnhealthy: {
      oneOf: [int({ minimum: 0 }), str({ pattern: '^(100|[1-9]?[0-9])%$' })],
      default: '40%',
      description: 'Remediate nothing when more nodes than this (a count or "40%") are unhealthy at once',
    },
    reprovision: bool(
      false,
      'Before replacing a dead node with a spare, redeploy its machine with its OS image and rejoin it (an os-replace of that node; a control plane’s etcd member is removed and it joins again)',
    ),
  },
  { default: {} },
);
