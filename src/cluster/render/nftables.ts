import { formatIpv4, parseIpv4 } from '../../core/subnet.ts';
import { formatAny, parseAnyCidr } from '../spec/cidr.ts';
import type { Role } from '../plan/types.ts';
import { controlPlanes, etcdNodes, perRender, type RenderContext } from './context.ts';

interface Rule {
  readonly comment: string;
  readonly text: string;
}

function family(cidr: string): 'ip' | 'ip6' {
  const c = parseAnyCidr(cidr);
  return typeof c !== 'string' && c.family === 6 ? 'ip6' : 'ip';
}

function set(items: readonly string[]): string {
  return `{ ${[...new Set(items)].join(', ')} }`;
}

/**
 * Host firewall for one role: default-deny inbound, with only the ports Kubernetes, etcd, the
 * CNI, BGP and the add-ons need, each from the narrowest source that works. Ingot owns only its
 * own table (`inet ingot`): kube-proxy and the CNI keep their tables, so the file never flushes
 * the ruleset. The table is re-created atomically on every load.
 */
export function nftablesRuleset(ctx: RenderContext, role: Role): string {
  const s = ctx.spec.spec;
  const n = s.networking;
  const clusterSrc = [...perRender(ctx, nodeSubnets), n.podCIDR];
  const cluster6 = n.podCIDRv6 ? [n.podCIDRv6] : [];
  const cps = controlPlanes(ctx).map((x) => x.ip);
  const etcd = etcdNodes(ctx).map((x) => x.ip);
  const rules: Rule[] = [];
  const fromCluster = (comment: string, match: string) => {
    rules.push({ comment, text: `ip saddr ${set(clusterSrc)} ${match} accept` });
    if (cluster6.length) rules.push({ comment, text: `ip6 saddr ${set(cluster6)} ${match} accept` });
  };
  const ssh = s.security.firewall.sshSources;
  for (const fam of ['ip', 'ip6'] as const) {
    const src = ssh.filter((c) => family(c) === fam);
    if (src.length)
      rules.push({ comment: 'SSH for operators', text: `${fam} saddr ${set(src)} tcp dport 22 accept` });
  }
  const rke2 = s.distribution === 'rke2';
  if (role !== 'etcd') {
    fromCluster('kubelet API (control plane, metrics-server)', 'tcp dport 10250');
    rules.push({
      comment: 'NodePort services',
      text: 'meta l4proto { tcp, udp } th dport 30000-32767 accept',
    });
    if (s.observability.nodeExporter) fromCluster('node-exporter scrapes', 'tcp dport 9100');
    if (s.observability.smartctlExporter) fromCluster('smartctl-exporter scrapes', 'tcp dport 9633');
    if (n.cni.plugin === 'cilium') {
      fromCluster('Cilium health checks', 'tcp dport 4240');
      fromCluster('Cilium VXLAN overlay', 'udp dport 8472');
      fromCluster('Hubble peers', 'tcp dport 4244');
    } else {
      fromCluster('Calico VXLAN overlay', 'udp dport 4789');
      fromCluster('Calico Typha', 'tcp dport 5473');
    }
    if (n.metallb) fromCluster('MetalLB memberlist', 'meta l4proto { tcp, udp } th dport 7946');
  }
  if (role === 'control-plane') {
    rules.push({
      comment: 'Kubernetes API',
      text: `tcp dport ${s.endpoint.port === 6443 ? '6443' : `{ 6443, ${s.endpoint.port} }`} accept`,
    });
    if (rke2) fromCluster('RKE2 supervisor (node registration)', 'tcp dport 9345');
  }
  if (etcd.length && (role === 'etcd' || (role === 'control-plane' && s.etcd.topology === 'stacked'))) {
    rules.push({
      comment: 'etcd clients (API servers, members)',
      text: `ip saddr ${set([...cps, ...etcd])} tcp dport 2379 accept`,
    });
    rules.push({ comment: 'etcd peers', text: `ip saddr ${set(etcd)} tcp dport 2380 accept` });
  }
  if (role === 'etcd' && s.distribution !== 'kubeadm') {
    fromCluster(
      `${s.distribution} supervisor and kubelet`,
      `tcp dport { ${rke2 ? '9345, ' : ''}6443, 10250 }`,
    );
  }
  const peers = [
    ...(n.cni.bgp?.peers ?? []),
    ...(n.metallb?.bgp?.peers ?? []),
    ...(role === 'control-plane' ? (s.endpoint.kubeVip.bgp?.peers ?? []) : []),
  ];
  if (peers.length && role !== 'etcd') {
    rules.push({
      comment: 'BGP with the top-of-rack routers',
      text: `ip saddr ${set(peers.map((p) => p.address).sort())} tcp dport 179 accept`,
    });
  }
  if (n.cni.plugin === 'calico' && n.cni.bgp && role !== 'etcd')
    fromCluster('Calico BGP between nodes', 'tcp dport 179');
  const lines = rules.map((r) => `    ${r.text} comment "${r.comment}"`);
  return [
    '#!/usr/sbin/nft -f',
    `# Rendered by Ingot for ${role} nodes of cluster ${ctx.spec.metadata.name}.`,
    'table inet ingot',
    'delete table inet ingot',
    '',
    'table inet ingot {',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    ct state established,related accept',
    '    ct state invalid drop',
    '    iif "lo" accept',
    '    meta l4proto icmp accept comment "ICMP (path MTU discovery, ping)"',
    '    meta l4proto ipv6-icmp accept comment "ICMPv6 (neighbour discovery)"',
    ...lines,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The subnets of the nodes' addresses, sorted. */
function nodeSubnets(ctx: RenderContext): string[] {
  return [...new Set(ctx.plan.nodes.map((x) => networkOf(x.address)))].sort();
}

/** `10.10.0.14/22` → `10.10.0.0/22`. */
export function networkOf(address: string): string {
  const [ip, prefix] = address.split('/');
  // IPv4 with a prefix of 0–32 (every node address a plan gives): in numbers, no BigInt.
  const v4 = parseIpv4(ip);
  if (v4 !== null && prefix !== undefined && /^\d{1,2}$/.test(prefix) && Number(prefix) <= 32) {
    const bits = Number(prefix);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return `${formatIpv4((v4 & mask) >>> 0)}/${prefix}`;
  }
  const c = parseAnyCidr(`${ip}/32`);
  if (typeof c === 'string') return address;
  const size = 1n << BigInt(32 - Number(prefix));
  return `${formatAny((c.first / size) * size, 4)}/${prefix}`;
}
