/**
 * JSON Schema (draft-07) of the Cluster
 * file. Defaults live here so they are published with the schema; Ajv fills them in
 * (`useDefaults`). schema/cluster.schema.json is generated from this by
 * `node scripts/cluster-schema.ts`, and a test checks the two match.
 */

import { backups, hardware, remediation } from './schema-day2.ts';
import { endpoint, networking } from './schema-network.ts';
import {
  bool,
  dnsLabel,
  int,
  list,
  machineSelector,
  obj,
  podSecurityLevel,
  type Schema,
  str,
} from './schema-parts.ts';

export const clusterSchema: Schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://ingot.dev/schemas/cluster.v1alpha1.json',
  title: 'Ingot Cluster',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'ingot.dev/v1alpha1' },
    kind: { const: 'Cluster' },
    metadata: obj({ name: dnsLabel }, { required: ['name'] }),
    spec: obj(
      {
        distribution: { enum: ['kubeadm', 'k3s', 'rke2'], default: 'kubeadm' },
        version: str({ pattern: '^v1\\.[0-9]+\\.[0-9]+$', default: 'v1.34.1' }),
        distributionRelease: int({ minimum: 1, default: 1, description: 'k3s/RKE2 release: v1.34.1+k3s1' }),
        packages: obj(
          {
            source: {
              enum: ['preinstalled', 'bundle', 'upstream'],
              default: 'preinstalled',
              description:
                'Where kubeadm nodes get kubeadm, kubelet and kubectl: already in the OS image, a bundle from the rack (no internet), or pkgs.k8s.io',
            },
            bundle: str({
              pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
              description:
                'With source: bundle, the bundle to install; default kubernetes-<version>-<the node’s arch>',
            }),
          },
          { default: {} },
        ),
        controlPlane: obj(
          { count: { enum: [1, 3, 5], default: 3 }, machines: machineSelector },
          { default: {} },
        ),
        etcd: obj(
          {
            topology: { enum: ['stacked', 'external'], default: 'stacked' },
            count: { enum: [3, 5], default: 3, description: 'Members when topology is external' },
            machines: machineSelector,
          },
          { default: {} },
        ),
        apiServer: obj(
          {
            extraArgs: {
              type: 'object',
              description:
                "Extra kube-apiserver flags (name without dashes → value), after Ingot's own; a change is rolled out by `ingot cluster reconfigure` (docs/day2.md)",
              propertyNames: { pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
              additionalProperties: str({ maxLength: 1024 }),
              maxProperties: 64,
              default: {},
            },
          },
          { default: {} },
        ),
        workers: list(
          obj(
            {
              name: dnsLabel,
              count: int({ minimum: 0 }),
              machines: machineSelector,
              labels: { type: 'object', additionalProperties: str(), default: {} },
              taints: list(
                obj(
                  {
                    key: str(),
                    value: str(),
                    effect: { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
                  },
                  { required: ['key', 'effect'] },
                ),
              ),
            },
            { required: ['name', 'count'] },
          ),
        ),
        placement: obj(
          {
            tolerate: list(
              { enum: ['zone', 'rack'] },
              {
                default: ['zone', 'rack'],
                uniqueItems: true,
                description: 'Failure domains whose loss etcd must survive',
              },
            ),
          },
          { default: {} },
        ),
        endpoint,
        networking,
        storage: obj(
          {
            provider: { enum: ['longhorn', 'rook-ceph', 'local-path', 'none'], default: 'local-path' },
            longhorn: obj(
              {
                dataPath: str({ default: '/var/lib/longhorn' }),
                replicas: int({ minimum: 1, maximum: 5, default: 3 }),
              },
              { default: {} },
            ),
            rookCeph: obj(
              {
                deviceFilter: str({
                  default: '^(sd[b-z]|nvme[1-9]n1)$',
                  description: 'Kernel disk names to consume',
                }),
                pools: list(dnsLabel, { default: ['replicapool'] }),
              },
              { default: {} },
            ),
            localPath: obj({ path: str({ default: '/var/lib/local-path-provisioner' }) }, { default: {} }),
          },
          { default: {} },
        ),
        observability: obj(
          {
            kubePrometheusStack: bool(true),
            loki: bool(false),
            nodeExporter: bool(true),
            smartctlExporter: bool(true),
            hardwareAlerts: bool(true),
          },
          { default: {} },
        ),
        security: obj(
          {
            cis: bool(true, 'Kernel sysctls, kubelet hardening and the CIS profile of the distribution'),
            podSecurity: obj(
              {
                default: { ...podSecurityLevel, default: 'restricted' },
                namespaces: { type: 'object', additionalProperties: podSecurityLevel, default: {} },
              },
              { default: {} },
            ),
            defaultDenyNetworkPolicies: obj(
              { namespaces: list(dnsLabel, { default: ['default'] }) },
              { default: {} },
            ),
            auditPolicy: bool(true),
            secretsEncryption: bool(true),
            firewall: obj(
              {
                enabled: bool(true, 'Host nftables, default deny inbound'),
                sshSources: list(str(), {
                  default: ['0.0.0.0/0'],
                  description: 'CIDRs allowed to reach SSH',
                }),
              },
              { default: {} },
            ),
          },
          { default: {} },
        ),
        backups,
        hardware,
        remediation,
        gitops: obj(
          {
            provider: { enum: ['none', 'flux', 'argocd'], default: 'none' },
            repository: str({ default: '' }),
            branch: str({ default: 'main' }),
            path: str({ default: './' }),
          },
          { default: {} },
        ),
      },
      { required: ['endpoint'] },
    ),
  },
};
