import { type RenderContext, secret } from '../context.ts';
import { IMAGES } from '../versions.ts';
import { type K8sObject, secretObject } from './helm.ts';

/**
 * kubeadm has no built-in etcd snapshots (k3s and RKE2 do: see rancher.ts), so a CronJob on the
 * control planes takes one with etcdctl, uploads it with the AWS CLI to any S3-compatible
 * store, and keeps the newest `retention` snapshots.
 */
export function backupManifests(ctx: RenderContext): K8sObject[] {
  const b = ctx.spec.spec.backups.etcd;
  // Without s3, the region takes the snapshots itself (src/engine/cluster/backups.ts).
  if (!b?.s3 || ctx.spec.spec.distribution !== 'kubeadm') return [];
  const prefix = `s3://${b.s3.bucket}/${b.s3.folder ? `${b.s3.folder.replace(/\/$/, '')}/` : ''}`;
  const endpoint = /^https?:\/\//.test(b.s3.endpoint) ? b.s3.endpoint : `https://${b.s3.endpoint}`;
  const upload = [
    'set -eu',
    'name="etcd-snapshot-$(date -u +%Y%m%dT%H%M%SZ).db"',
    `aws --endpoint-url "${endpoint}" s3 cp /backup/snapshot.db "${prefix}$name"`,
    `aws --endpoint-url "${endpoint}" s3 ls "${prefix}" | awk '{print $4}' | grep '^etcd-snapshot-' | sort | head -n -${b.retention} | while read -r old; do aws --endpoint-url "${endpoint}" s3 rm "${prefix}$old"; done`,
  ].join('\n');
  const pki = '/etc/kubernetes/pki';
  return [
    secretObject('ingot-etcd-backup-s3', 'kube-system', {
      AWS_ACCESS_KEY_ID: secret(ctx, b.s3.accessKey.secret),
      AWS_SECRET_ACCESS_KEY: secret(ctx, b.s3.secretKey.secret),
      AWS_DEFAULT_REGION: b.s3.region,
    }),
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'ingot-etcd-backup', namespace: 'kube-system' },
      spec: {
        schedule: b.schedule,
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            template: {
              spec: {
                restartPolicy: 'OnFailure',
                hostNetwork: true,
                nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
                tolerations: [
                  { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
                ],
                initContainers: [
                  {
                    name: 'snapshot',
                    image: IMAGES.etcd,
                    command: [
                      'etcdctl',
                      `--endpoints=${ctx.plan.etcd.members.length ? etcdEndpoints(ctx) : 'https://127.0.0.1:2379'}`,
                      `--cacert=${pki}/etcd/ca.crt`,
                      `--cert=${pki}/apiserver-etcd-client.crt`,
                      `--key=${pki}/apiserver-etcd-client.key`,
                      'snapshot',
                      'save',
                      '/backup/snapshot.db',
                    ],
                    env: [{ name: 'ETCDCTL_API', value: '3' }],
                    volumeMounts: [
                      { name: 'pki', mountPath: pki, readOnly: true },
                      { name: 'backup', mountPath: '/backup' },
                    ],
                  },
                ],
                containers: [
                  {
                    name: 'upload',
                    image: IMAGES.awsCli,
                    command: ['/bin/sh', '-c', upload],
                    envFrom: [{ secretRef: { name: 'ingot-etcd-backup-s3' } }],
                    volumeMounts: [{ name: 'backup', mountPath: '/backup', readOnly: true }],
                  },
                ],
                volumes: [
                  { name: 'pki', hostPath: { path: pki, type: 'Directory' } },
                  { name: 'backup', emptyDir: {} },
                ],
              },
            },
          },
        },
      },
    },
  ];
}

/** etcdctl takes the snapshot from one member; the local one for stacked etcd. */
function etcdEndpoints(ctx: RenderContext): string {
  if (ctx.spec.spec.etcd.topology === 'stacked') return 'https://127.0.0.1:2379';
  const first = ctx.plan.nodes.find((n) => n.hostname === ctx.plan.etcd.members[0]);
  return `https://${first?.ip}:2379`;
}
