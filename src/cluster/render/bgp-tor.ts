import { formatIpv4, parseIpv4 } from '../../core/subnet.ts';
import type { PlannedNode } from '../plan/types.ts';
import { parseAnyCidr, parseIpv4Span } from '../spec/cidr.ts';
import type { BgpPeer } from '../spec/types.ts';
import { type RenderContext, secret } from './context.ts';

/** One ToR router's view: its own AS, the cluster's AS, and the nodes that peer with it. */
interface TorSession {
  readonly router: BgpPeer;
  readonly clusterAsn: number;
  /** By address. */
  readonly nodes: readonly PlannedNode[];
  readonly accept: readonly string[];
}

/** Smallest list of CIDRs exactly covering first..last. */
export function rangeToCidrs(first: number, last: number): string[] {
  const out: string[] = [];
  let cur = first;
  while (cur <= last) {
    let size = 32;
    while (size > 0) {
      const block = 2 ** (32 - (size - 1));
      if (cur % block !== 0 || cur + block - 1 > last) break;
      size--;
    }
    out.push(`${formatIpv4(cur)}/${size}`);
    cur += 2 ** (32 - size);
  }
  return out;
}

/** Prefixes a router should accept from the cluster: pod CIDRs, LoadBalancer pools, the API VIP. */
function accepted(ctx: RenderContext, source: 'cni' | 'metallb' | 'kube-vip'): string[] {
  const n = ctx.spec.spec.networking;
  const pools = (n.metallb?.pools ?? [])
    .flatMap((p) => p.addresses)
    .flatMap((a) => {
      const s = parseIpv4Span(a);
      return typeof s === 'string' ? [] : rangeToCidrs(s.first, s.last);
    });
  if (source === 'kube-vip') return [`${ctx.spec.spec.endpoint.address}/32`];
  if (source === 'metallb') return pools;
  return [...(n.cni.bgp?.advertisePodCIDRs ? [n.podCIDR] : []), ...pools];
}

export function torSessions(ctx: RenderContext): TorSession[] {
  const s = ctx.spec.spec;
  const sources: { peers: readonly BgpPeer[]; asn: number; nodes: PlannedNode[]; accept: string[] }[] = [];
  const nodes = ctx.plan.nodes.filter((x) => x.role !== 'etcd');
  if (s.networking.cni.bgp) sources.push({ ...s.networking.cni.bgp, nodes, accept: accepted(ctx, 'cni') });
  if (s.networking.metallb?.bgp)
    sources.push({ ...s.networking.metallb.bgp, nodes, accept: accepted(ctx, 'metallb') });
  if (s.endpoint.mode === 'kube-vip' && s.endpoint.kubeVip.mode === 'bgp' && s.endpoint.kubeVip.bgp) {
    sources.push({
      ...s.endpoint.kubeVip.bgp,
      nodes: nodes.filter((x) => x.role === 'control-plane'),
      accept: accepted(ctx, 'kube-vip'),
    });
  }
  return sources.flatMap((src) => {
    // Each source's nodes by address once, and by rack: a router of one rack (36 of them for a
    // 1,000-node cluster) takes its rack's, not a filter of every node.
    const sorted = byIp(src.nodes);
    const byRack = new Map<string, PlannedNode[]>();
    for (const n of sorted) {
      const list = byRack.get(n.rack);
      if (list) list.push(n);
      else byRack.set(n.rack, [n]);
    }
    return src.peers.map((router) => ({
      router,
      clusterAsn: src.asn,
      nodes:
        router.racks.length === 0
          ? sorted
          : router.racks.length === 1
            ? (byRack.get(router.racks[0]) ?? [])
            : sorted.filter((x) => router.racks.includes(x.rack)),
      accept: src.accept,
    }));
  });
}

function prefixLen(cidr: string): number {
  const c = parseAnyCidr(cidr);
  return typeof c === 'string' ? 32 : c.prefix;
}

/** The nodes by address, each address parsed once (not twice per comparison). */
function byIp(nodes: readonly PlannedNode[]): PlannedNode[] {
  return nodes
    .map((n) => ({ n, ip: parseIpv4(n.ip)! }))
    .sort((a, b) => a.ip - b.ip)
    .map((x) => x.n);
}

/** FRR snippet for the router: a peer group for the cluster's nodes, filtered both ways. */
export function frrConfig(ctx: RenderContext, t: TorSession): string {
  const g = `INGOT-${ctx.spec.metadata.name.toUpperCase()}`;
  const lines = [
    `! Rendered by Ingot: BGP from router ${t.router.address} (AS ${t.router.asn}) to the nodes of cluster ${ctx.spec.metadata.name} (AS ${t.clusterAsn}).`,
    '!',
  ];
  for (const [i, p] of t.accept.entries()) {
    lines.push(
      `ip prefix-list ${g}-IN seq ${(i + 1) * 10} permit ${p}${prefixLen(p) === 32 ? '' : ' le 32'}`,
    );
  }
  if (t.accept.length === 0) lines.push(`ip prefix-list ${g}-IN seq 10 deny any`);
  lines.push(
    '!',
    `route-map ${g}-IN permit 10`,
    ` match ip address prefix-list ${g}-IN`,
    'exit',
    '!',
    `route-map ${g}-OUT deny 10`,
    'exit',
    '!',
  );
  lines.push(
    `router bgp ${t.router.asn}`,
    ` neighbor ${g} peer-group`,
    ` neighbor ${g} remote-as ${t.clusterAsn}`,
  );
  if (t.router.password) lines.push(` neighbor ${g} password ${secret(ctx, t.router.password.secret)}`);
  lines.push(` neighbor ${g} timers 3 9`);
  for (const n of t.nodes)
    lines.push(` neighbor ${n.ip} peer-group ${g}`, ` neighbor ${n.ip} description ${n.hostname}`);
  lines.push(
    ' !',
    ' address-family ipv4 unicast',
    `  neighbor ${g} activate`,
    `  neighbor ${g} route-map ${g}-IN in`,
    `  neighbor ${g} route-map ${g}-OUT out`,
    ' exit-address-family',
    'exit',
    '!',
    '',
  );
  return lines.join('\n');
}

/** BIRD 2 snippet: a template plus one protocol per node. */
export function birdConfig(ctx: RenderContext, t: TorSession): string {
  const base = `ingot_${ctx.spec.metadata.name.replace(/-/g, '_')}`;
  const nets = t.accept.map((p) => `${p}{${prefixLen(p)},32}`);
  const lines = [
    `# Rendered by Ingot: BGP from router ${t.router.address} (AS ${t.router.asn}) to the nodes of cluster ${ctx.spec.metadata.name} (AS ${t.clusterAsn}).`,
    '',
    `filter ${base}_in {`,
    ...(nets.length ? [`  if net ~ [ ${nets.join(', ')} ] then accept;`] : []),
    '  reject;',
    '}',
    '',
    `template bgp ${base} {`,
    `  local ${t.router.address} as ${t.router.asn};`,
    ...(t.router.password
      ? [`  password "${secret(ctx, t.router.password.secret).replace(/["\\]/g, '\\$&')}";`]
      : []),
    '  hold time 9;',
    '  ipv4 {',
    `    import filter ${base}_in;`,
    '    export none;',
    '  };',
    '}',
    '',
  ];
  for (const n of t.nodes) {
    lines.push(
      `protocol bgp ${base}_${n.ip.replaceAll('.', '_')} from ${base} {`,
      `  description "${n.hostname}";`,
      `  neighbor ${n.ip} as ${t.clusterAsn};`,
      '}',
      '',
    );
  }
  return lines.join('\n');
}
