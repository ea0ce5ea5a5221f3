import type { BgpPeer } from '../../spec/types.ts';
import { type RenderContext, secret } from '../context.ts';
import { CHARTS } from '../versions.ts';
import { helmChart, helmChartConfig, isRke2, type K8sObject, peerName, secretObject } from './helm.ts';

const RACK = 'ingot.dev/rack';

/** Peers grouped by the rack set they serve, so each group gets one node selector. */
function groups(peers: readonly BgpPeer[]): { racks: readonly string[]; peers: BgpPeer[] }[] {
  const by = new Map<string, { racks: readonly string[]; peers: BgpPeer[] }>();
  for (const p of peers) {
    const key = [...p.racks].sort().join(',');
    const g = by.get(key) ?? { racks: [...p.racks].sort(), peers: [] };
    g.peers.push(p);
    by.set(key, g);
  }
  return [...by.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, g]) => g);
}

function ciliumValues(ctx: RenderContext): Record<string, unknown> {
  const s = ctx.spec.spec;
  const n = s.networking;
  return {
    kubeProxyReplacement: true,
    k8sServiceHost: s.endpoint.address,
    k8sServicePort: s.endpoint.port,
    ipam: {
      mode: 'cluster-pool',
      operator: {
        clusterPoolIPv4PodCIDRList: [n.podCIDR],
        ...(n.podCIDRv6 ? { clusterPoolIPv6PodCIDRList: [n.podCIDRv6] } : {}),
      },
    },
    ipv6: { enabled: Boolean(n.podCIDRv6) },
    bgpControlPlane: {
      enabled: Boolean(n.cni.bgp),
      secretsNamespace: { name: 'kube-system', create: false },
    },
    hubble: { relay: { enabled: true } },
    operator: { replicas: Math.min(2, ctx.plan.nodes.length) },
  };
}

function ciliumBgp(ctx: RenderContext): K8sObject[] {
  const bgp = ctx.spec.spec.networking.cni.bgp;
  if (!bgp) return [];
  const out: K8sObject[] = [];
  groups(bgp.peers).forEach((g, i) => {
    out.push({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumBGPClusterConfig',
      metadata: { name: `ingot-${i}` },
      spec: {
        nodeSelector: g.racks.length
          ? { matchExpressions: [{ key: RACK, operator: 'In', values: [...g.racks] }] }
          : {},
        bgpInstances: [
          {
            name: `asn-${bgp.asn}`,
            localASN: bgp.asn,
            peers: g.peers.map((p) => ({
              name: peerName(p.address),
              peerASN: p.asn,
              peerAddress: p.address,
              peerConfigRef: { name: peerName(p.address) },
            })),
          },
        ],
      },
    });
  });
  for (const p of [...bgp.peers].sort((a, b) => (a.address < b.address ? -1 : 1))) {
    if (p.password)
      out.push(
        secretObject(`bgp-${peerName(p.address)}`, 'kube-system', {
          password: secret(ctx, p.password.secret),
        }),
      );
    out.push({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumBGPPeerConfig',
      metadata: { name: peerName(p.address) },
      spec: {
        ...(p.password ? { authSecretRef: `bgp-${peerName(p.address)}` } : {}),
        gracefulRestart: { enabled: true, restartTimeSeconds: 120 },
        families: [
          { afi: 'ipv4', safi: 'unicast', advertisements: { matchLabels: { 'ingot.dev/advertise': 'bgp' } } },
        ],
      },
    });
  }
  const adverts: Record<string, unknown>[] = [];
  if (bgp.advertisePodCIDRs) adverts.push({ advertisementType: 'PodCIDR' });
  adverts.push({
    advertisementType: 'Service',
    service: { addresses: ['LoadBalancerIP'] },
    selector: { matchExpressions: [{ key: 'ingot.dev/no-bgp', operator: 'DoesNotExist' }] },
  });
  out.push({
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumBGPAdvertisement',
    metadata: { name: 'ingot', labels: { 'ingot.dev/advertise': 'bgp' } },
    spec: { advertisements: adverts },
  });
  return out;
}

function calicoInstallation(ctx: RenderContext): Record<string, unknown> {
  const n = ctx.spec.spec.networking;
  const bgp = Boolean(n.cni.bgp);
  const pools = [
    {
      cidr: n.podCIDR,
      encapsulation: bgp ? 'None' : 'VXLANCrossSubnet',
      natOutgoing: 'Enabled',
      nodeSelector: 'all()',
      blockSize: 26,
    },
  ];
  if (n.podCIDRv6)
    pools.push({
      cidr: n.podCIDRv6,
      encapsulation: 'None',
      natOutgoing: 'Enabled',
      nodeSelector: 'all()',
      blockSize: 122,
    });
  return { calicoNetwork: { bgp: bgp ? 'Enabled' : 'Disabled', ipPools: pools }, kubernetesProvider: '' };
}

function calicoBgp(ctx: RenderContext): K8sObject[] {
  const bgp = ctx.spec.spec.networking.cni.bgp;
  if (!bgp) return [];
  const out: K8sObject[] = [
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPConfiguration',
      metadata: { name: 'default' },
      spec: {
        asNumber: bgp.asn,
        nodeToNodeMeshEnabled: false,
        logSeverityScreen: 'Info',
        serviceLoadBalancerIPs: (ctx.spec.spec.networking.metallb?.pools ?? []).flatMap((p) =>
          p.addresses.filter((a) => a.includes('/')).map((cidr) => ({ cidr })),
        ),
      },
    },
  ];
  const secrets = bgp.peers.filter((p) => p.password);
  if (secrets.length) {
    out.push(
      secretObject(
        'bgp-passwords',
        'calico-system',
        Object.fromEntries(secrets.map((p) => [peerName(p.address), secret(ctx, p.password!.secret)])),
      ),
    );
    // calico-node reads BGP passwords from secrets it is explicitly allowed to get.
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'ingot-bgp-passwords', namespace: 'calico-system' },
      rules: [
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: ['bgp-passwords'],
          verbs: ['watch', 'list', 'get'],
        },
      ],
    });
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'ingot-bgp-passwords', namespace: 'calico-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ingot-bgp-passwords' },
      subjects: [{ kind: 'ServiceAccount', name: 'calico-node', namespace: 'calico-system' }],
    });
  }
  for (const p of [...bgp.peers].sort((a, b) => (a.address < b.address ? -1 : 1))) {
    out.push({
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPPeer',
      metadata: { name: peerName(p.address) },
      spec: {
        peerIP: p.address,
        asNumber: p.asn,
        ...(p.racks.length
          ? { nodeSelector: `${RACK} in { ${p.racks.map((r) => `'${r}'`).join(', ')} }` }
          : {}),
        ...(p.password
          ? { password: { secretKeyRef: { name: 'bgp-passwords', key: peerName(p.address) } } }
          : {}),
      },
    });
  }
  return out;
}

/** The CNI chart (or RKE2's own chart's overrides) and its BGP resources. */
export function cniManifests(ctx: RenderContext): K8sObject[] {
  const cni = ctx.spec.spec.networking.cni.plugin;
  if (cni === 'bridge') return []; // a file on each node (bridgeCniConfig), no chart
  if (cni === 'cilium') {
    const chart = isRke2(ctx)
      ? helmChartConfig('rke2-cilium', ciliumValues(ctx))
      : helmChart('cilium', CHARTS.cilium, ciliumValues(ctx), true);
    return [chart, ...ciliumBgp(ctx)];
  }
  const values = { installation: calicoInstallation(ctx), apiServer: { enabled: true } };
  const chart = isRke2(ctx)
    ? helmChartConfig('rke2-calico', values)
    : helmChart('tigera-operator', CHARTS.calico, values, true);
  return [chart, ...calicoBgp(ctx)];
}
