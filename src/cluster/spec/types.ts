/**
 * The Cluster file (`apiVersion: ingot.dev/v1alpha1`, `kind: Cluster`) after defaults are applied.
 * The JSON Schema in ./schema.ts is the source of truth for shape and defaults; these types
 * mirror it. Every field is documented in docs/cluster.md.
 */

import type { HardwarePolicy } from '../../core/hardware-drain.ts';

export const Distribution = { Kubeadm: 'kubeadm', K3s: 'k3s', Rke2: 'rke2' } as const;
export type Distribution = (typeof Distribution)[keyof typeof Distribution];

export const EtcdTopology = { Stacked: 'stacked', External: 'external' } as const;
export type EtcdTopology = (typeof EtcdTopology)[keyof typeof EtcdTopology];

/** A reference to a secret value; resolved at render time, never written into errors or logs. */
export interface SecretRef {
  readonly secret: string;
}

/** Which machines a role may use. Every given criterion must match. */
export interface MachineSelector {
  readonly pool?: string;
  /** Every tag must be present on the machine. */
  readonly tags: readonly string[];
  /** Empty means any zone. */
  readonly zones: readonly string[];
  /** Empty means any rack. */
  readonly racks: readonly string[];
  readonly minCpu: number;
  readonly minMemoryGiB: number;
  /** The largest single disk must be at least this big. */
  readonly minDiskGiB: number;
  /** GPUs: the machine's `gpus` inventory field, or its `gpus=N` tag. */
  readonly minGpus: number;
}

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface WorkerPool {
  readonly name: string;
  readonly count: number;
  readonly machines: MachineSelector;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
}

export interface BgpPeer {
  readonly address: string;
  readonly asn: number;
  /** Nodes in these racks peer with this router; empty means every node. */
  readonly racks: readonly string[];
  readonly password?: SecretRef;
}

export interface MetallbPool {
  readonly name: string;
  /** CIDRs (`10.0.10.0/28`) or ranges (`10.0.10.10-10.0.10.20`). */
  readonly addresses: readonly string[];
  readonly advertisement: 'l2' | 'bgp';
}

export interface ClusterSpec {
  readonly apiVersion: 'ingot.dev/v1alpha1';
  readonly kind: 'Cluster';
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly distribution: Distribution;
    /** Kubernetes version, `v1.34.1`. */
    readonly version: string;
    /** k3s / RKE2 release suffix: `k3s1` → `v1.34.1+k3s1`. */
    readonly distributionRelease: number;
    /** Where kubeadm nodes get kubeadm, kubelet and kubectl (docs/bundles.md). */
    readonly packages: Packages;
    readonly controlPlane: { readonly count: 1 | 3 | 5; readonly machines: MachineSelector };
    readonly etcd: {
      readonly topology: EtcdTopology;
      readonly count: number;
      readonly machines: MachineSelector;
    };
    /** kube-apiserver flags added to Ingot's own (kubeadm); rolled by a reconfigure. */
    readonly apiServer: { readonly extraArgs: Readonly<Record<string, string>> };
    readonly workers: readonly WorkerPool[];
    readonly placement: { readonly tolerate: readonly ('zone' | 'rack')[] };
    readonly endpoint: {
      readonly address: string;
      readonly port: number;
      readonly mode: 'kube-vip' | 'external';
      readonly kubeVip: {
        readonly mode: 'arp' | 'bgp';
        readonly bgp?: { readonly asn: number; readonly peers: readonly BgpPeer[] };
      };
      readonly externalLoadBalancer: {
        /** Render HAProxy + keepalived configs for a pair of load-balancer hosts. */
        readonly render: boolean;
        readonly interface: string;
        readonly virtualRouterId: number;
        readonly hosts: readonly string[];
      };
      readonly certSANs: readonly string[];
    };
    readonly networking: Networking;
    readonly storage: Storage;
    readonly observability: Observability;
    readonly security: Security;
    readonly backups: Backups;
    /** Hardware-driven drain (docs/day2.md): how far Ingot goes when a node's hardware is at risk. */
    readonly hardware: {
      readonly onRisk: HardwarePolicy;
      readonly drainTimeoutSeconds: number;
      /** Tries per episode of a cordon or drain that failed (the first included). */
      readonly drainAttempts: number;
      /** The wait after a failed try, doubled after each further one. */
      readonly retryAfterSeconds: number;
      /** Uncordon a node the watch cordoned once its episode is over. */
      readonly uncordonWhenHealthy: boolean;
    };
    /** Day-2 remediation of unhealthy nodes (src/engine/cluster/remediation-loop.ts). */
    readonly remediation: {
      readonly enabled: boolean;
      readonly unhealthyAfterSeconds: number;
      readonly maxUnhealthy: number | string;
      /** Whether the ladder redeploys a dead worker in place (an os-replace of it) before replacing it. */
      readonly reprovision: boolean;
    };
    readonly gitops: GitOps;
  };
}

export const PackageSource = {
  Preinstalled: 'preinstalled',
  Bundle: 'bundle',
  Upstream: 'upstream',
} as const;
export type PackageSource = (typeof PackageSource)[keyof typeof PackageSource];

export interface Packages {
  /**
   * `preinstalled`: in the OS image (the bootstrap checks the version); `bundle`: installed from
   * a Kubernetes bundle the rack serves, no internet; `upstream`: from pkgs.k8s.io with apt.
   */
  readonly source: PackageSource;
  /** The bundle's name; default `kubernetes-<version>-<the node's arch>`. */
  readonly bundle?: string;
}

export interface Networking {
  readonly podCIDR: string;
  readonly serviceCIDR: string;
  readonly podCIDRv6?: string;
  readonly serviceCIDRv6?: string;
  readonly clusterDomain: string;
  /** Inventory subnets node addresses come from; a subnet listing racks serves only those racks. */
  readonly nodeSubnets: readonly { readonly subnet: string; readonly racks: readonly string[] }[];
  readonly bond?: {
    readonly name: string;
    readonly members: readonly string[];
    readonly mtu: number;
    /** `802.3ad`: LACP, layer3+4 hashing, fast LACPDUs; `active-backup`: one link at a time. */
    readonly mode: '802.3ad' | 'active-backup';
  };
  readonly vlans: readonly { readonly id: number; readonly node: boolean }[];
  readonly cni: {
    /**
     * `bridge`: the CNI reference bridge plugin on each node (host-local addresses from the
     * node's /24 of the pod CIDR, no routes between nodes): kubeadm only, for single-node and
     * offline lab clusters — no chart, so no image to pull.
     */
    readonly plugin: 'cilium' | 'calico' | 'bridge';
    readonly bgp?: {
      readonly asn: number;
      readonly peers: readonly BgpPeer[];
      readonly advertisePodCIDRs: boolean;
    };
  };
  readonly metallb?: {
    readonly pools: readonly MetallbPool[];
    readonly bgp?: { readonly asn: number; readonly peers: readonly BgpPeer[] };
  };
}

export interface Storage {
  readonly provider: 'longhorn' | 'rook-ceph' | 'local-path' | 'none';
  readonly longhorn: { readonly dataPath: string; readonly replicas: number };
  /** Rook: raw disks to consume on storage nodes, by kernel name regex; never the OS disk. */
  readonly rookCeph: { readonly deviceFilter: string; readonly pools: readonly string[] };
  readonly localPath: { readonly path: string };
}

export interface Observability {
  readonly kubePrometheusStack: boolean;
  readonly loki: boolean;
  readonly nodeExporter: boolean;
  readonly smartctlExporter: boolean;
  readonly hardwareAlerts: boolean;
}

export interface Security {
  readonly cis: boolean;
  readonly podSecurity: {
    readonly default: 'privileged' | 'baseline' | 'restricted';
    readonly namespaces: Readonly<Record<string, 'privileged' | 'baseline' | 'restricted'>>;
  };
  readonly defaultDenyNetworkPolicies: { readonly namespaces: readonly string[] };
  readonly auditPolicy: boolean;
  readonly secretsEncryption: boolean;
  readonly firewall: { readonly enabled: boolean; readonly sshSources: readonly string[] };
}

export interface Backups {
  readonly etcd?: {
    /** Five-field cron, UTC (src/core/cron.ts). */
    readonly schedule: string;
    /** Snapshots kept (the newest). */
    readonly retention: number;
    /** Snapshots older than this many days are removed, except the newest; 0: no age limit. */
    readonly maxAgeDays: number;
    /**
     * Where the region keeps the snapshots it takes: its artifact store (`region`, the default)
     * or the S3-compatible bucket of `regionS3` (`region-s3`). Ignored with `s3` (the in-cluster
     * CronJob takes and uploads them itself).
     */
    readonly target: 'region' | 'region-s3';
    /** The bucket of `target: region-s3`; the keys are sealed in the region's store at create. */
    readonly regionS3?: {
      /** `http(s)://host[:port]` */
      readonly endpoint: string;
      readonly bucket: string;
      readonly region: string;
      /** Key prefix: objects are `<prefix>/<cluster>/<backup id>.db`. */
      readonly prefix: string;
      readonly accessKey: SecretRef;
      readonly secretKey: SecretRef;
    };
    /** The in-cluster CronJob uploads the snapshots here; the region takes none (docs/day2.md). */
    readonly s3?: {
      readonly endpoint: string;
      readonly bucket: string;
      readonly region: string;
      readonly folder: string;
      readonly accessKey: SecretRef;
      readonly secretKey: SecretRef;
    };
  };
}

export interface GitOps {
  readonly provider: 'none' | 'flux' | 'argocd';
  readonly repository: string;
  readonly branch: string;
  readonly path: string;
}
