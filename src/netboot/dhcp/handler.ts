/**
 * The DHCP message handler: validates a decoded request, picks its subnet, switches on the
 * message type and returns the replies to send (none is a valid answer). Sockets live in
 * server.ts; the store is reached through the Directory (cache), the LeaseCommitter (group
 * commit) and the EventBatcher (timeline).
 */
import type { Logger } from 'pino';
import { formatIpv4, parseIpv4 } from '../../core/subnet.ts';
import { BootEvent } from '../urls.ts';
import { bootPlan, type ClientInfo, ClientKind, classify } from './boot.ts';
import type { Directory } from './directory.ts';
import type { EventBatcher } from './event-batcher.ts';
import type { LeaseCommitter } from './group-commit.ts';
import { MESSAGE_NAMES, MessageType, Opt } from './options.ts';
import { BOOTREQUEST, type DhcpPacket, macOf } from './packet.ts';
import { LeaseState, type SubnetPool } from './pool.ts';
import { type Addressed, destination, type ReplyContext, reply } from './reply.ts';
import type { ReplyPacket } from './reply-packet.ts';

export interface HandlerOptions extends ReplyContext {
  httpBase: string;
  leaseSeconds: number;
  /** How long an OFFER holds its address in memory. @default 30 s */
  offerHoldMs?: number;
  /** How long a DECLINEd address stays out of the pool. @default 10 min */
  declineQuarantineMs?: number;
}

/** One request being served. Its child logger is bound on first use: a child logger per
 * packet costs more than the rest of the packet's work. */
class Ctx {
  readonly req: DhcpPacket;
  readonly mac: string;
  readonly type: MessageType;
  readonly pool: SubnetPool;
  machineId: string | null;
  readonly client: ClientInfo;
  readonly #base: Logger;
  #child: Logger | null = null;

  constructor(
    req: DhcpPacket,
    mac: string,
    type: MessageType,
    pool: SubnetPool,
    machineId: string | null,
    client: ClientInfo,
    base: Logger,
  ) {
    this.req = req;
    this.mac = mac;
    this.type = type;
    this.pool = pool;
    this.machineId = machineId;
    this.client = client;
    this.#base = base;
  }

  log(): Logger {
    this.#child ??= childLog(this.#base, this.req, this.mac);
    return this.#child;
  }
}

function childLog(base: Logger, req: DhcpPacket, mac: string): Logger {
  return base.child({ mac, xid: req.xid.toString(16), giaddr: req.giaddr });
}

const EVENT_OF: Partial<Record<number, BootEvent>> = {
  [MessageType.Discover]: BootEvent.DhcpDiscover,
  [MessageType.Offer]: BootEvent.DhcpOffer,
  [MessageType.Request]: BootEvent.DhcpRequest,
  [MessageType.Ack]: BootEvent.DhcpAck,
  [MessageType.Nak]: BootEvent.DhcpNak,
};

export class DhcpHandler {
  readonly #o: HandlerOptions;
  readonly #dir: Directory;
  readonly #commit: LeaseCommitter;
  readonly #events: EventBatcher;
  readonly #log: Logger;
  readonly #serverIpNum: number;

  constructor(o: HandlerOptions, dir: Directory, commit: LeaseCommitter, events: EventBatcher, log: Logger) {
    this.#o = o;
    this.#dir = dir;
    this.#commit = commit;
    this.#events = events;
    this.#log = log;
    this.#serverIpNum = parseIpv4(o.serverIp) ?? -1;
  }

  /**
   * `pxePort` marks a request that came to the PXE boot server port (4011, proxy mode).
   * Answers in the same turn when it can (a DISCOVER, a reservation renewing): only a lease
   * to commit or a MAC to enlist makes it return a promise. Callers await either.
   */
  handle(req: DhcpPacket, pxePort = false): Addressed[] | Promise<Addressed[]> {
    const mac = macOf(req);
    const type = req.options.get(Opt.MessageType)?.[0] as MessageType | undefined;
    // Validate first: only Ethernet BOOTREQUESTs with a message type, and no relay loops.
    if (req.op !== BOOTREQUEST || !mac || type === undefined || req.hops > 16) return [];
    if (req.giaddr !== '0.0.0.0' && !isUnicast(req.giaddr)) return [];
    const pool = this.#dir.poolFor(req.giaddr);
    if (!pool || pool.subnet.dhcpMode === 'off') {
      childLog(this.#log, req, mac).debug(
        { type: MESSAGE_NAMES[type] },
        pool ? 'subnet has DHCP off' : 'no subnet for this request',
      );
      return [];
    }
    const machineId = this.#dir.machineOf(mac);
    const client = classify(req);
    const c = new Ctx(req, mac, type, pool, machineId, client, this.#log);
    if (!machineId && pool.subnet.autoEnlist && client.kind !== ClientKind.Plain) {
      return this.#dir.enlist(mac, client.arch, pool.subnet).then((id) => {
        c.machineId = id;
        return this.#serve(c, pxePort);
      });
    }
    return this.#serve(c, pxePort);
  }

  #serve(c: Ctx, pxePort: boolean): Addressed[] | Promise<Addressed[]> {
    if (!c.machineId && this.#log.isLevelEnabled('debug')) {
      c.log().debug({ type: MESSAGE_NAMES[c.type], client: c.client.kind }, 'unknown MAC');
    }
    if (c.machineId) this.#event(c, c.type, { client: c.client.kind, arch: c.client.arch });
    if (c.pool.subnet.dhcpMode === 'proxy') return this.#answer(c, this.#proxy(c, pxePort), pxePort);
    if (pxePort) return [];
    const out = this.#full(c);
    return out instanceof Promise
      ? out.then((o) => this.#answer(c, o, pxePort))
      : this.#answer(c, out, pxePort);
  }

  #answer(c: Ctx, out: ReplyPacket | null, pxePort: boolean): Addressed[] {
    if (!out) return [];
    const { req, type } = c;
    if (c.machineId) {
      this.#event(c, out.type, {
        ip: out.yiaddr,
        file: out.file || undefined,
        why: out.message ?? undefined,
        // A bound client extending its lease (RFC 2131 4.3.2: REQUEST with ciaddr, RENEWING/REBINDING).
        renewal: type === MessageType.Request && req.ciaddr !== '0.0.0.0' ? true : undefined,
      });
    }
    const dest = pxePort ? null : destination(req, out);
    return [{ packet: out, address: dest?.address ?? '', port: dest?.port ?? 0 }];
  }

  #plan(c: Ctx) {
    const plan = bootPlan(c.req, c.client, { httpBase: this.#o.httpBase, mac: c.mac });
    if (plan.skipped) c.log().info({ reason: plan.skipped }, 'no boot file for this client');
    return plan;
  }

  /** ProxyDHCP (RFC 4578 / PXE): boot information only; the site's DHCP server owns addresses. */
  #proxy(c: Ctx, pxePort: boolean): ReplyPacket | null {
    const client = c.client;
    if (client.kind === ClientKind.Plain) return null;
    const plan = this.#plan(c);
    if (!plan.file) return null;
    // iPXE only takes an offer without an address as ProxyDHCP when it says "PXEClient".
    if (client.kind === ClientKind.Ipxe) plan.options.push([Opt.VendorClass, Buffer.from('PXEClient')]);
    if (c.type === MessageType.Discover && !pxePort)
      return reply(c.req, MessageType.Offer, this.#o, { plan });
    if (c.type === MessageType.Request && pxePort) {
      return reply(c.req, MessageType.Ack, this.#o, { plan, ciaddr: c.req.ciaddr });
    }
    return null;
  }

  #full(c: Ctx): ReplyPacket | null | Promise<ReplyPacket | null> {
    const now = Date.now();
    const { req, mac, pool } = c;
    const requested = optIp(req, Opt.RequestedIp);
    switch (c.type) {
      case MessageType.Discover: {
        const cur = pool.current(mac, c.machineId, now);
        let ip = cur && pool.usableBy(cur.ip, mac, now) ? cur.ip : null;
        ip ??= pool.pick(mac, requested, now);
        if (ip === null) {
          c.log().warn({ subnet: pool.subnet.name }, 'no free address in the dynamic ranges; add a range');
          return null;
        }
        pool.offer(ip, mac, c.machineId, this.#o.offerHoldMs ?? 30_000, now);
        return this.#ack(c, MessageType.Offer, formatIpv4(ip));
      }
      case MessageType.Request: {
        const serverId = optIp(req, Opt.ServerId);
        if (serverId !== null && serverId !== this.#serverIpNum) {
          pool.forgetOffer(mac); // it chose another server's offer
          return null;
        }
        const renewing = requested === null && req.ciaddr !== '0.0.0.0';
        const ip = requested ?? (renewing ? parseIpv4(req.ciaddr) : null);
        if (ip === null) return null;
        const nak = (why: string) => {
          c.log().info({ ip: formatIpv4(ip), reason: why }, 'DHCPNAK');
          return reply(req, MessageType.Nak, this.#o, { message: why });
        };
        if (!pool.inDynamicRange(ip) && pool.get(ip)?.mac !== mac) return nak('address not valid here');
        const cur = pool.current(mac, c.machineId, now);
        // A reserved client (known machine, static allocation) must come back to its address.
        const reserved = cur && (cur.state === LeaseState.Static || cur.machineId !== null);
        if (reserved && cur.ip !== ip)
          return nak(`address reserved for this client is ${formatIpv4(cur.ip)}`);
        if (!pool.usableBy(ip, mac, now)) return nak('address in use');
        const held = pool.get(ip);
        // Already durable and unchanged (a reservation renewing): nothing to write.
        const durable =
          held?.mac === mac &&
          (held.state === LeaseState.Static ||
            (held.state === LeaseState.Bound && held.until === null && held.machineId === c.machineId));
        if (!durable) {
          const expiresAt = now + this.#o.leaseSeconds * 1000;
          const lease = {
            subnetId: pool.subnet.id,
            ip: formatIpv4(ip),
            ipNum: ip,
            mac,
            machineId: c.machineId,
            expiresAt,
          };
          // The ACK leaves only once the lease is committed (group commit, group-commit.ts).
          return this.#commit.commit(lease).then((ok) => {
            if (!ok) {
              pool.refused(ip);
              return nak('address in use');
            }
            pool.bound(ip, mac, c.machineId, c.machineId ? null : expiresAt);
            return this.#ack(c, MessageType.Ack, formatIpv4(ip), renewing ? req.ciaddr : undefined);
          });
        }
        return this.#ack(c, MessageType.Ack, formatIpv4(ip), renewing ? req.ciaddr : undefined);
      }
      case MessageType.Decline: {
        // The client saw another host answer ARP for the address. Quarantine it in memory
        // only: after a restart a still-conflicting address is simply declined again.
        const held = requested !== null ? pool.get(requested) : undefined;
        // Only a DECLINE of the client's own address counts (and is worth a warning): anyone
        // could otherwise take addresses out of the pool, or flood the log.
        if (held && held.mac === mac) {
          pool.declined(held.ip, this.#o.declineQuarantineMs ?? 600_000, now);
          c.log().warn({ ip: formatIpv4(held.ip) }, 'client declined its address (address conflict)');
        }
        return null;
      }
      case MessageType.Release:
        // Deliberately nothing: the lease stays until it expires, so a client that comes back
        // gets the same address, and a known machine's address is a reservation anyway. The
        // pool is sized for the segment; reusing a released address early buys nothing.
        c.log().debug('DHCPRELEASE ignored: leases run to expiry');
        return null;
      case MessageType.Inform: {
        // Answered by unicast to ciaddr: only when that address is on this subnet.
        const ci = parseIpv4(req.ciaddr);
        if (ci === null || ci < pool.cidr.first || ci > pool.cidr.last) return null;
        return this.#ack(c, MessageType.Ack, undefined, req.ciaddr, false);
      }
      default:
        return null;
    }
  }

  #ack(c: Ctx, type: MessageType, yiaddr?: string, ciaddr?: string, withLease = true): ReplyPacket {
    const lease = withLease && yiaddr ? { ip: yiaddr, seconds: this.#o.leaseSeconds } : undefined;
    return reply(c.req, type, this.#o, { yiaddr, ciaddr, subnet: c.pool.subnet, lease, plan: this.#plan(c) });
  }

  #event(c: Ctx, type: MessageType, data: Record<string, unknown>): void {
    const ev = EVENT_OF[type];
    if (!c.machineId || !ev) return;
    const name = MESSAGE_NAMES[type];
    const ip = typeof data.ip === 'string' && data.ip !== '0.0.0.0' ? data.ip : undefined;
    const file = typeof data.file === 'string' ? data.file : undefined;
    const why = Buffer.isBuffer(data.why) ? `: ${data.why.toString('latin1')}` : '';
    this.#events.add({
      type: ev,
      machineId: c.machineId,
      actor: 'dhcp',
      level: type === MessageType.Nak ? 'warning' : 'info',
      message: `DHCP${name} ${c.mac}${ip ? ` ${ip}` : ''}${file ? ` boot ${file}` : ''}${why}${data.renewal ? ' (renewal)' : ''}`,
      data: {
        mac: c.mac,
        xid: c.req.xid,
        giaddr: c.req.giaddr,
        subnet: c.pool.subnet.name,
        ...data,
        ip,
        file,
        why: why ? why.slice(2) : undefined,
      },
    });
  }
}

/** A relay address we can send to: not 0/8, loopback-less multicast, class E or broadcast. */
function isUnicast(ip: string): boolean {
  const first = Number(ip.slice(0, ip.indexOf('.')));
  return first > 0 && first < 224 && ip !== '255.255.255.255';
}

function optIp(p: DhcpPacket, code: number): number | null {
  const v = p.options.get(code);
  return v && v.length === 4 ? v.readUInt32BE(0) : null;
}
