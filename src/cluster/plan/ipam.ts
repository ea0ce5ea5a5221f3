import type { Subnet } from '../../core/subnet.ts';
import { formatIpv4, parseCidr, parseIpv4 } from '../../core/subnet.ts';
import { parseIpv4Span } from '../spec/cidr.ts';
import type { Problem } from '../spec/problems.ts';
import type { ClusterSpec } from '../spec/types.ts';

export interface Lease {
  readonly ip: string;
  readonly prefix: number;
  readonly subnet: Subnet;
}

/**
 * Static node addresses from the inventory's subnets. A node takes the lowest free address of
 * its subnet outside the subnet's DHCP and reserved ranges, the gateway, the API address and
 * the MetalLB pools, so DHCP never hands out a node's address.
 */
export class NodeIpam {
  readonly #spec: ClusterSpec;
  readonly #subnets: readonly Subnet[];
  readonly #next = new Map<string, number>();
  readonly #blocked: { first: number; last: number }[] = [];

  constructor(spec: ClusterSpec, subnets: readonly Subnet[]) {
    this.#spec = spec;
    this.#subnets = subnets;
    const vip = parseIpv4(spec.spec.endpoint.address);
    if (vip !== null) this.#blocked.push({ first: vip, last: vip });
    for (const p of spec.spec.networking.metallb?.pools ?? []) {
      for (const a of p.addresses) {
        const s = parseIpv4Span(a);
        if (typeof s !== 'string') this.#blocked.push(s);
      }
    }
    for (const s of subnets) {
      for (const r of s.ranges) this.#blocked.push({ first: parseIpv4(r.start)!, last: parseIpv4(r.end)! });
      if (s.gateway) this.#blocked.push({ first: parseIpv4(s.gateway)!, last: parseIpv4(s.gateway)! });
    }
    this.#blocked.sort((a, b) => a.first - b.first);
  }

  /** The subnet serving a rack, or a problem naming what to configure. */
  subnetFor(rack: string): Subnet | Problem {
    const refs = this.#spec.spec.networking.nodeSubnets;
    const path = 'spec.networking.nodeSubnets';
    if (refs.length === 0) {
      if (this.#subnets.length === 1) return this.#subnets[0];
      return {
        path,
        message: `the inventory has ${this.#subnets.length} subnets (${this.#subnets.map((s) => s.name).join(', ') || 'none'}); name the one(s) node addresses come from`,
      };
    }
    const ref = refs.find((r) => r.racks.includes(rack)) ?? refs.find((r) => r.racks.length === 0);
    if (!ref)
      return {
        path,
        message: `no entry serves rack "${rack}"; add it to an entry's racks or add an entry without racks`,
      };
    const s = this.#subnets.find((x) => x.name === ref.subnet);
    return s ?? { path, message: `subnet "${ref.subnet}" is not in the inventory` };
  }

  allocate(subnet: Subnet): Lease | null {
    const c = parseCidr(subnet.cidr);
    let ip = this.#next.get(subnet.name) ?? c.first + 1;
    while (ip < c.last) {
      const hit = this.#blocked.find((b) => ip >= b.first && ip <= b.last);
      if (!hit) {
        this.#next.set(subnet.name, ip + 1);
        return { ip: formatIpv4(ip), prefix: c.prefix, subnet };
      }
      ip = hit.last + 1;
    }
    this.#next.set(subnet.name, c.last);
    return null;
  }
}
