import { parseIpv4 } from '../../core/subnet.ts';

/** An IPv4 or IPv6 block as a closed interval of BigInts, so both families share one overlap test. */
export interface AnyCidr {
  readonly family: 4 | 6;
  readonly prefix: number;
  readonly first: bigint;
  readonly last: bigint;
  readonly text: string;
}

/** Parses an IPv6 address (with `::` compression, no zone) to a BigInt, or null. */
export function parseIpv6(ip: string): bigint | null {
  if (!/^[0-9a-fA-F:]+$/.test(ip) || ip.split('::').length > 2) return null;
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...h, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...t];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return n;
}

/** Parses `a.b.c.d/p` or `x::/p`; returns an error text (no field) when it is not an exact network. */
export function parseAnyCidr(text: string): AnyCidr | string {
  const [ip, p, ...rest] = text.split('/');
  const prefix = Number(p);
  if (rest.length > 0 || p === undefined || !/^\d+$/.test(p))
    return `"${text}" is not a CIDR; write it like 10.0.0.0/16`;
  const v4 = parseIpv4(ip);
  const family = v4 === null ? 6 : 4;
  const bits = family === 4 ? 32 : 128;
  const addr = v4 === null ? parseIpv6(ip) : BigInt(v4);
  if (addr === null) return `"${text}" is not a CIDR; write it like 10.0.0.0/16 or fd00::/56`;
  if (prefix > bits) return `"${text}" has a prefix longer than /${bits}`;
  const size = 1n << BigInt(bits - prefix);
  const first = (addr / size) * size;
  if (first !== addr)
    return `"${text}" has host bits set; did you mean ${formatAny(first, family)}/${prefix}?`;
  return { family, prefix, first, last: first + size - 1n, text };
}

export function formatAny(n: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((n >> s) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function overlaps(a: AnyCidr, b: AnyCidr): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** An IPv4 span given as a CIDR or as `start-end`; used for MetalLB pools. */
export function parseIpv4Span(text: string): { first: number; last: number } | string {
  if (text.includes('-')) {
    const [a, b] = text.split('-').map((s) => parseIpv4(s.trim()));
    if (a === null || b === null || a === undefined || b === undefined) {
      return `"${text}" is not an address range; write it like 10.0.10.10-10.0.10.20`;
    }
    if (a > b) return `"${text}" starts after it ends`;
    return { first: a, last: b };
  }
  const c = parseAnyCidr(text);
  if (typeof c === 'string') return c;
  if (c.family !== 4) return `"${text}": only IPv4 pools are supported`;
  return { first: Number(c.first), last: Number(c.last) };
}
