/**
 * JSON Schema (draft-07) of the Cluster
 * file. Defaults live here so they are published with the schema; Ajv fills them in
 * (`useDefaults`). schema/cluster.schema.json is generated from this by
 * `node scripts/cluster-schema.ts`, and a test checks the two match.
 */

type Schema = Record<string, unknown>;

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
const bool = (dflt: boolean, description?: string): Schema =>
  description === undefined
    ? { type: 'boolean', default: dflt }
    : { type: 'boolean', default: dflt, description };
const list = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, default: [], ...extra });
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...extra,
});

const dnsLabel = str({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 });
const asn = int({ minimum: 1, maximum: 4294967294 });
const secretRef = obj(
  { secret: str({ pattern: '^[A-Za-z0-9_.-]+$', description: 'Name of the secret (see docs/cluster.md)' }) },
  { required: ['secret'] },
);

const machineSelector = obj(
  {
    pool: str({ description: 'Machine pool the machines must belong to' }),
    tags: list(str(), { description: 'Tags every selected machine must carry' }),
    zones: list(str(), { description: 'Allowed zones; empty allows any' }),
    racks: list(str(), { description: 'Allowed racks; empty allows any' }),
    minCpu: int({ minimum: 0, default: 0 }),
    minMemoryGiB: { type: 'number', minimum: 0, default: 0 },
    minDiskGiB: { type: 'number', minimum: 0, default: 0 },
    minGpus: int({ minimum: 0, default: 0 }),
  },
  { default: {} },
);

const bgpPeer = obj(
  {
    address: str({ description: 'Router address the nodes peer with' }),
    asn,
    racks: list(str(), { description: 'Nodes in these racks peer with this router; empty means all nodes' }),
    password: secretRef,
  },
  { required: ['address', 'asn'] },
);

const podSecurityLevel = { enum: ['privileged', 'baseline', 'restricted'] };

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
        endpoint: obj(
          {
            address: str({ description: 'API VIP (kube-vip) or the external load balancer address' }),
            port: int({ minimum: 1, maximum: 65535, default: 6443 }),
            mode: { enum: ['kube-vip', 'external'], default: 'kube-vip' },
            kubeVip: obj(
              {
                mode: { enum: ['arp', 'bgp'], default: 'arp' },
                bgp: obj({ asn, peers: list(bgpPeer, { minItems: 1 }) }, { required: ['asn', 'peers'] }),
              },
              { default: {} },
            ),
            externalLoadBalancer: obj(
              {
                render: bool(false, 'Render HAProxy + keepalived for the load-balancer hosts'),
                interface: str({ default: 'eth0' }),
                virtualRouterId: int({ minimum: 1, maximum: 255, default: 51 }),
                hosts: list(dnsLabel, { description: 'Load-balancer host names (keepalived peers)' }),
              },
              { default: {} },
            ),
            certSANs: list(str()),
          },
          { required: ['address'] },
        ),
        networking: obj(
          {
            podCIDR: str({ default: '10.244.0.0/16' }),
            serviceCIDR: str({ default: '10.96.0.0/12' }),
            podCIDRv6: str(),
            serviceCIDRv6: str(),
            clusterDomain: str({ default: 'cluster.local' }),
            nodeSubnets: list(obj({ subnet: str(), racks: list(str()) }, { required: ['subnet'] })),
            bond: obj({
              name: str({ default: 'bond0', pattern: '^[a-z][a-z0-9]{0,9}$' }),
              members: list(str(), { description: 'NIC names; empty bonds every NIC' }),
              mtu: int({ minimum: 1280, maximum: 9216, default: 1500 }),
              mode: {
                enum: ['802.3ad', 'active-backup'],
                default: '802.3ad',
                description: 'LACP (the switch ports form a LAG) or active-backup (no switch support needed)',
              },
            }),
            vlans: list(
              obj(
                {
                  id: int({ minimum: 1, maximum: 4094 }),
                  node: bool(false, 'Node addresses live on this VLAN'),
                },
                { required: ['id'] },
              ),
            ),
            cni: obj(
              {
                plugin: { enum: ['cilium', 'calico', 'bridge'], default: 'cilium' },
                bgp: obj(
                  {
                    asn,
                    peers: list(bgpPeer, { minItems: 1 }),
                    advertisePodCIDRs: bool(true),
                  },
                  { required: ['asn', 'peers'] },
                ),
              },
              { default: {} },
            ),
            metallb: obj(
              {
                pools: list(
                  obj(
                    {
                      name: dnsLabel,
                      addresses: list(str(), { minItems: 1 }),
                      advertisement: { enum: ['l2', 'bgp'], default: 'l2' },
                    },
                    { required: ['name', 'addresses'] },
                  ),
                  { minItems: 1 },
                ),
                bgp: obj({ asn, peers: list(bgpPeer, { minItems: 1 }) }, { required: ['asn', 'peers'] }),
              },
              { required: ['pools'] },
            ),
          },
          { default: {} },
        ),
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
        backups: obj(
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
        ),
        hardware: obj(
          {
            onRisk: {
              enum: ['alert', 'cordon', 'drain'],
              default: 'alert',
              description:
                'What Ingot does to a node whose disk reports SMART failure or rising reallocated/pending sectors, or whose BMC reports a critical sensor: alert (timeline only), cordon, or drain (Eviction API, PDBs honoured)',
            },
            drainTimeoutSeconds: int({ minimum: 1, maximum: 3600, default: 300 }),
          },
          { default: {} },
        ),
        remediation: obj(
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
              description:
                'Remediate nothing when more nodes than this (a count or "40%") are unhealthy at once',
            },
            reprovision: bool(
              false,
              'Before replacing a dead worker with a spare, redeploy its machine with its OS image and rejoin it (an os-replace of that node)',
            ),
          },
          { default: {} },
        ),
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
