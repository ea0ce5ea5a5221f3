import { invalid } from './errors.ts';

/** DHCP behaviour on a subnet (served by src/netboot). */
export const DhcpMode = { Full: 'full', Proxy: 'proxy', Off: 'off' } as const;
export type DhcpMode = (typeof DhcpMode)[keyof typeof DhcpMode];
export const DHCP_MODES: readonly DhcpMode[] = Object.values(DhcpMode);

export const RangeKind = { Dynamic: 'dynamic', Reserved: 'reserved' } as const;
export type RangeKind = (typeof RangeKind)[keyof typeof RangeKind];
export const RANGE_KINDS: readonly RangeKind[] = Object.values(RangeKind);

/** How an address was handed out: assigned by an operator, or leased by the rack's DHCP. */
export const AllocationKind = { Static: 'static', Dhcp: 'dhcp' } as const;
export type AllocationKind = (typeof AllocationKind)[keyof typeof AllocationKind];
export const ALLOCATION_KINDS: readonly AllocationKind[] = Object.values(AllocationKind);

export interface IpRange {
  readonly kind: RangeKind;
  readonly start: string;
  readonly end: string;
  readonly comment?: string;
}

export interface Subnet {
  readonly id: string;
  readonly name: string;
  /** IPv4 CIDR, network address exact: `10.0.0.0/24`. */
  readonly cidr: string;
  readonly gateway: string | null;
  readonly dns: readonly string[];
  readonly vlan: number | null;
  readonly dhcpMode: DhcpMode;
  /** Enlist unknown MACs that network-boot on this subnet as `new` machines. */
  readonly autoEnlist: boolean;
  readonly ranges: readonly IpRange[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * `a.b.c.d` (each part 1–3 ASCII digits, at most 255) as a number; null otherwise. Read
 * character by character: a plan and its render parse every node's address several times.
 */
export function parseIpv4(ip: string): number | null {
  let n = 0;
  let at = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (ip.charCodeAt(at) !== 46) return null;
      at++;
    }
    let v = 0;
    const start = at;
    for (let c = ip.charCodeAt(at); c >= 48 && c <= 57 && at - start < 3; c = ip.charCodeAt(++at))
      v = v * 10 + c - 48;
    if (at === start || v > 255) return null;
    n = n * 256 + v;
  }
  return at === ip.length ? n : null;
}

export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface Cidr {
  readonly network: number;
  readonly prefix: number;
  /** First and last address of the block (network and broadcast). */
  readonly first: number;
  readonly last: number;
}

/** Parses `a.b.c.d/p`; throws a validation error naming `field` when it is not an exact IPv4 network. */
export function parseCidr(cidr: string, field = 'cidr'): Cidr {
  const [ip, p, ...rest] = cidr.split('/');
  const addr = parseIpv4(ip ?? '');
  const prefix = Number(p);
  if (
    addr === null ||
    rest.length > 0 ||
    p === undefined ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > 32
  ) {
    throw invalid(field, `"${cidr}" is not an IPv4 CIDR; write it like 10.0.0.0/24`);
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (addr & mask) >>> 0;
  if (network !== addr) {
    throw invalid(field, `"${cidr}" has host bits set; the network is ${formatIpv4(network)}/${prefix}`);
  }
  return { network, prefix, first: network, last: (network | (~mask >>> 0)) >>> 0 };
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.first && ip <= c.last;
}

/**
 * Checks a subnet definition: ranges inside the CIDR, start ≤ end, no two ranges overlapping,
 * gateway inside the CIDR and outside dynamic ranges. Throws the first problem, naming its field.
 */
export function validateSubnetShape(s: {
  cidr: string;
  gateway?: string | null;
  ranges?: readonly IpRange[];
}): void {
  const c = parseCidr(s.cidr);
  if (s.gateway) {
    const g = parseIpv4(s.gateway);
    if (g === null) throw invalid('gateway', `"${s.gateway}" is not an IPv4 address`);
    if (!cidrContains(c, g)) throw invalid('gateway', `${s.gateway} is outside ${s.cidr}`);
  }
  const spans: { start: number; end: number; i: number }[] = [];
  (s.ranges ?? []).forEach((r, i) => {
    const start = parseIpv4(r.start);
    const end = parseIpv4(r.end);
    if (start === null) throw invalid(`ranges[${i}].start`, `"${r.start}" is not an IPv4 address`);
    if (end === null) throw invalid(`ranges[${i}].end`, `"${r.end}" is not an IPv4 address`);
    if (start > end) throw invalid(`ranges[${i}]`, `start ${r.start} is after end ${r.end}`);
    if (!cidrContains(c, start) || !cidrContains(c, end)) {
      throw invalid(`ranges[${i}]`, `${r.start}-${r.end} is not inside ${s.cidr}`);
    }
    for (const o of spans) {
      if (start <= o.end && o.start <= end) throw invalid(`ranges[${i}]`, `overlaps ranges[${o.i}]`);
    }
    if (s.gateway && r.kind === 'dynamic') {
      const g = parseIpv4(s.gateway)!;
      if (g >= start && g <= end)
        throw invalid(`ranges[${i}]`, `dynamic range contains the gateway ${s.gateway}`);
    }
    spans.push({ start, end, i });
  });
}
