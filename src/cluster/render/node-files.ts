import type { PlannedNode } from '../plan/types.ts';
import { keyFileOf, PKI_FILES } from '../pki/types.ts';
import { bootstrapFile, KUBEADM_MANIFESTS } from './bootstrap.ts';
import type { NodeFile, RenderContext } from './context.ts';
import { BRIDGE_CNI_CONFIG, bridgeCniConfig, containerdConfig, MODULES, sysctls } from './host.ts';
import { ETCD_KUBELET_DROPIN, etcdKubeletConfig, kubeadmConfig, kubeadmEtcdConfig } from './kubeadm.ts';
import { kubeVipManifest, staticPodDir } from './kube-vip.ts';
import { nftablesRuleset } from './nftables.ts';
import { packageFiles } from './packages.ts';
import { rancherConfig, rancherDir } from './rancher.ts';
import { admissionConfig, auditPolicy, encryptionConfig, KUBEADM_DIR } from './security.ts';

const SECRET = 0o600;
const PUBLIC = 0o644;

/** Cluster-wide pieces rendered once and shared by every node (1,000-node renders stay fast). */
export interface Shared {
  readonly nftables: Readonly<Record<string, string>>;
  readonly sysctls: string;
  readonly containerd: string;
  readonly audit: string;
  readonly admission: string;
  readonly encryption: string;
  /** Cluster manifests by file name, written to the first control plane only. */
  readonly manifests: readonly { readonly name: string; readonly content: string }[];
}

export function sharedFiles(ctx: RenderContext, manifests: Shared['manifests']): Shared {
  return {
    nftables: Object.fromEntries(
      (['control-plane', 'etcd', 'worker'] as const).map((r) => [r, nftablesRuleset(ctx, r)]),
    ),
    sysctls: sysctls(ctx),
    containerd: containerdConfig(ctx),
    audit: auditPolicy(),
    admission: admissionConfig(ctx),
    encryption: encryptionConfig(ctx),
    manifests,
  };
}

function pki(ctx: RenderContext, dir: string, names: readonly string[]): NodeFile[] {
  return names.map((f) => ({
    path: `${dir}/${f}`,
    content: ctx.pki.files[f],
    mode: f.endsWith('.crt') || f.endsWith('.pub') ? PUBLIC : SECRET,
  }));
}

/** Kubeadm's CA material for control planes: the "external CA" layout, like Cluster API does. */
function kubeadmPki(ctx: RenderContext, node: PlannedNode): NodeFile[] {
  const dir = '/etc/kubernetes/pki';
  if (node.role === 'etcd') return pki(ctx, dir, [PKI_FILES.etcdCa, keyFileOf(PKI_FILES.etcdCa)]);
  if (node.role === 'worker') return [];
  const cas = [PKI_FILES.ca, PKI_FILES.frontProxyCa, PKI_FILES.etcdCa];
  const files = [...cas, ...cas.map(keyFileOf), PKI_FILES.saKey, PKI_FILES.saPub];
  if (ctx.spec.spec.etcd.topology === 'external')
    files.push(PKI_FILES.apiserverEtcdClient, keyFileOf(PKI_FILES.apiserverEtcdClient));
  return pki(ctx, dir, files);
}

/**
 * k3s / RKE2 accept user-provided CAs in server/tls before first start ("custom CA
 * certificates"): the cluster CA signs both servers and clients, front-proxy is request-header.
 */
function rancherPki(ctx: RenderContext, node: PlannedNode): NodeFile[] {
  if (node.role === 'worker') return [];
  const dir = `/var/lib/rancher/${ctx.spec.spec.distribution}/server/tls`;
  const f = ctx.pki.files;
  const map: [string, string][] = [
    ['server-ca.crt', PKI_FILES.ca],
    ['client-ca.crt', PKI_FILES.ca],
    ['request-header-ca.crt', PKI_FILES.frontProxyCa],
    ['etcd/server-ca.crt', PKI_FILES.etcdCa],
    ['etcd/peer-ca.crt', PKI_FILES.etcdCa],
  ];
  const out: NodeFile[] = [];
  for (const [name, src] of map) {
    out.push({ path: `${dir}/${name}`, content: f[src], mode: PUBLIC });
    out.push({ path: `${dir}/${keyFileOf(name)}`, content: f[keyFileOf(src)], mode: SECRET });
  }
  out.push({ path: `${dir}/service.key`, content: f[PKI_FILES.saKey], mode: SECRET });
  return out;
}

/** Every file cloud-init writes on one node, sorted by path. */
export function nodeFiles(ctx: RenderContext, node: PlannedNode, shared: Shared): NodeFile[] {
  const s = ctx.spec.spec;
  const files: NodeFile[] = [
    { path: '/etc/sysctl.d/90-ingot-kubernetes.conf', content: shared.sysctls, mode: PUBLIC },
    { path: '/etc/modules-load.d/ingot-kubernetes.conf', content: MODULES, mode: PUBLIC },
    bootstrapFile(ctx, node),
  ];
  if (s.security.firewall.enabled)
    files.push({ path: '/etc/nftables.conf', content: shared.nftables[node.role], mode: 0o755 });
  const cp = node.role === 'control-plane';
  if (cp && s.endpoint.mode === 'kube-vip')
    files.push({
      path: `${staticPodDir(ctx)}/kube-vip.yaml`,
      content: kubeVipManifest(ctx, node),
      mode: SECRET,
    });
  if (s.distribution === 'kubeadm') {
    files.push(
      { path: '/etc/containerd/config.toml', content: shared.containerd, mode: PUBLIC },
      ...packageFiles(ctx),
      ...kubeadmPki(ctx, node),
    );
    if (s.networking.cni.plugin === 'bridge' && node.role !== 'etcd')
      files.push({ path: BRIDGE_CNI_CONFIG, content: bridgeCniConfig(ctx, node), mode: PUBLIC });
    if (node.role === 'etcd') {
      files.push(
        { path: `${KUBEADM_DIR}/kubeadm-etcd.yaml`, content: kubeadmEtcdConfig(ctx, node), mode: SECRET },
        {
          path: '/etc/systemd/system/kubelet.service.d/20-etcd-service-manager.conf',
          content: ETCD_KUBELET_DROPIN,
          mode: PUBLIC,
        },
        {
          path: '/etc/systemd/system/kubelet.service.d/kubelet.conf',
          content: etcdKubeletConfig(ctx),
          mode: PUBLIC,
        },
      );
    } else {
      const pieces: string[] = [];
      const content = kubeadmConfig(ctx, node, pieces);
      files.push(
        pieces.length > 0
          ? { path: `${KUBEADM_DIR}/kubeadm.yaml`, content, mode: SECRET, pieces }
          : { path: `${KUBEADM_DIR}/kubeadm.yaml`, content, mode: SECRET },
      );
    }
    if (cp) {
      files.push({ path: `${KUBEADM_DIR}/admission.yaml`, content: shared.admission, mode: SECRET });
      if (s.security.auditPolicy)
        files.push({ path: `${KUBEADM_DIR}/audit-policy.yaml`, content: shared.audit, mode: SECRET });
      if (s.security.secretsEncryption)
        files.push({
          path: `${KUBEADM_DIR}/encryption-config.yaml`,
          content: shared.encryption,
          mode: SECRET,
        });
    }
    if (node.init)
      for (const m of shared.manifests)
        files.push({ path: `${KUBEADM_MANIFESTS}/${m.name}`, content: m.content, mode: SECRET });
  } else {
    const d = s.distribution;
    files.push(
      { path: `/etc/rancher/${d}/config.yaml`, content: rancherConfig(ctx, node), mode: SECRET },
      ...rancherPki(ctx, node),
    );
    if (node.role !== 'worker') {
      files.push({ path: `${rancherDir(ctx)}/admission.yaml`, content: shared.admission, mode: SECRET });
      if (s.security.auditPolicy)
        files.push({ path: `${rancherDir(ctx)}/audit-policy.yaml`, content: shared.audit, mode: SECRET });
    }
    if (node.init)
      for (const m of shared.manifests)
        files.push({
          path: `/var/lib/rancher/${d}/server/manifests/${m.name}`,
          content: m.content,
          mode: SECRET,
        });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}
