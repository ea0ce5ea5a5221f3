/**
 * The test bed's topologies and addresses. Every node is a network + mount + UTS namespace on
 * one private bridge; the bridge lives in the bed's hub namespace, which also runs the API's
 * load balancer (Debian's haproxy) on its own address. Pure: no I/O.
 */
import { invalid } from '../../core/errors.ts';

/**
 * `1+2`: a third node, e.g. a spare machine a cluster scales onto (test/cluster-scale.test.ts);
 * `3+0`: three control planes and no worker, for a region's own HA create (test/cluster-cp-bed.test.ts).
 */
export const TOPOLOGIES = ['1+1', '1+2', '3+0', 'ha'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export interface BedLayout {
  readonly name: string;
  readonly topology: Topology;
  readonly controlPlanes: number;
  readonly workers: number;
  /** The bridge's subnet; the hub takes .1 (the nodes' gateway), the API endpoint .100. */
  readonly cidr: string;
  readonly gateway: string;
  readonly endpoint: string;
  readonly hubNs: string;
  /** Pods: one /24 per node from this /16, routed between nodes (Debian's CNI bridge plugin). */
  readonly podCidr: string;
  readonly serviceCidr: string;
}

const NAME = /^[a-z][a-z0-9]{0,7}$/;

export function bedLayout(name: string, topology: string): BedLayout {
  if (!NAME.test(name))
    throw invalid('name', 'must be 1-8 lower-case letters or digits, starting with a letter');
  if (!(TOPOLOGIES as readonly string[]).includes(topology))
    throw invalid('topology', `must be one of ${TOPOLOGIES.join(', ')}`);
  const t = topology as Topology;
  return {
    name,
    topology: t,
    controlPlanes: t === 'ha' || t === '3+0' ? 3 : 1,
    workers: t === '3+0' ? 0 : t === '1+1' ? 1 : 2,
    cidr: '10.78.0.0/24',
    gateway: '10.78.0.1',
    endpoint: '10.78.0.100',
    hubNs: `itb-${name}-hub`,
    podCidr: '10.244.0.0/16',
    serviceCidr: '10.96.0.0/12',
  };
}

/** A node's namespace name (`itb-<bed>-<node>`), also its cgroup root below each hierarchy. */
export const nodeNs = (bed: BedLayout, node: string): string => `itb-${bed.name}-${node}`;

/** The pod subnet of the i-th node: 10.244.<i+1>.0/24. */
export function nodePodCidr(bed: BedLayout, i: number): string {
  const [a, b] = bed.podCidr.split('.');
  return `${a}.${b}.${i + 1}.0/24`;
}

/** The MAC of the i-th node's eth0 (the inventory's, and the machine a region enrols). */
export const nodeMac = (i: number): string => `52:54:00:78:00:${(i + 2).toString(16).padStart(2, '0')}`;
