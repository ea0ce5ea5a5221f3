/** IPv4 arithmetic for the subnet view: range sizes and how full the dynamic ranges are. */
import type { IpAllocation, SubnetRange } from '../api/types.ts';

export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return Number.NaN;
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

export function rangeSize(r: Pick<SubnetRange, 'start' | 'end'>): number {
  const n = ipToInt(r.end) - ipToInt(r.start) + 1;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export function cidrSize(cidr: string): number {
  const bits = Number(cidr.split('/')[1]);
  return Number.isInteger(bits) && bits >= 0 && bits <= 32 ? 2 ** (32 - bits) : 0;
}

const inRange = (ip: string, r: Pick<SubnetRange, 'start' | 'end'>) => {
  const n = ipToInt(ip);
  return n >= ipToInt(r.start) && n <= ipToInt(r.end);
};

/** Addresses in use per range, and how many are outside every range. */
export function usage(
  ranges: SubnetRange[],
  addresses: IpAllocation[],
): { range: SubnetRange; used: number; size: number }[] {
  return ranges.map((range) => ({
    range,
    size: rangeSize(range),
    used: addresses.filter((a) => inRange(a.ip, range)).length,
  }));
}
