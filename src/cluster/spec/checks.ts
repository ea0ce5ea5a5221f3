import { parseCron } from '../../core/cron.ts';
import { parseIpv4 } from '../../core/subnet.ts';
import { type AnyCidr, overlaps, parseAnyCidr, parseIpv4Span } from './cidr.ts';
import type { Problem } from './problems.ts';
import type { BgpPeer, ClusterSpec } from './types.ts';

/**
 * Oldest Kubernetes minor Ingot renders for: 1.20, the release Ingot builds from Debian's source
 * and runs in its test bed (docs/kubernetes.md). kubeadm config is v1beta2 below 1.22.
 */
export const MIN_MINOR = 20;

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Cross-field rules the schema cannot express. Returns every problem; never throws. */
export function checkCluster(c: ClusterSpec): Problem[] {
  const out: Problem[] = [];
  const add = (path: string, message: string) => out.push({ path, message });
  const s = c.spec;
  const minor = Number(s.version.split('.')[1]);
  if (minor < MIN_MINOR) add('spec.version', `${s.version} is too old; use v1.${MIN_MINOR}.0 or newer`);

  checkCidrs(c, add);
  checkEndpoint(c, add);
  checkBgp(c, add);
  checkMetallb(c, add);
  checkPackages(c, add);

  const names = new Set<string>();
  s.workers.forEach((w, i) => {
    if (names.has(w.name))
      add(`spec.workers[${i}].name`, `"${w.name}" is used by another pool; pool names must be unique`);
    names.add(w.name);
  });
  const rackOwner = new Map<string, number>();
  s.networking.nodeSubnets.forEach((n, i) => {
    for (const r of n.racks) {
      const prev = rackOwner.get(r);
      if (prev !== undefined)
        add(
          `spec.networking.nodeSubnets[${i}].racks`,
          `rack "${r}" is already served by nodeSubnets[${prev}]`,
        );
      rackOwner.set(r, i);
    }
  });
  const ids = new Set<number>();
  s.networking.vlans.forEach((v, i) => {
    if (ids.has(v.id)) add(`spec.networking.vlans[${i}].id`, `VLAN ${v.id} is listed twice`);
    ids.add(v.id);
  });
  if (s.networking.vlans.filter((v) => v.node).length > 1) {
    add('spec.networking.vlans', 'only one VLAN can carry node addresses (node: true)');
  }
  if (s.storage.provider === 'rook-ceph') {
    try {
      new RegExp(s.storage.rookCeph.deviceFilter);
    } catch {
      add('spec.storage.rookCeph.deviceFilter', 'is not a valid regular expression');
    }
  }
  const b = s.backups.etcd;
  if (b) {
    try {
      parseCron(b.schedule, 'spec.backups.etcd.schedule');
    } catch (e) {
      add('spec.backups.etcd.schedule', (e as Error).message.replace(/^spec\.backups\.etcd\.schedule: /, ''));
    }
  }
  if (b?.target === 'region-s3' && !b.regionS3)
    add(
      'spec.backups.etcd.regionS3',
      'is required with target: region-s3 (endpoint, bucket, accessKey, secretKey)',
    );
  if (b?.regionS3 && b.target !== 'region-s3')
    add('spec.backups.etcd.target', 'must be region-s3 when regionS3 is given');
  if (b?.target === 'region-s3' && b.s3)
    add(
      'spec.backups.etcd.s3',
      'is the in-cluster CronJob’s upload; with target: region-s3 the region uploads: give one of them',
    );
  if (b?.regionS3 && !/^https?:\/\/[^\s/]+\/?$/.test(b.regionS3.endpoint))
    add(
      'spec.backups.etcd.regionS3.endpoint',
      `"${b.regionS3.endpoint}" is not an http(s)://host[:port] URL`,
    );
  if (b?.s3 && !/^https?:\/\/[^\s/]+/.test(b.s3.endpoint) && !DNS_NAME.test(b.s3.endpoint.split(':')[0])) {
    add('spec.backups.etcd.s3.endpoint', `"${b.s3.endpoint}" is not a host name or URL`);
  }
  if (s.gitops.provider !== 'none' && !/^(https:\/\/|ssh:\/\/|git@)/.test(s.gitops.repository)) {
    add(
      'spec.gitops.repository',
      'must be an https://, ssh:// or git@ repository URL when gitops.provider is set',
    );
  }
  s.security.firewall.sshSources.forEach((src, i) => {
    const p = parseAnyCidr(src);
    if (typeof p === 'string') add(`spec.security.firewall.sshSources[${i}]`, p);
  });
  for (const ns of Object.keys(s.security.podSecurity.namespaces)) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns))
      add(`spec.security.podSecurity.namespaces.${ns}`, 'is not a namespace name');
  }
  return out;
}

type Add = (path: string, message: string) => void;

function cidr(path: string, text: string | undefined, family: 4 | 6, add: Add): AnyCidr | undefined {
  if (text === undefined) return undefined;
  const c = parseAnyCidr(text);
  if (typeof c === 'string') return void add(path, c);
  if (c.family !== family) return void add(path, `"${text}" must be an IPv${family} CIDR`);
  return c;
}

function checkCidrs(c: ClusterSpec, add: Add): void {
  const n = c.spec.networking;
  const p = 'spec.networking';
  const pod = cidr(`${p}.podCIDR`, n.podCIDR, 4, add);
  const svc = cidr(`${p}.serviceCIDR`, n.serviceCIDR, 4, add);
  const pod6 = cidr(`${p}.podCIDRv6`, n.podCIDRv6, 6, add);
  const svc6 = cidr(`${p}.serviceCIDRv6`, n.serviceCIDRv6, 6, add);
  if (pod && svc && overlaps(pod, svc))
    add(`${p}.podCIDR`, `overlaps ${p}.serviceCIDR ${svc.text}; pick disjoint blocks`);
  if (pod6 && svc6 && overlaps(pod6, svc6)) add(`${p}.podCIDRv6`, `overlaps ${p}.serviceCIDRv6 ${svc6.text}`);
  if (pod && pod.prefix > 24)
    add(`${p}.podCIDR`, `/${pod.prefix} is too small: each node takes a /24; use /24 or larger`);
  if (svc && svc.prefix < 12)
    add(`${p}.serviceCIDR`, `/${svc.prefix} is too large: Kubernetes allows at most a /12`);
  if (svc6 && svc6.prefix < 108)
    add(`${p}.serviceCIDRv6`, `/${svc6.prefix} is too large: Kubernetes allows at most a /108`);
  if (pod6 && pod6.prefix > 64) add(`${p}.podCIDRv6`, `/${pod6.prefix} is too small: each node takes a /64`);
  if ((n.podCIDRv6 === undefined) !== (n.serviceCIDRv6 === undefined)) {
    add(
      `${p}.${n.podCIDRv6 === undefined ? 'podCIDRv6' : 'serviceCIDRv6'}`,
      'dual-stack needs both podCIDRv6 and serviceCIDRv6',
    );
  }
}

function checkEndpoint(c: ClusterSpec, add: Add): void {
  const e = c.spec.endpoint;
  const vip = parseIpv4(e.address);
  if (vip === null) add('spec.endpoint.address', `"${e.address}" is not an IPv4 address`);
  for (const [name, text] of [
    ['podCIDR', c.spec.networking.podCIDR],
    ['serviceCIDR', c.spec.networking.serviceCIDR],
  ]) {
    const k = parseAnyCidr(text);
    if (
      vip !== null &&
      typeof k !== 'string' &&
      k.family === 4 &&
      BigInt(vip) >= k.first &&
      BigInt(vip) <= k.last
    ) {
      add(
        'spec.endpoint.address',
        `${e.address} is inside spec.networking.${name} ${text}; use an address on the node network`,
      );
    }
  }
  e.certSANs.forEach((san, i) => {
    if (parseIpv4(san) === null && !DNS_NAME.test(san))
      add(`spec.endpoint.certSANs[${i}]`, `"${san}" is neither an IPv4 address nor a DNS name`);
  });
  if (e.mode === 'external' && e.externalLoadBalancer.render && e.externalLoadBalancer.hosts.length < 2) {
    add(
      'spec.endpoint.externalLoadBalancer.hosts',
      'list at least 2 load-balancer hosts so keepalived can fail over',
    );
  }
  if (e.mode === 'kube-vip' && e.kubeVip.mode === 'bgp' && !e.kubeVip.bgp) {
    add('spec.endpoint.kubeVip.bgp', 'is required when kubeVip.mode is bgp: give the asn and the peers');
  }
}

function checkPeers(path: string, peers: readonly BgpPeer[], add: Add): void {
  peers.forEach((peer, i) => {
    if (parseIpv4(peer.address) === null)
      add(`${path}[${i}].address`, `"${peer.address}" is not an IPv4 address`);
  });
}

function checkBgp(c: ClusterSpec, add: Add): void {
  const n = c.spec.networking;
  const speakers: string[] = [];
  if (n.cni.bgp) {
    checkPeers('spec.networking.cni.bgp.peers', n.cni.bgp.peers, add);
    speakers.push('spec.networking.cni.bgp');
  }
  if (n.metallb?.bgp) {
    checkPeers('spec.networking.metallb.bgp.peers', n.metallb.bgp.peers, add);
    speakers.push('spec.networking.metallb.bgp');
  }
  const kv = c.spec.endpoint.kubeVip;
  if (c.spec.endpoint.mode === 'kube-vip' && kv.mode === 'bgp' && kv.bgp) {
    checkPeers('spec.endpoint.kubeVip.bgp.peers', kv.bgp.peers, add);
    speakers.push('spec.endpoint.kubeVip.bgp');
  }
  // Two BGP speakers on one node both open sessions from the node address to the same ToR
  // router, which accepts only one of them; pick one speaker per node.
  if (speakers.length > 1) {
    add(
      speakers[1],
      `conflicts with ${speakers[0]}: both speak BGP from the same nodes to the routers; keep one (e.g. advertise LoadBalancer IPs through the CNI, or use L2 for the other)`,
    );
  }
}

function checkMetallb(c: ClusterSpec, add: Add): void {
  const m = c.spec.networking.metallb;
  if (!m) return;
  const spans: { first: number; last: number; path: string }[] = [];
  const vip = parseIpv4(c.spec.endpoint.address);
  const blocks = [c.spec.networking.podCIDR, c.spec.networking.serviceCIDR].map((t) => parseAnyCidr(t));
  m.pools.forEach((pool, i) => {
    if (pool.advertisement === 'bgp' && !m.bgp) {
      add(
        `spec.networking.metallb.pools[${i}].advertisement`,
        'is bgp but spec.networking.metallb.bgp (asn, peers) is missing',
      );
    }
    pool.addresses.forEach((a, j) => {
      const path = `spec.networking.metallb.pools[${i}].addresses[${j}]`;
      const s = parseIpv4Span(a);
      if (typeof s === 'string') {
        add(path, s);
        return;
      }
      for (const o of spans) if (s.first <= o.last && o.first <= s.last) add(path, `overlaps ${o.path}`);
      if (vip !== null && vip >= s.first && vip <= s.last)
        add(path, `contains the API address ${c.spec.endpoint.address}`);
      for (const b of blocks) {
        if (typeof b !== 'string' && BigInt(s.first) <= b.last && b.first <= BigInt(s.last))
          add(path, `overlaps ${b.text}, a pod or service CIDR`);
      }
      spans.push({ ...s, path });
    });
  });
}

/** pkgs.k8s.io starts at Kubernetes 1.24; bundles carry kubeadm Kubernetes only. */
export const MIN_UPSTREAM_PACKAGES_MINOR = 24;

function checkPackages(c: ClusterSpec, add: (path: string, message: string) => void): void {
  const p = c.spec.packages;
  const minor = Number(c.spec.version.split('.')[1]);
  if (c.spec.networking.cni.plugin === 'bridge' && c.spec.distribution !== 'kubeadm')
    add(
      'spec.networking.cni.plugin',
      `bridge is for kubeadm clusters; ${c.spec.distribution} brings its own CNI: pick cilium or calico`,
    );
  if (p.source !== 'preinstalled' && c.spec.distribution !== 'kubeadm')
    add(
      'spec.packages.source',
      `${p.source} is for kubeadm clusters; ${c.spec.distribution} installs from its own release with its install script`,
    );
  if (p.source === 'upstream' && minor < MIN_UPSTREAM_PACKAGES_MINOR)
    add(
      'spec.packages.source',
      `pkgs.k8s.io has Kubernetes 1.${MIN_UPSTREAM_PACKAGES_MINOR} and newer, not ${c.spec.version}; use source: bundle`,
    );
  if (p.bundle !== undefined && p.source !== 'bundle')
    add('spec.packages.bundle', `is only used with source: bundle (source is ${p.source})`);
}
