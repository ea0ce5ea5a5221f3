/**
 * The in-memory view of one subnet's addresses: who holds what, and the next free address.
 * It is a cache in front of the store's `ip_addresses` rows, loaded at start. The store stays
 * the arbiter: a lease is only ACKed after its row was committed with a guard that refuses
 * another MAC's live lease (see store/leases-sql.ts), so a stale cache can cost a NAK, never
 * a duplicate address.
 */
import { type Cidr, parseCidr, parseIpv4, type Subnet } from '../../core/subnet.ts';
import type { LeaseRow } from '../../store/store.ts';

export const LeaseState = {
  /** Offered, not committed: held in memory only (an OFFER promises nothing durable). */
  Offered: 'offered',
  /** Committed to the store. */
  Bound: 'bound',
  /** A static IPAM allocation (or another row we must not touch); bound to `mac` if any. */
  Static: 'static',
  /** Declined by a client (address conflict on the wire): quarantined until `until`. */
  Declined: 'declined',
} as const;
export type LeaseState = (typeof LeaseState)[keyof typeof LeaseState];

export interface Lease {
  ip: number;
  mac: string | null;
  machineId: string | null;
  state: LeaseState;
  /** Bound: lease end in ms (null = reservation of a known machine, never expires). Offered/declined: hold end. */
  until: number | null;
}

export class SubnetPool {
  readonly subnet: Subnet;
  readonly cidr: Cidr;
  readonly #ranges: [number, number][];
  readonly #excluded: Set<number>;
  readonly #byIp = new Map<number, Lease>();
  readonly #byMac = new Map<string, Lease>();
  readonly #byMachine = new Map<string, Lease>();
  readonly #rangeTotal: number;
  #rangeIdx = 0;
  #cursor: number;

  constructor(subnet: Subnet, exclude: readonly string[]) {
    this.subnet = subnet;
    this.cidr = parseCidr(subnet.cidr);
    this.#ranges = subnet.ranges
      .filter((r) => r.kind === 'dynamic')
      .map((r) => [parseIpv4(r.start)!, parseIpv4(r.end)!] as [number, number]);
    const ex = [subnet.gateway, ...exclude].map((x) => (x ? parseIpv4(x) : null));
    this.#excluded = new Set([this.cidr.first, this.cidr.last, ...ex.filter((x): x is number => x !== null)]);
    this.#cursor = this.#ranges[0]?.[0] ?? 0;
    this.#rangeTotal = this.#ranges.reduce((n, [s, e]) => n + (e - s + 1), 0);
  }

  /** Loads the store's rows. A dhcp row with neither expiry nor machine is an orphaned
   * reservation (its machine was deleted): it is loaded as expired so the address comes back. */
  load(rows: readonly LeaseRow[]): void {
    for (const r of rows) {
      const state = r.kind === 'dhcp' ? LeaseState.Bound : LeaseState.Static;
      const until = r.kind === 'dhcp' && r.expiresAt === null && r.machineId === null ? 0 : r.expiresAt;
      this.#set({ ip: r.ipNum, mac: r.mac, machineId: r.machineId, state, until });
    }
  }

  #set(l: Lease): void {
    const old = this.#byIp.get(l.ip);
    // The indexes `l` is about to take over are overwritten below, not deleted and added
    // again (a Map delete and insert of the same key costs twice an overwrite).
    if (old) this.#unlink(old, l);
    this.#byIp.set(l.ip, l);
    if (l.mac && l.state !== LeaseState.Declined) {
      const prev = this.#byMac.get(l.mac);
      // A MAC keeps one lease: a static allocation wins over a dynamic one.
      if (!prev || prev === old || prev.state !== LeaseState.Static || l.state === LeaseState.Static)
        this.#byMac.set(l.mac, l);
    }
    if (l.machineId) this.#byMachine.set(l.machineId, l);
  }

  /** Removes `l` from the indexes, but for those `next` (a lease of the same address) takes over. */
  #unlink(l: Lease, next?: Lease): void {
    if (this.#byIp.get(l.ip) === l && !next) this.#byIp.delete(l.ip);
    const macTaken = next !== undefined && next.mac === l.mac && next.state !== LeaseState.Declined;
    if (l.mac && !macTaken && this.#byMac.get(l.mac) === l) this.#byMac.delete(l.mac);
    const machineTaken = next !== undefined && next.machineId === l.machineId;
    if (l.machineId && !machineTaken && this.#byMachine.get(l.machineId) === l)
      this.#byMachine.delete(l.machineId);
  }

  inDynamicRange(ip: number): boolean {
    for (const [s, e] of this.#ranges) if (ip >= s && ip <= e) return true;
    return false;
  }

  get(ip: number): Lease | undefined {
    return this.#byIp.get(ip);
  }

  /** Whether `mac` may take `ip` now: free, its own, or someone's lapsed dynamic lease. */
  usableBy(ip: number, mac: string, now: number): boolean {
    if (this.#excluded.has(ip) || !this.inDynamicRange(ip)) {
      const l = this.#byIp.get(ip);
      return !!l && l.mac === mac; // a static allocation outside the ranges, made for this MAC
    }
    const l = this.#byIp.get(ip);
    if (!l) return true;
    if (l.mac === mac && l.state !== LeaseState.Declined) return true;
    return this.#reclaimable(l, now);
  }

  #reclaimable(l: Lease, now: number): boolean {
    if (l.state === LeaseState.Static) return false;
    if (l.state === LeaseState.Bound) return l.machineId === null && l.until !== null && l.until < now;
    return l.until !== null && l.until < now; // offers and quarantines lapse
  }

  /** The address a client holds or is reserved for (its MAC's lease, its machine's reservation). */
  current(mac: string, machineId: string | null, now: number): Lease | null {
    const l = this.#byMac.get(mac);
    if (l && (l.state !== LeaseState.Offered || (l.until ?? 0) >= now)) return l;
    if (machineId) {
      const r = this.#byMachine.get(machineId);
      if (r && r.state !== LeaseState.Declined) return r;
    }
    return l ?? null;
  }

  /** The next address for a new client: the requested one when usable, else the next free one. */
  pick(mac: string, requested: number | null, now: number): number | null {
    if (requested !== null && this.inDynamicRange(requested) && this.usableBy(requested, mac, now)) {
      return requested;
    }
    for (let seen = 0; seen < this.#rangeTotal; seen++) {
      const [s, e] = this.#ranges[this.#rangeIdx];
      const ip = this.#cursor;
      if (ip >= e) {
        this.#rangeIdx = (this.#rangeIdx + 1) % this.#ranges.length;
        this.#cursor = this.#ranges[this.#rangeIdx][0];
      } else this.#cursor = ip + 1;
      if (ip < s || ip > e) continue;
      if (!this.#excluded.has(ip) && this.usableBy(ip, mac, now)) return ip;
    }
    return null;
  }

  /** Holds `ip` for `mac` in memory for `holdMs` (an OFFER). */
  offer(ip: number, mac: string, machineId: string | null, holdMs: number, now: number): void {
    const cur = this.#byIp.get(ip);
    if (cur && cur.mac === mac && (cur.state === LeaseState.Bound || cur.state === LeaseState.Static)) return;
    const mine = this.#byMac.get(mac);
    if (mine && mine.ip !== ip && mine.state === LeaseState.Offered) this.#unlink(mine);
    this.#set({ ip, mac, machineId, state: LeaseState.Offered, until: now + holdMs });
  }

  /** Records a committed lease. */
  bound(ip: number, mac: string, machineId: string | null, until: number | null): void {
    const mine = this.#byMac.get(mac);
    if (mine && mine.ip !== ip && mine.state !== LeaseState.Static) this.#unlink(mine);
    this.#set({ ip, mac, machineId, state: LeaseState.Bound, until });
  }

  /** The store refused `ip` (another MAC's row we did not know of): stop offering it. */
  refused(ip: number): void {
    this.#set({ ip, mac: null, machineId: null, state: LeaseState.Static, until: null });
  }

  /** A client declined `ip` (someone answers ARP for it): quarantine it. */
  declined(ip: number, quarantineMs: number, now: number): void {
    this.#set({ ip, mac: null, machineId: null, state: LeaseState.Declined, until: now + quarantineMs });
  }

  /** Drops a lapsed offer of `mac` (it chose another server). */
  forgetOffer(mac: string): void {
    const l = this.#byMac.get(mac);
    if (l && l.state === LeaseState.Offered) this.#unlink(l);
  }

  get size(): number {
    return this.#byIp.size;
  }
}
