/**
 * Builds reply packets and decides where they go (RFC 2131 §4.1). Pure: no I/O.
 */
import type { Subnet } from '../../core/subnet.ts';
import type { BootPlan } from './boot.ts';
import { subnetMask } from './directory.ts';
import { ipsToBuf, ipToBuf, MessageType, Opt, u32 } from './options.ts';
import { BOOTREPLY, type DhcpPacket } from './packet.ts';

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
const serverIds = new Map<string, Buffer>();
/** Small constant option values (message types, lease times): allocated once, not per reply. */
const constants = new Map<string, Buffer>();
function constant(key: string, make: () => Buffer): Buffer {
  let b = constants.get(key);
  if (!b) {
    b = make();
    if (constants.size < 1000) constants.set(key, b);
  }
  return b;
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
): DhcpPacket {
  const o = new Map<number, Buffer>();
  o.set(
    Opt.MessageType,
    constant(`t${type}`, () => Buffer.from([type])),
  );
  let sid = serverIds.get(ctx.serverIp);
  if (!sid) {
    sid = ipToBuf(ctx.serverIp);
    serverIds.set(ctx.serverIp, sid);
  }
  o.set(Opt.ServerId, sid);
  if (opts.lease) {
    const secs = opts.lease.seconds;
    o.set(
      Opt.LeaseTime,
      constant(`l${secs}`, () => u32(secs)),
    );
    o.set(
      Opt.RenewalTime,
      constant(`r${secs}`, () => u32(Math.floor(secs / 2))),
    );
    o.set(
      Opt.RebindingTime,
      constant(`b${secs}`, () => u32(Math.floor((secs * 7) / 8))),
    );
  }
  if (opts.subnet && type !== MessageType.Nak) for (const [k, v] of optionsOf(opts.subnet)) o.set(k, v);
  if (opts.message) o.set(Opt.Message, Buffer.from(opts.message, 'latin1'));
  let file = '';
  let siaddr = '0.0.0.0';
  const plan = opts.plan;
  if (plan?.file) {
    const isUrl = plan.file.includes('://');
    if (!isUrl) {
      siaddr = ctx.tftpServer ?? ctx.serverIp;
      if (ctx.tftpServer) o.set(Opt.TftpServerName, Buffer.from(ctx.tftpServer));
    }
    const asked = req.options.get(Opt.ParamList)?.includes(Opt.BootfileName) ?? false;
    // The `file` field is what every PXE ROM reads; option 67 carries names that do not fit
    // in its 127 bytes (long URLs) and goes to clients that ask for it (iPXE does).
    if (Buffer.byteLength(plan.file) <= 127) file = plan.file;
    if (asked || !file) o.set(Opt.BootfileName, Buffer.from(plan.file));
  }
  for (const [code, value] of plan?.options ?? []) o.set(code, value);
  // RFC 3046 §2.2: echo the relay agent information unchanged, as the last option.
  const relay = req.options.get(Opt.RelayAgentInfo);
  if (relay && req.giaddr !== '0.0.0.0') o.set(Opt.RelayAgentInfo, relay);
  return {
    op: BOOTREPLY,
    htype: req.htype,
    hlen: req.hlen,
    hops: 0,
    xid: req.xid,
    secs: 0,
    flags: type === MessageType.Nak && req.giaddr !== '0.0.0.0' ? req.flags | BROADCAST_FLAG : req.flags,
    ciaddr: opts.ciaddr ?? '0.0.0.0',
    yiaddr: opts.yiaddr ?? '0.0.0.0',
    siaddr,
    giaddr: req.giaddr,
    chaddr: req.chaddr,
    sname: '',
    file,
    options: o,
  };
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
