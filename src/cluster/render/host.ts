import { cgroupDriverFor } from '../../core/node-cgroups.ts';
import type { PlannedNode } from '../plan/types.ts';
import { nodeInterface, nodeStrings, type RenderContext } from './context.ts';
import { pauseImage } from './versions.ts';
import { toYaml } from './yaml.ts';
import { toYamlOf } from './yaml-template.ts';
import { fromShapes } from './yaml-doc-shapes.ts';

/**
 * Kernel settings. The networking ones are what every CNI and kube-proxy need; the CIS ones are
 * exactly what kubelet's `protectKernelDefaults` insists on (it refuses to start otherwise).
 */
export function sysctls(ctx: RenderContext): string {
  const s: Record<string, string> = {
    'net.bridge.bridge-nf-call-iptables': '1',
    'net.bridge.bridge-nf-call-ip6tables': '1',
    'net.ipv4.ip_forward': '1',
    'fs.inotify.max_user_instances': '8192',
    'fs.inotify.max_user_watches': '524288',
  };
  if (ctx.spec.spec.networking.podCIDRv6) s['net.ipv6.conf.all.forwarding'] = '1';
  if (ctx.spec.spec.security.cis) {
    Object.assign(s, {
      'kernel.keys.root_maxbytes': '25000000',
      'kernel.keys.root_maxkeys': '1000000',
      'kernel.panic': '10',
      'kernel.panic_on_oops': '1',
      'vm.overcommit_memory': '1',
      'vm.panic_on_oom': '0',
      'net.ipv4.conf.all.accept_redirects': '0',
      'net.ipv4.conf.all.send_redirects': '0',
      'net.ipv4.conf.all.log_martians': '1',
      'kernel.kptr_restrict': '2',
      'kernel.dmesg_restrict': '1',
    });
  }
  return [
    '# Rendered by Ingot: Kubernetes networking and CIS kernel settings.',
    ...Object.keys(s)
      .sort()
      .map((k) => `${k} = ${s[k]}`),
    '',
  ].join('\n');
}

export const MODULES =
  '# Rendered by Ingot: modules containerd and the CNI need at boot.\noverlay\nbr_netfilter\n';

export const BRIDGE_CNI_CONFIG = '/etc/cni/net.d/10-ingot-bridge.conflist';

/**
 * `cni.plugin: bridge`: the CNI reference plugins (bridge, host-local, portmap, loopback — the
 * bundle's and Debian's containernetworking-plugins) on bridge `cni0`, masquerading, with the
 * node's own /24 of the pod CIDR (the node's place in the plan), so no two nodes share pod
 * addresses. No routes between nodes: pods on other nodes are not reachable (single-node and
 * lab clusters).
 */
export function bridgeCniConfig(ctx: RenderContext, node: PlannedNode): string {
  const [base] = ctx.spec.spec.networking.podCIDR.split('/');
  const o = base.split('.').map(Number);
  const i = ctx.plan.nodes.indexOf(node);
  const third = o[2] + i;
  const subnet = `${o[0]}.${o[1] + Math.floor(third / 256)}.${third % 256}.0/24`;
  return bridgeConflist('ingot-bridge', subnet);
}

/** A CNI conflist: bridge `cni0` (gateway, masquerade, hairpin) with host-local `subnet`, and portmap. */
export function bridgeConflist(name: string, subnet: string): string {
  return `${JSON.stringify(
    {
      cniVersion: '0.4.0',
      name,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/** containerd 1.7/2.x CRI config (version 2 schema, which containerd 2 still reads) for kubeadm nodes. */
export function containerdConfig(ctx: RenderContext): string {
  return [
    '# Rendered by Ingot.',
    'version = 2',
    '',
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = "${pauseImage(ctx.minor)}"`,
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd]',
    '  default_runtime_name = "runc"',
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
    '  runtime_type = "io.containerd.runc.v2"',
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
    `  SystemdCgroup = ${cgroupDriverFor(ctx.minor) === 'systemd'}`,
    '',
    '[plugins."io.containerd.grpc.v1.cri".registry]',
    '  config_path = "/etc/containerd/certs.d"',
    '',
  ].join('\n');
}

/**
 * Netplan v2 network-config (the format cloud-init's NoCloud datasource reads): the bond (LACP,
 * layer3+4 hashing, fast LACPDUs; or active-backup) over the node's NICs matched by MAC, VLANs
 * on top, and the static node address on the node interface. The deploy writes it into the node's
 * cloud-init config and the region checks it with netplan and cloud-init first (docs/cluster.md).
 */
export function networkConfig(ctx: Pick<RenderContext, 'spec' | 'yaml'>, node: PlannedNode): string {
  const doc = networkDoc(ctx, node);
  if (!ctx.yaml) return toYaml(doc);
  // A kept shape first: the node's strings are made only for a document no shape fits.
  return fromShapes(doc, ctx.yaml) ?? toYamlOf(doc, nodeStrings(node), ctx.yaml);
}

/** `networkConfig`'s document. */
export function networkDoc(ctx: Pick<RenderContext, 'spec'>, node: PlannedNode): { network: unknown } {
  const n = ctx.spec.spec.networking;
  const ethernets: Record<string, unknown> = {};
  const bonds: Record<string, unknown> = {};
  const vlans: Record<string, unknown> = {};
  const iface = nodeInterface(ctx, node);
  const addressing = {
    addresses: [node.address],
    // `0.0.0.0/0`, not netplan's `default`: the node's cloud-init 22.4 refuses `default`.
    ...(node.gateway
      ? { routes: [{ to: node.gateway.includes(':') ? '::/0' : '0.0.0.0/0', via: node.gateway }] }
      : {}),
    ...(node.dns.length ? { nameservers: { addresses: [...node.dns] } } : {}),
  };
  const nics = [...node.nics].sort((a, b) => (a.mac < b.mac ? -1 : 1));
  if (n.bond) {
    const bond = n.bond;
    const members = nics.filter((x) => bond.members.length === 0 || bond.members.includes(x.name ?? ''));
    members.forEach((x, i) => {
      ethernets[x.name ?? `nic${i}`] = {
        match: { macaddress: x.mac },
        'set-name': x.name ?? `nic${i}`,
        mtu: bond.mtu,
      };
    });
    bonds[bond.name] = {
      interfaces: members.map((x, i) => x.name ?? `nic${i}`),
      mtu: bond.mtu,
      parameters:
        bond.mode === 'active-backup'
          ? { mode: 'active-backup', 'mii-monitor-interval': 100 }
          : {
              mode: '802.3ad',
              'lacp-rate': 'fast',
              'mii-monitor-interval': 100,
              'transmit-hash-policy': 'layer3+4',
            },
      ...(iface === bond.name ? addressing : {}),
    };
  } else {
    const boot = nics.find((x) => x.boot) ?? nics[0];
    const name = boot?.name ?? 'eth0';
    ethernets[name] = {
      match: { macaddress: boot?.mac },
      'set-name': name,
      ...(iface === name ? addressing : {}),
    };
  }
  const base = n.bond ? n.bond.name : Object.keys(ethernets)[0];
  for (const v of n.vlans) {
    const name = `${base}.${v.id}`;
    vlans[name] = { id: v.id, link: base, ...(iface === name ? addressing : {}) };
  }
  const network: Record<string, unknown> = { version: 2, ethernets };
  if (Object.keys(bonds).length) network.bonds = bonds;
  if (Object.keys(vlans).length) network.vlans = vlans;
  return { network };
}
