/**
 * The Cluster file's network sections (schema.ts): the API endpoint (kube-vip or an external
 * load balancer) and the node and pod networking (CIDRs, bond, VLANs, CNI, MetalLB).
 */
import { asn, bgpPeer, bool, dnsLabel, int, list, obj, type Schema, str } from './schema-parts.ts';

export const endpoint: Schema = obj(
  {
    address: str({ description: 'API VIP (kube-vip) or the external load balancer address' }),
    port: int({ minimum: 1, maximum: 65535, default: 6443 }),
    mode: { enum: ['kube-vip', 'external'], default: 'kube-vip' },
    kubeVip: obj(
      {
        mode: { enum: ['arp', 'bgp'], default: 'arp' },
        bgp: obj({ asn, peers: list(bgpPeer, { minItems: 1 }) }, { required: ['asn', 'peers'] }),
      },
      { default: {} },
    ),
    externalLoadBalancer: obj(
      {
        render: bool(false, 'Render HAProxy + keepalived for the load-balancer hosts'),
        interface: str({ default: 'eth0' }),
        virtualRouterId: int({ minimum: 1, maximum: 255, default: 51 }),
        hosts: list(dnsLabel, { description: 'Load-balancer host names (keepalived peers)' }),
      },
      { default: {} },
    ),
    certSANs: list(str()),
  },
  { required: ['address'] },
);

export const networking: Schema = obj(
  {
    podCIDR: str({ default: '10.244.0.0/16' }),
    serviceCIDR: str({ default: '10.96.0.0/12' }),
    podCIDRv6: str(),
    serviceCIDRv6: str(),
    clusterDomain: str({ default: 'cluster.local' }),
    nodeSubnets: list(obj({ subnet: str(), racks: list(str()) }, { required: ['subnet'] })),
    bond: obj({
      name: str({ default: 'bond0', pattern: '^[a-z][a-z0-9]{0,9}$' }),
      members: list(str(), { description: 'NIC names; empty bonds every NIC' }),
      mtu: int({ minimum: 1280, maximum: 9216, default: 1500 }),
      mode: {
        enum: ['802.3ad', 'active-backup'],
        default: '802.3ad',
        description: 'LACP (the switch ports form a LAG) or active-backup (no switch support needed)',
      },
    }),
    vlans: list(
      obj(
        {
          id: int({ minimum: 1, maximum: 4094 }),
          node: bool(false, 'Node addresses live on this VLAN'),
        },
        { required: ['id'] },
      ),
    ),
    cni: obj(
      {
        plugin: { enum: ['cilium', 'calico', 'bridge'], default: 'cilium' },
        bgp: obj(
          {
            asn,
            peers: list(bgpPeer, { minItems: 1 }),
            advertisePodCIDRs: bool(true),
          },
          { required: ['asn', 'peers'] },
        ),
      },
      { default: {} },
    ),
    metallb: obj(
      {
        pools: list(
          obj(
            {
              name: dnsLabel,
              addresses: list(str(), { minItems: 1 }),
              advertisement: { enum: ['l2', 'bgp'], default: 'l2' },
            },
            { required: ['name', 'addresses'] },
          ),
          { minItems: 1 },
        ),
        bgp: obj({ asn, peers: list(bgpPeer, { minItems: 1 }) }, { required: ['asn', 'peers'] }),
      },
      { required: ['pools'] },
    ),
  },
  { default: {} },
);
