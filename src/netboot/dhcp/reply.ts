/**
 * Builds reply packets and decides where they go (RFC 2131 §4.1). Pure: no I/O.
 */
import type { Subnet } from '../../core/subnet.ts';
import type { BootPlan } from './boot.ts';
import { subnetMask } from './directory.ts';
import { ipsToBuf, ipToBuf, MessageType, Opt, u32 } from './options.ts';
import type { DhcpPacket } from './packet.ts';
import { ReplyPacket, ReplyTemplate } from './reply-packet.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const BROADCAST_FLAG = 0x8000;

export interface ReplyContext {
  serverIp: string;
  /** siaddr / option 66 for TFTP clients; defaults to serverIp. */
  tftpServer?: string;
}

export interface Lease {
  ip: string;
  seconds: number;
}

export interface Addressed {
  packet: DhcpPacket;
  address: string;
  port: number;
}

/** Option values that are the same for every reply on a subnet, encoded once. */
const subnetOptions = new WeakMap<Subnet, [number, Buffer][]>();
function optionsOf(s: Subnet): [number, Buffer][] {
  let o = subnetOptions.get(s);
  if (!o) {
    o = [[Opt.SubnetMask, ipToBuf(subnetMask(Number(s.cidr.split('/')[1])))]];
    if (s.gateway) o.push([Opt.Router, ipToBuf(s.gateway)]);
    if (s.dns.length) o.push([Opt.DnsServers, ipsToBuf(s.dns)]);
    subnetOptions.set(s, o);
  }
  return o;
}

/** Templates by lease time ('none' without a lease), then by message type. */
type ByLease = Map<number | 'none', ReplyTemplate[]>;
interface ServerTemplates {
  bySubnet: WeakMap<Subnet, ByLease>;
  noSubnet: ByLease;
}
/** A handful of server addresses and lease times are ever used: past these, templates are not kept. */
const MAX_KEYS = 64;
const templates = new Map<string, ServerTemplates>();

/** The fixed options of a reply: type, server id, lease times, the subnet's (as reply() orders them). */
function templateFor(type: MessageType, serverIp: string, lease: Lease | undefined, subnet?: Subnet) {
  let server = templates.get(serverIp);
  if (!server) {
    server = { bySubnet: new WeakMap(), noSubnet: new Map() };
    if (templates.size < MAX_KEYS) templates.set(serverIp, server);
  }
  let byLease = subnet ? server.bySubnet.get(subnet) : server.noSubnet;
  if (!byLease) {
    byLease = new Map();
    if (subnet) server.bySubnet.set(subnet, byLease);
  }
  const key = lease ? lease.seconds : 'none';
  let byType = byLease.get(key);
  if (!byType) {
    byType = [];
    if (byLease.size < MAX_KEYS) byLease.set(key, byType);
  }
  let t = byType[type];
  if (!t) {
    const list: [number, Buffer][] = [
      [Opt.MessageType, Buffer.from([type])],
      [Opt.ServerId, ipToBuf(serverIp)],
    ];
    if (lease) {
      const secs = lease.seconds;
      list.push(
        [Opt.LeaseTime, u32(secs)],
        [Opt.RenewalTime, u32(Math.floor(secs / 2))],
        [Opt.RebindingTime, u32(Math.floor((secs * 7) / 8))],
      );
    }
    if (subnet) list.push(...optionsOf(subnet));
    t = new ReplyTemplate(list);
    byType[type] = t;
  }
  return t;
}

export function reply(
  req: DhcpPacket,
  type: MessageType,
  ctx: ReplyContext,
  opts: {
    yiaddr?: string;
    ciaddr?: string;
    subnet?: Subnet;
    lease?: Lease;
    plan?: BootPlan;
    message?: string;
  },
): ReplyPacket {
  const relayed = req.giaddr !== '0.0.0.0';
  const subnet = opts.subnet && type !== MessageType.Nak ? opts.subnet : undefined;
  const o = new ReplyPacket(
    req,
    type,
    templateFor(type, ctx.serverIp, opts.lease, subnet),
    type === MessageType.Nak && relayed ? req.flags | BROADCAST_FLAG : req.flags,
  );
  if (opts.ciaddr !== undefined) o.ciaddr = opts.ciaddr;
  if (opts.yiaddr !== undefined) o.yiaddr = opts.yiaddr;
  if (opts.message) {
    o.message = Buffer.from(opts.message, 'latin1');
    o.set(Opt.Message, o.message);
  }
  const plan = opts.plan;
  if (plan?.file) {
    const isUrl = plan.file.includes('://');
    if (!isUrl) {
      o.siaddr = ctx.tftpServer ?? ctx.serverIp;
      if (ctx.tftpServer) o.set(Opt.TftpServerName, Buffer.from(ctx.tftpServer));
    }
    const asked = req.options.get(Opt.ParamList)?.includes(Opt.BootfileName) ?? false;
    // The `file` field is what every PXE ROM reads; option 67 carries names that do not fit
    // in its 127 bytes (long URLs) and goes to clients that ask for it (iPXE does).
    if (Buffer.byteLength(plan.file) <= 127) o.file = plan.file;
    if (asked || !o.file) o.set(Opt.BootfileName, Buffer.from(plan.file));
  }
  if (plan) for (const [code, value] of plan.options) o.set(code, value);
  // RFC 3046 §2.2: echo the relay agent information unchanged, as the last option.
  const relay = req.options.get(Opt.RelayAgentInfo);
  if (relay && relayed) o.set(Opt.RelayAgentInfo, relay);
  return o;
}

/**
 * Where a reply goes. Relayed: to the relay on the server port. An ACK to a client that
 * already has its address (renewing, INFORM: the reply's ciaddr is set): unicast to it.
 * Otherwise broadcast: unicasting to `yiaddr` before the client has the address needs an ARP
 * entry we cannot write from node:dgram, and every PXE client accepts the broadcast.
 */
export function destination(req: DhcpPacket, out: DhcpPacket): { address: string; port: number } {
  if (req.giaddr !== '0.0.0.0') return { address: req.giaddr, port: DHCP_SERVER_PORT };
  if (out.ciaddr !== '0.0.0.0') return { address: out.ciaddr, port: DHCP_CLIENT_PORT };
  return { address: '255.255.255.255', port: DHCP_CLIENT_PORT };
}
