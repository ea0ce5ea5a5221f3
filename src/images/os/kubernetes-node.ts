/**
 * The `kubernetes-node` profile: the standard Debian 12 image plus what a kubeadm node needs to
 * run Kubernetes with no internet (docs/node-os.md):
 * - the container runtime: containerd with runc and Debian's CNI plugins (linked into
 *   /opt/cni/bin, where containerd looks and bundles install theirs), the cgroup driver the
 *   kubelet config Ingot renders asks for (cgroupfs on the cgroup v1 of kubelets before 1.25:
 *   core/node-cgroups.ts);
 * - what kubelet, kube-proxy and CNIs call: iptables (nft backend, Debian's default), nftables,
 *   conntrack, socat, ebtables, ethtool, ipset (bonds and VLANs come with the standard image);
 *   open-iscsi and lvm2 for
 *   Longhorn and Rook; chrony (instead of timesyncd); etcdctl;
 * - the kernel: overlay and br_netfilter loaded at boot, bridged traffic through iptables,
 *   forwarding on, and the kernel arguments of the Kubernetes minor (`kernelArgsFor`);
 * Ingot's node agent is not in the image: the deploy installs it into every OS it writes
 * (src/agent/node/files.ts), so a new agent needs no new image.
 * No swap is configured (the image has no swap partition or file; kubelet refuses swap).
 */
import { bootsCgroupV1, cgroupDriverFor } from '../../core/node-cgroups.ts';
import { defaultGrub, type OsRecipe } from './recipe.ts';

/** The Kubernetes minor the profile is built for: 1.20 is the one that runs here (docs/node-os.md). */
export const KUBERNETES_NODE_MINOR = 20;

/** Kernel arguments a Kubernetes minor needs: the legacy cgroup hierarchy before 1.25 (core/node-cgroups.ts). */
export function kernelArgsFor(minor: number): string[] {
  return bootsCgroupV1(minor) ? ['systemd.unified_cgroup_hierarchy=0'] : [];
}

/** The pause image kubeadm of that minor pulls (`kubeadm config images list`): containerd's sandbox image. */
export function sandboxImageFor(minor: number): string {
  const old: Record<number, string> = { 20: '3.2', 21: '3.4.1', 22: '3.5', 23: '3.6', 24: '3.7' };
  if (old[minor]) return `k8s.gcr.io/pause:${old[minor]}`;
  if (minor === 25) return 'registry.k8s.io/pause:3.8';
  return minor >= 31 ? 'registry.k8s.io/pause:3.10' : 'registry.k8s.io/pause:3.9';
}

/** containerd's CRI config (version 2 schema): the systemd cgroup driver, Debian's runc. */
export function containerdConfig(minor: number): string {
  return [
    "# Written by Ingot's image builder (kubernetes-node profile). A cluster's bootstrap may",
    `# replace it with its own; both use the ${cgroupDriverFor(minor)} cgroup driver, as the rendered kubelet does.`,
    'version = 2',
    '',
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = "${sandboxImageFor(minor)}"`,
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd]',
    '  default_runtime_name = "runc"',
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
    '  runtime_type = "io.containerd.runc.v2"',
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
    `  SystemdCgroup = ${cgroupDriverFor(minor) === 'systemd'}`,
    '  BinaryName = "/usr/sbin/runc"',
    '',
    '[plugins."io.containerd.grpc.v1.cri".cni]',
    '  bin_dir = "/opt/cni/bin"',
    '  conf_dir = "/etc/cni/net.d"',
    '',
  ].join('\n');
}

/** Kernel settings every CNI and kube-proxy need (the cluster's render sets the same ones). */
export const KUBERNETES_SYSCTLS: Readonly<Record<string, string>> = {
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
  'net.ipv4.ip_forward': '1',
};

export const KUBERNETES_MODULES = ['overlay', 'br_netfilter'] as const;

const PACKAGES = [
  'containerd',
  'runc',
  'containernetworking-plugins',
  'iptables',
  'nftables',
  'conntrack',
  'socat',
  'ebtables',
  'ethtool',
  'ipset',
  'open-iscsi',
  'lvm2',
  'chrony',
  'etcd-client',
  // The node agent's SMART reports (src/agent/node/tasks/smart.sh; the deploy installs the agent).
  'smartmontools',
];

export function kubernetesNodeRecipe(base: OsRecipe, minor = KUBERNETES_NODE_MINOR): OsRecipe {
  const args = kernelArgsFor(minor).join(' ');
  return {
    ...base,
    profile: 'kubernetes-node',
    name: `${base.distro}-kubernetes-node`,
    // chrony keeps the time (etcd and certificates care); it replaces systemd-timesyncd.
    packages: [...base.packages.filter((p) => p !== 'systemd-timesyncd'), ...PACKAGES],
    cmdline: [base.cmdline, args].filter(Boolean).join(' '),
    files: {
      ...base.files,
      '/etc/default/grub': defaultGrub(args),
      '/etc/containerd/config.toml': containerdConfig(minor),
      '/etc/modules-load.d/ingot-kubernetes-node.conf': `# Written by Ingot's image builder: what containerd and the CNI need.\n${KUBERNETES_MODULES.join('\n')}\n`,
      '/etc/sysctl.d/90-ingot-kubernetes-node.conf': [
        "# Written by Ingot's image builder: bridged pod traffic through iptables, forwarding on.",
        ...Object.entries(KUBERNETES_SYSCTLS).map(([k, v]) => `${k} = ${v}`),
        '',
      ].join('\n'),
    },
    commands: [
      // containerd and the bundles look in /opt/cni/bin; Debian installs its plugins in /usr/lib/cni.
      ['sh', '-c', 'mkdir -p /opt/cni/bin && for f in /usr/lib/cni/*; do ln -sf "$f" /opt/cni/bin/; done'],
      ['systemctl', 'enable', 'containerd.service'],
    ],
  };
}
