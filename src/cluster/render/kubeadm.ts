import { cgroupDriverFor } from '../../core/node-cgroups.ts';
import { kubeadmDuration } from '../pki/join-token.ts';
import type { PlannedNode } from '../plan/types.ts';
import { etcdNodes, nodeLabelsArg, nodeStrings, type RenderContext } from './context.ts';
import { KUBEADM_DIR } from './security.ts';
import { toYamlStream } from './yaml.ts';
import { toYamlDirect, toYamlStreamDirect } from './yaml-emit.ts';
import { toYamlOf } from './yaml-template.ts';

type Args = Record<string, string>;

/** The container runtime's socket on Ingot's nodes (containerd), as kubeadm and the kubelet name it. */
export const CRI_SOCKET = 'unix:///var/run/containerd/containerd.sock';

export type KubeadmApi = 'kubeadm.k8s.io/v1beta4' | 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta2';

/**
 * The kubeadm config API a Kubernetes minor reads: v1beta4 from 1.31 (extraArgs as a list of
 * name/value pairs, timeouts in one block), v1beta3 from 1.22 (nodeRegistration's
 * imagePullPolicy, skipPhases), v1beta2 for 1.20 and 1.21 (neither of those fields).
 */
export function kubeadmApi(minor: number): KubeadmApi {
  if (minor >= 31) return 'kubeadm.k8s.io/v1beta4';
  return minor >= 22 ? 'kubeadm.k8s.io/v1beta3' : 'kubeadm.k8s.io/v1beta2';
}

/** v1beta3 added nodeRegistration.imagePullPolicy and InitConfiguration.skipPhases. */
const hasV1beta3Fields = (ctx: RenderContext) => ctx.minor >= 22;
/** Pod Security admission's v1 configuration and the kubelet's seccompDefault: Kubernetes ≥ 1.25. */
export const hasPodSecurityV1 = (ctx: RenderContext) => ctx.minor >= 25;

function args(ctx: RenderContext, a: Args): Args | { name: string; value: string }[] {
  const keys = Object.keys(a).sort();
  return ctx.minor >= 31
    ? keys.map((name) => ({ name, value: a[name] }))
    : Object.fromEntries(keys.map((k) => [k, a[k]]));
}

function csv(values: readonly (string | undefined)[]): string {
  return values.filter(Boolean).join(',');
}

function kubeletArgs(node: PlannedNode): Args {
  return { 'node-ip': node.ip, 'node-labels': nodeLabelsArg(node) };
}

function nodeRegistration(ctx: RenderContext, node: PlannedNode): Record<string, unknown> {
  // Control planes keep workloads off, unless the cluster has no workers to run them.
  const workers = ctx.plan.nodes.some((n) => n.role === 'worker');
  const taints =
    node.role === 'control-plane'
      ? workers
        ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]
        : []
      : node.taints.map((t) => ({ ...t }));
  return {
    name: node.hostname,
    criSocket: CRI_SOCKET,
    ...(hasV1beta3Fields(ctx) ? { imagePullPolicy: 'IfNotPresent' } : {}),
    kubeletExtraArgs: args(ctx, kubeletArgs(node)),
    taints,
    // A bundle's nodes have no registry: its images are imported, and kubeadm's preflight
    // pull of an image the bundle lacks (Debian has no CoreDNS) must not stop the bootstrap.
    ...(ctx.spec.spec.packages.source === 'bundle' ? { ignorePreflightErrors: ['ImagePull'] } : {}),
  };
}

/** Hardened kubelet (CIS 4.2): no anonymous access, webhook authz, no read-only port. */
export function kubeletConfiguration(ctx: RenderContext): Record<string, unknown> {
  const cis = ctx.spec.spec.security.cis;
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: cgroupDriverFor(ctx.minor),
    clusterDomain: ctx.spec.spec.networking.clusterDomain,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' },
    },
    authorization: { mode: 'Webhook' },
    readOnlyPort: 0,
    rotateCertificates: true,
    ...(cis
      ? {
          protectKernelDefaults: true,
          makeIPTablesUtilChains: true,
          eventRecordQPS: 5,
          ...(hasPodSecurityV1(ctx) ? { seccompDefault: true } : {}),
          streamingConnectionIdleTimeout: '5m0s',
          tlsCipherSuites: TLS_CIPHERS,
        }
      : {}),
  };
}

export const TLS_CIPHERS = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
];

function clusterConfiguration(ctx: RenderContext): Record<string, unknown> {
  const s = ctx.spec.spec;
  const n = s.networking;
  const sec = s.security;
  const v4 = ctx.minor >= 31;
  const apiArgs: Args = { profiling: 'false', 'service-account-lookup': 'true' };
  const mounts: Record<string, unknown>[] = [
    {
      name: 'ingot-config',
      hostPath: KUBEADM_DIR,
      mountPath: KUBEADM_DIR,
      readOnly: true,
      pathType: 'DirectoryOrCreate',
    },
  ];
  if (hasPodSecurityV1(ctx)) apiArgs['admission-control-config-file'] = `${KUBEADM_DIR}/admission.yaml`;
  if (sec.auditPolicy) {
    Object.assign(apiArgs, {
      'audit-policy-file': `${KUBEADM_DIR}/audit-policy.yaml`,
      'audit-log-path': '/var/log/kubernetes/audit/audit.log',
      'audit-log-maxage': '30',
      'audit-log-maxbackup': '10',
      'audit-log-maxsize': '100',
    });
    mounts.push({
      name: 'audit-log',
      hostPath: '/var/log/kubernetes/audit',
      mountPath: '/var/log/kubernetes/audit',
      pathType: 'DirectoryOrCreate',
    });
  }
  if (sec.secretsEncryption) apiArgs['encryption-provider-config'] = `${KUBEADM_DIR}/encryption-config.yaml`;
  if (sec.cis) apiArgs['tls-cipher-suites'] = TLS_CIPHERS.join(',');
  // The Cluster file's own flags come last: an operator's choice wins over Ingot's default.
  Object.assign(apiArgs, s.apiServer?.extraArgs ?? {});
  const etcd =
    s.etcd.topology === 'external'
      ? {
          external: {
            endpoints: etcdNodes(ctx).map((e) => `https://${e.ip}:2379`),
            caFile: '/etc/kubernetes/pki/etcd/ca.crt',
            certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
            keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key',
          },
        }
      : {
          local: {
            dataDir: '/var/lib/etcd',
            extraArgs: args(ctx, {
              'auto-compaction-retention': '8',
              'quota-backend-bytes': String(8 * 2 ** 30),
            }),
          },
        };
  return {
    apiVersion: kubeadmApi(ctx.minor),
    kind: 'ClusterConfiguration',
    clusterName: ctx.spec.metadata.name,
    kubernetesVersion: s.version,
    controlPlaneEndpoint: `${s.endpoint.address}:${s.endpoint.port}`,
    certificatesDir: '/etc/kubernetes/pki',
    networking: {
      dnsDomain: n.clusterDomain,
      podSubnet: csv([n.podCIDR, n.podCIDRv6]),
      serviceSubnet: csv([n.serviceCIDR, n.serviceCIDRv6]),
    },
    apiServer: {
      certSANs: [s.endpoint.address, ...s.endpoint.certSANs],
      extraArgs: args(ctx, apiArgs),
      extraVolumes: mounts,
      // 10 min, not kubeadm's 4: kubeadm init under QEMU TCG runs ~10-15x slower than native.
      ...(v4 ? {} : { timeoutForControlPlane: '10m0s' }),
    },
    controllerManager: {
      extraArgs: args(ctx, {
        profiling: 'false',
        'terminated-pod-gc-threshold': '1000',
        'bind-address': '127.0.0.1',
      }),
    },
    scheduler: { extraArgs: args(ctx, { profiling: 'false', 'bind-address': '127.0.0.1' }) },
    etcd,
    ...(v4
      ? {
          caCertificateValidityPeriod: '87600h0m0s',
          certificateValidityPeriod: '8760h0m0s',
          // The leaves kubeadm makes match the CAs Ingot made (src/cluster/pki/generate.ts).
          encryptionAlgorithm: 'ECDSA-P256',
        }
      : {}),
  };
}

/** v1beta4 moved every timeout into one `timeouts` block on Init/JoinConfiguration. */
function timeouts(ctx: RenderContext): Record<string, unknown> {
  if (ctx.minor < 31) return {};
  return {
    timeouts: {
      controlPlaneComponentHealthCheck: '4m0s',
      discovery: '10m0s',
      etcdAPICall: '2m0s',
      kubeletHealthCheck: '4m0s',
      kubernetesAPICall: '1m0s',
      tlsBootstrap: '5m0s',
      upgradeManifests: '5m0s',
    },
  };
}

/** kube-proxy is skipped when Cilium replaces it (before v1beta3: `kubeadmInitFlags`). */
function skipPhases(ctx: RenderContext): Record<string, unknown> {
  return ctx.spec.spec.networking.cni.plugin === 'cilium' && hasV1beta3Fields(ctx)
    ? { skipPhases: ['addon/kube-proxy'] }
    : {};
}

/** Flags `kubeadm init` needs beside its config: what v1beta2 cannot say in the file. */
export function kubeadmInitFlags(ctx: RenderContext): string[] {
  return ctx.spec.spec.networking.cni.plugin === 'cilium' && !hasV1beta3Fields(ctx)
    ? ['--skip-phases=addon/kube-proxy']
    : [];
}

/**
 * The kubeadm config file for one node: init (first control plane) or join. With `pieces`
 * (empty), a join config from a kept shape also gives the strings it is made of (`NodeFile.pieces`).
 */
export function kubeadmConfig(ctx: RenderContext, node: PlannedNode, pieces?: string[]): string {
  const api = kubeadmApi(ctx.minor);
  const s = ctx.spec.spec;
  if (node.init) {
    const init = {
      apiVersion: api,
      kind: 'InitConfiguration',
      bootstrapTokens: [
        {
          token: ctx.joinToken.token,
          ttl: kubeadmDuration(ctx.joinToken.ttlSeconds),
          groups: ['system:bootstrappers:kubeadm:default-node-token'],
          usages: ['signing', 'authentication'],
        },
      ],
      localAPIEndpoint: { advertiseAddress: node.ip, bindPort: s.endpoint.port },
      nodeRegistration: nodeRegistration(ctx, node),
      ...skipPhases(ctx),
      ...timeouts(ctx),
    };
    return toYamlStreamDirect([init, clusterConfiguration(ctx), kubeletConfiguration(ctx)], ctx.yaml);
  }
  const join = joinConfiguration(ctx, node);
  // Without templates (a node template's class, node-template.ts): written directly, once a class.
  return ctx.yaml ? toYamlOf(join, nodeStrings(node), ctx.yaml, pieces) : toYamlDirect(join);
}

/** A joining node's JoinConfiguration (control plane or worker), as data. */
export function joinConfiguration(ctx: RenderContext, node: PlannedNode): Record<string, unknown> {
  const s = ctx.spec.spec;
  return {
    apiVersion: kubeadmApi(ctx.minor),
    kind: 'JoinConfiguration',
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: `${s.endpoint.address}:${s.endpoint.port}`,
        token: ctx.joinToken.token,
        caCertHashes: [ctx.caHash],
      },
      ...(ctx.minor < 31 ? { timeout: '10m0s' } : {}),
    },
    nodeRegistration: nodeRegistration(ctx, node),
    ...(node.role === 'control-plane'
      ? {
          controlPlane: {
            localAPIEndpoint: { advertiseAddress: node.ip, bindPort: s.endpoint.port },
            ...(ctx.certificateKey ? { certificateKey: ctx.certificateKey } : {}),
          },
        }
      : {}),
    ...timeouts(ctx),
  };
}

/**
 * The config a reconfigure gives `kubeadm init phase upload-config kubeadm` and `kubeadm init
 * phase control-plane apiserver` on a control plane: its own API endpoint and the cluster's
 * ClusterConfiguration as the Cluster file says now (no bootstrap token: nothing joins).
 */
export function kubeadmReconfigureConfig(ctx: RenderContext, node: PlannedNode): string {
  const init = {
    apiVersion: kubeadmApi(ctx.minor),
    kind: 'InitConfiguration',
    localAPIEndpoint: { advertiseAddress: node.ip, bindPort: ctx.spec.spec.endpoint.port },
    nodeRegistration: nodeRegistration(ctx, node),
  };
  return toYamlStream([init, clusterConfiguration(ctx)]);
}

/** The kube-apiserver flags Ingot renders from the Cluster file (map form, any kubeadm API). */
export function apiServerFlags(ctx: RenderContext): Record<string, string> {
  const a = (clusterConfiguration(ctx).apiServer as { extraArgs: unknown }).extraArgs;
  return Array.isArray(a)
    ? Object.fromEntries(a.map((x: { name: string; value: string }) => [x.name, x.value]))
    : (a as Record<string, string>);
}

/**
 * Config for `kubeadm init phase certs etcd-* / etcd local` on a dedicated etcd node, following
 * "Set up a High Availability etcd Cluster with kubeadm": kubelet runs standalone there.
 */
export function kubeadmEtcdConfig(ctx: RenderContext, node: PlannedNode): string {
  const members = etcdNodes(ctx);
  const initialCluster = members.map((m) => `${m.hostname}=https://${m.ip}:2380`).join(',');
  const init = {
    apiVersion: kubeadmApi(ctx.minor),
    kind: 'InitConfiguration',
    localAPIEndpoint: { advertiseAddress: node.ip },
    nodeRegistration: { name: node.hostname, criSocket: CRI_SOCKET },
  };
  const cluster = {
    apiVersion: kubeadmApi(ctx.minor),
    kind: 'ClusterConfiguration',
    kubernetesVersion: ctx.spec.spec.version,
    etcd: {
      local: {
        dataDir: '/var/lib/etcd',
        serverCertSANs: [node.ip, node.hostname],
        peerCertSANs: [node.ip, node.hostname],
        extraArgs: args(ctx, {
          name: node.hostname,
          'initial-cluster': initialCluster,
          'initial-cluster-state': 'new',
          'listen-peer-urls': `https://${node.ip}:2380`,
          'listen-client-urls': `https://${node.ip}:2379,https://127.0.0.1:2379`,
          'advertise-client-urls': `https://${node.ip}:2379`,
          'initial-advertise-peer-urls': `https://${node.ip}:2380`,
          'auto-compaction-retention': '8',
        }),
      },
    },
  };
  // Each etcd member's config but for its names and addresses: one template per render.
  return toYamlStreamDirect([init, cluster], ctx.yaml);
}

/** kubelet drop-in for etcd-only nodes: kubelet just runs the etcd static pod. */
export const ETCD_KUBELET_DROPIN = `# Rendered by Ingot: kubelet runs only the etcd static pod on this node.
[Service]
ExecStart=
ExecStart=/usr/bin/kubelet --config=/etc/systemd/system/kubelet.service.d/kubelet.conf --container-runtime-endpoint=${CRI_SOCKET}
Restart=always
`;

export const etcdKubeletConfig = (ctx: RenderContext): string =>
  toYamlStreamDirect(
    [
      {
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        address: '127.0.0.1',
        authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
        authorization: { mode: 'AlwaysAllow' },
        cgroupDriver: cgroupDriverFor(ctx.minor),
        readOnlyPort: 0,
        staticPodPath: '/etc/kubernetes/manifests',
      },
    ],
    ctx.yaml,
  );
