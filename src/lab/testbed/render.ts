/**
 * What the test bed's nodes run: Ingot's own render of a small Cluster (src/cluster), not a
 * hand-written kubeadm config. The bed takes from each node's rendered cloud-init user-data the
 * files under /etc/kubernetes (PKI, kubeadm config, admission/audit/encryption configs) and
 * adapts the kubeadm config to a node that is a namespace, not a machine — and says so here:
 *
 * - the kubelet uses cgroupfs (no systemd in a namespace) and does not fail on swap (each node's
 *   kubelet gets its own `--cgroup-root` on its command line: the KubeletConfiguration is
 *   cluster-wide), syncs its pods every 10 s and leaves ephemeral storage out of admission
 *   (adaptKubeadmConfig says why);
 * - kube-proxy leaves the host-wide conntrack sysctls alone (they are not the namespace's).
 */
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import {
  buildPlan,
  clusterPki,
  type PkiMaterial,
  type PlannedNode,
  renderArtifacts,
  validateCluster,
} from '../../cluster/index.ts';
import type { Inventory } from '../../cluster/inventory.ts';
import { KUBEADM_DIR } from '../../cluster/render/security.ts';
import { type BedLayout, nodeMac } from './topology.ts';

export interface NodeFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export interface RenderedNode {
  readonly hostname: string;
  readonly ip: string;
  readonly role: 'control-plane' | 'worker';
  readonly init: boolean;
  readonly files: readonly NodeFile[];
  /** Where the kubeadm config is among `files`. */
  readonly kubeadmConfig: string;
}

export interface RenderedBed {
  readonly nodes: readonly RenderedNode[];
  readonly adminKubeconfig: string;
  /** Ingot's rendered API load balancer, adapted: foreground, no syslog, checks every second, 4,000 connections. */
  readonly haproxy: string;
  /** Each node's rendered containerd config. */
  readonly containerd: Readonly<Record<string, string>>;
  /** The cluster's PKI the render made (bed.ts keeps it in the bed's directory, as `ingot cluster render` keeps `<out>/pki/`). */
  readonly pki: PkiMaterial;
}

const TS = '2026-01-01T00:00:00.000Z';

/** The Cluster file of a bed: Kubernetes 1.20.2 from the bundle, the API behind the hub's haproxy. */
export function bedCluster(bed: BedLayout) {
  return validateCluster({
    apiVersion: 'ingot.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: `testbed-${bed.name}` },
    spec: {
      distribution: 'kubeadm',
      version: 'v1.20.2',
      packages: { source: 'bundle' },
      controlPlane: { count: bed.controlPlanes },
      workers: [{ name: 'w', count: bed.workers }],
      endpoint: {
        address: bed.endpoint,
        mode: 'external',
        certSANs: ['127.0.0.1'],
        // Rendered for two keepalived hosts; the bed runs one haproxy (its config) and no keepalived.
        externalLoadBalancer: { render: true, hosts: ['lb1', 'lb2'] },
      },
      networking: { podCIDR: bed.podCidr, serviceCIDR: bed.serviceCidr, cni: { plugin: 'calico' } },
      security: { cis: false },
    },
  });
}

/** The bed's machines: one per node, one subnet (the bridge's). */
export function bedInventory(bed: BedLayout): Inventory {
  const count = bed.controlPlanes + bed.workers;
  const machines = Array.from({ length: count }, (_, i) => ({
    id: `tb-${i + 1}`,
    hostname: `node${i + 1}`,
    arch: 'amd64' as const,
    state: 'ready' as const,
    stateReason: '',
    stateEnteredAt: TS,
    powerState: 'on' as const,
    bmc: null,
    nics: [{ mac: nodeMac(i), boot: true, name: 'eth0' }],
    disks: [{ name: 'vda', sizeBytes: 100e9 }],
    cpu: { cores: 2 },
    memoryBytes: 8 * 2 ** 30,
    tags: [],
    zone: `z${(i % 3) + 1}`,
    rack: `z${(i % 3) + 1}-r1`,
    pool: 'default',
    owner: '',
    rescueFrom: null,
    commissionedAt: TS,
    version: 1,
    createdAt: TS,
    updatedAt: TS,
  }));
  return {
    machines,
    subnets: [
      {
        id: 'tb',
        name: 'testbed',
        cidr: bed.cidr,
        gateway: bed.gateway,
        dns: [],
        vlan: null,
        dhcpMode: 'off',
        autoEnlist: false,
        ranges: [],
        createdAt: TS,
        updatedAt: TS,
      },
    ],
  } as unknown as Inventory;
}

interface WriteFile {
  path: string;
  content: string;
  encoding?: string;
  permissions?: string;
}

/** Renders the bed's cluster with Ingot and picks each node's Kubernetes files. */
export async function renderBed(bed: BedLayout): Promise<RenderedBed> {
  const spec = bedCluster(bed);
  const plan = buildPlan(spec, bedInventory(bed));
  const pki = await clusterPki(spec);
  const artifacts = await renderArtifacts(spec, plan, pki, new Map());
  const containerd: Record<string, string> = {};
  const adminConf = artifacts.find((a) => a.path === 'kubeconfig/admin.conf')?.content ?? '';
  // HA only (see adaptKubeadmConfig): the 1+1 bed keeps Ingot's token discovery as rendered.
  const fileDiscovery = bed.controlPlanes > 1;
  const nodes = plan.nodes.map((n: PlannedNode) => {
    const ud = artifacts.find((a) => a.path === `nodes/${n.hostname}/user-data`);
    if (!ud) throw new Error(`render gave no user-data for ${n.hostname}`);
    const doc = parseYaml(ud.content) as { write_files: WriteFile[] };
    const files = doc.write_files
      .filter((f) => f.path.startsWith('/etc/kubernetes/'))
      .map((f) => ({
        path: f.path,
        content: f.encoding === 'b64' ? Buffer.from(f.content, 'base64').toString('utf8') : f.content,
        mode: Number.parseInt(f.permissions ?? '0644', 8),
      }));
    const ctd = doc.write_files.find((f) => f.path === '/etc/containerd/config.toml');
    if (ctd) containerd[n.hostname] = ctd.content;
    const kubeadmConfig = `${KUBEADM_DIR}/kubeadm.yaml`;
    const i = files.findIndex((f) => f.path === kubeadmConfig);
    if (i < 0) throw new Error(`render gave ${n.hostname} no ${kubeadmConfig}`);
    files[i] = { ...files[i], content: adaptKubeadmConfig(files[i].content, fileDiscovery) };
    if (fileDiscovery && !n.init)
      files.push({ path: DISCOVERY_KUBECONFIG, content: discoveryKubeconfig(adminConf), mode: 0o644 });
    return {
      hostname: n.hostname,
      ip: n.ip,
      role: n.role === 'control-plane' ? ('control-plane' as const) : ('worker' as const),
      init: n.init,
      files,
      kubeadmConfig,
    };
  });
  const admin = artifacts.find((a) => a.path === 'kubeconfig/admin.conf');
  const lb = artifacts.find((a) => a.path === 'lb/haproxy.cfg');
  if (!admin || !lb) throw new Error('render gave no admin kubeconfig or haproxy config');
  const haproxy = lb.content
    .split('\n')
    .filter((l) => !/^\s+(daemon|log \/dev\/log .*)$/.test(l))
    .join('\n')
    .replace(/inter 5s fall 3 rise 2/g, 'inter 1s fall 2 rise 1')
    // 20,000 connections need 40,000 descriptors, more than this host's limit allows.
    .replace(/maxconn \d+/, 'maxconn 4000');
  return { nodes, adminKubeconfig: admin.content, haproxy, containerd, pki };
}

/** Where a joining node of an HA bed finds the cluster (file discovery). */
export const DISCOVERY_KUBECONFIG = '/etc/kubernetes/ingot/discovery.conf';

/** The admin kubeconfig's cluster (server and CA) without its credentials. */
export function discoveryKubeconfig(adminConf: string): string {
  const kc = parseYaml(adminConf) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
  const cluster = kc.clusters?.[0];
  if (!cluster) throw new Error('the rendered admin kubeconfig names no cluster');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [cluster],
    // kubeadm validates the file as a kubeconfig: a context needs a user, here one without
    // credentials (cluster-info is read anonymously; the kubelet bootstraps with the token).
    contexts: [{ name: 'discovery', context: { cluster: cluster.name, user: 'discovery' } }],
    'current-context': 'discovery',
    users: [{ name: 'discovery', user: {} }],
  });
}

/**
 * The namespace adaptations (see the file's comment), on the rendered multi-document YAML.
 * With `fileDiscovery`, a JoinConfiguration finds the cluster from a kubeconfig file with its CA
 * (DISCOVERY_KUBECONFIG) instead of the rendered token + CA hash, and keeps the token for the
 * kubelet's TLS bootstrap: token discovery waits until the controller manager has signed the
 * cluster-info ConfigMap for the token (25-40 s after `kubeadm init` here, retried every 5 s),
 * which is on the HA bed's critical path (the first control-plane join).
 */
export function adaptKubeadmConfig(yaml: string, fileDiscovery = false): string {
  const docs = parseAllDocuments(yaml).map((d) => d.toJS() as Record<string, unknown>);
  const join = docs.find((d) => d.kind === 'JoinConfiguration');
  if (join && fileDiscovery) {
    const discovery = join.discovery as { bootstrapToken?: { token?: string }; timeout?: string };
    const token = discovery.bootstrapToken?.token;
    if (!token) throw new Error('the rendered JoinConfiguration has no bootstrap token');
    join.discovery = {
      file: { kubeConfigPath: DISCOVERY_KUBECONFIG },
      tlsBootstrapToken: token,
      ...(discovery.timeout ? { timeout: discovery.timeout } : {}),
    };
  }
  const kubelet = docs.find((d) => d.kind === 'KubeletConfiguration');
  if (kubelet)
    Object.assign(kubelet, {
      cgroupDriver: 'cgroupfs',
      failSwapOn: false,
      // A joining control plane reads etcd's client URL from the first one's etcd mirror pod,
      // retrying; the kubelet creates a mirror pod on the pod's next sync once its node is
      // registered, up to a minute (the default) after `kubeadm init` ends: 31 s of the first
      // join's 88 s here. Every 10 s instead (a handful of pods per node: cheap).
      syncFrequency: '10s',
      // A static pod's ephemeral-storage request (etcd's 100Mi) is checked against the node's
      // capacity, unknown until the kubelet's first filesystem stats: on a loaded host a joining
      // control plane's etcd was rejected for it, and the kubelet never retries a rejected static
      // pod (the join then hangs). A node here has no disk of its own to account anyway.
      featureGates: { ...(kubelet.featureGates as object | undefined), LocalStorageCapacityIsolation: false },
    });
  if (docs.some((d) => d.kind === 'InitConfiguration'))
    docs.push({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      conntrack: { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    });
  return docs.map((d) => stringify(d)).join('---\n');
}
