import { type RenderContext, secret } from '../context.ts';
import { CHARTS } from '../versions.ts';
import { helmChart, type K8sObject, peerName, secretObject } from './helm.ts';

const NS = CHARTS.metallb.namespace;

/** MetalLB chart, address pools, and their L2 / BGP advertisements and peers. */
export function metallbManifests(ctx: RenderContext): K8sObject[] {
  const m = ctx.spec.spec.networking.metallb;
  if (!m) return [];
  const out: K8sObject[] = [
    helmChart('metallb', CHARTS.metallb, { speaker: { frr: { enabled: Boolean(m.bgp) } } }),
  ];
  for (const p of m.pools) {
    out.push({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: p.name, namespace: NS },
      spec: { addresses: [...p.addresses], autoAssign: true },
    });
  }
  const l2 = m.pools.filter((p) => p.advertisement === 'l2').map((p) => p.name);
  const bgp = m.pools.filter((p) => p.advertisement === 'bgp').map((p) => p.name);
  if (l2.length)
    out.push({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'L2Advertisement',
      metadata: { name: 'ingot-l2', namespace: NS },
      spec: { ipAddressPools: l2 },
    });
  if (bgp.length)
    out.push({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'BGPAdvertisement',
      metadata: { name: 'ingot-bgp', namespace: NS },
      spec: { ipAddressPools: bgp, aggregationLength: 32 },
    });
  for (const peer of [...(m.bgp?.peers ?? [])].sort((a, b) => (a.address < b.address ? -1 : 1))) {
    const name = peerName(peer.address);
    if (peer.password)
      out.push(
        secretObject(
          `bgp-${name}`,
          NS,
          { password: secret(ctx, peer.password.secret) },
          'kubernetes.io/basic-auth',
        ),
      );
    out.push({
      apiVersion: 'metallb.io/v1beta2',
      kind: 'BGPPeer',
      metadata: { name, namespace: NS },
      spec: {
        myASN: m.bgp!.asn,
        peerASN: peer.asn,
        peerAddress: peer.address,
        ...(peer.password ? { passwordSecret: { name: `bgp-${name}`, namespace: NS } } : {}),
        ...(peer.racks.length
          ? {
              nodeSelectors: [
                { matchExpressions: [{ key: 'ingot.dev/rack', operator: 'In', values: [...peer.racks] }] },
              ],
            }
          : {}),
      },
    });
  }
  return out;
}
