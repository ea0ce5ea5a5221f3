import type { RenderContext } from '../context.ts';
import { CHARTS, IMAGES } from '../versions.ts';
import { helmChart, type K8sObject } from './helm.ts';

function longhorn(ctx: RenderContext): K8sObject[] {
  const l = ctx.spec.spec.storage.longhorn;
  return [
    helmChart('longhorn', CHARTS.longhorn, {
      defaultSettings: {
        defaultDataPath: l.dataPath,
        defaultReplicaCount: l.replicas,
        replicaZoneSoftAntiAffinity: false,
        nodeDownPodDeletionPolicy: 'delete-both-statefulset-and-deployment-pod',
      },
      persistence: { defaultClass: true, defaultClassReplicaCount: l.replicas, reclaimPolicy: 'Delete' },
    }),
    {
      apiVersion: 'longhorn.io/v1beta2',
      kind: 'RecurringJob',
      metadata: { name: 'ingot-daily-snapshot', namespace: CHARTS.longhorn.namespace },
      spec: {
        cron: '0 3 * * *',
        task: 'snapshot',
        groups: ['default'],
        retain: 7,
        concurrency: 2,
        name: 'ingot-daily-snapshot',
      },
    },
  ];
}

/** Rook: the operator chart, a CephCluster on the storage nodes' matching disks, pools and a default class. */
function rook(ctx: RenderContext): K8sObject[] {
  const r = ctx.spec.spec.storage.rookCeph;
  const ns = CHARTS.rook.namespace;
  const re = new RegExp(r.deviceFilter);
  const nodes = ctx.plan.nodes
    .filter((n) => n.role === 'worker' && n.disks.some((d) => re.test(d.name)))
    .map((n) => ({
      name: n.hostname,
      devices: n.disks.filter((d) => re.test(d.name)).map((d) => ({ name: d.name })),
    }));
  const out: K8sObject[] = [
    helmChart('rook-ceph', CHARTS.rook, {
      crds: { enabled: true },
      monitoring: { enabled: ctx.spec.spec.observability.kubePrometheusStack },
    }),
    {
      apiVersion: 'ceph.rook.io/v1',
      kind: 'CephCluster',
      metadata: { name: 'rook-ceph', namespace: ns },
      spec: {
        cephVersion: { image: 'quay.io/ceph/ceph:v19.2.3' },
        dataDirHostPath: '/var/lib/rook',
        mon: { count: 3, allowMultiplePerNode: false },
        mgr: { count: 2 },
        dashboard: { enabled: true, ssl: true },
        crashCollector: { disable: false },
        storage: { useAllNodes: false, useAllDevices: false, nodes },
      },
    },
  ];
  for (const pool of r.pools) {
    out.push({
      apiVersion: 'ceph.rook.io/v1',
      kind: 'CephBlockPool',
      metadata: { name: pool, namespace: ns },
      spec: { failureDomain: 'host', replicated: { size: 3 } },
    });
  }
  out.push({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'ceph-block', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: `${ns}.rbd.csi.ceph.com`,
    parameters: {
      clusterID: ns,
      pool: r.pools[0],
      imageFormat: '2',
      imageFeatures: 'layering',
      'csi.storage.k8s.io/provisioner-secret-name': 'rook-csi-rbd-provisioner',
      'csi.storage.k8s.io/provisioner-secret-namespace': ns,
      'csi.storage.k8s.io/controller-expand-secret-name': 'rook-csi-rbd-provisioner',
      'csi.storage.k8s.io/controller-expand-secret-namespace': ns,
      'csi.storage.k8s.io/node-stage-secret-name': 'rook-csi-rbd-node',
      'csi.storage.k8s.io/node-stage-secret-namespace': ns,
      'csi.storage.k8s.io/fstype': 'ext4',
    },
    reclaimPolicy: 'Delete',
    allowVolumeExpansion: true,
  });
  return out;
}

/** local-path-provisioner as plain manifests (upstream ships no Helm repository). k3s bundles its own. */
function localPath(ctx: RenderContext): K8sObject[] {
  if (ctx.spec.spec.distribution === 'k3s') return [];
  const ns = 'local-path-storage';
  const path = ctx.spec.spec.storage.localPath.path;
  const labels = { 'app.kubernetes.io/name': 'local-path-provisioner' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'local-path-provisioner', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'local-path-provisioner' },
      rules: [
        {
          apiGroups: [''],
          resources: ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: [''],
          resources: ['persistentvolumes', 'pods'],
          verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
        },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'local-path-provisioner' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'local-path-provisioner' },
      subjects: [{ kind: 'ServiceAccount', name: 'local-path-provisioner', namespace: ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'local-path-config', namespace: ns },
      data: {
        'config.json': JSON.stringify(
          { nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [path] }] },
          null,
          2,
        ),
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        'helperPod.yaml':
          'apiVersion: v1\nkind: Pod\nmetadata:\n  name: helper-pod\nspec:\n  priorityClassName: system-node-critical\n  containers:\n  - name: helper-pod\n    image: ' +
          IMAGES.busybox +
          '\n    imagePullPolicy: IfNotPresent\n',
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'local-path-provisioner', namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'local-path-provisioner',
            containers: [
              {
                name: 'local-path-provisioner',
                image: IMAGES.localPath,
                imagePullPolicy: 'IfNotPresent',
                command: [
                  'local-path-provisioner',
                  '--debug',
                  'start',
                  '--config',
                  '/etc/config/config.json',
                ],
                env: [
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'CONFIG_MOUNT_PATH', value: '/etc/config/' },
                ],
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/config/' }],
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: 'local-path-config' } }],
          },
        },
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: 'local-path',
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    },
  ];
}

export function storageManifests(ctx: RenderContext): K8sObject[] {
  switch (ctx.spec.spec.storage.provider) {
    case 'longhorn':
      return longhorn(ctx);
    case 'rook-ceph':
      return rook(ctx);
    case 'local-path':
      return localPath(ctx);
    default:
      return [];
  }
}
