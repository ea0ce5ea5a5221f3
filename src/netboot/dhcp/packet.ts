/**
 * DHCPv4 wire codec (RFC 2131 packet, RFC 2132 options, RFC 3396 long options, option
 * overload into `file`/`sname`). Decoding never trusts a length: every malformed packet is a
 * DhcpDecodeError, never an out-of-range read, so the server can drop it and carry on.
 */
import { Opt } from './options.ts';

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
const MAGIC = 0x63825363;
const HEADER = 236;
/** RFC 1542: some relays and old clients drop BOOTP replies shorter than 300 bytes. */
const MIN_SIZE = 300;
/** Largest datagram we decode: a DHCP packet past an Ethernet jumbo frame is garbage. */
export const MAX_PACKET = 9000;

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** 16 bytes as on the wire; the MAC is the first `hlen`. */
  chaddr: Buffer;
  sname: string;
  file: string;
  /** Option code → value. Repeated codes are concatenated (RFC 3396). Order is kept. */
  options: Map<number, Buffer>;
}

export class DhcpDecodeError extends Error {
  override name = 'DhcpDecodeError';
}

function ip(b: Buffer, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

function cstr(b: Buffer): string {
  if (b[0] === 0) return ''; // the usual case: an empty field
  const end = b.indexOf(0);
  return b.toString('latin1', 0, end === -1 ? b.length : end);
}

/** `parts` collects repeated codes (RFC 3396); made on the first repeat, as most packets have none. */
type Parts = { map: Map<number, Buffer[]> | null };

function parseOptions(b: Buffer, into: Map<number, Buffer>, parts: Parts): boolean {
  let i = 0;
  while (i < b.length) {
    const code = b[i++];
    if (code === Opt.Pad) continue;
    if (code === Opt.End) return true;
    if (i >= b.length) throw new DhcpDecodeError(`option ${code} has no length byte`);
    const len = b[i++];
    if (i + len > b.length) throw new DhcpDecodeError(`option ${code} runs past the packet (len ${len})`);
    const v = b.subarray(i, i + len);
    i += len;
    const prev = into.get(code);
    if (prev === undefined) into.set(code, v);
    else {
      parts.map ??= new Map();
      const list = parts.map.get(code);
      if (list) list.push(v);
      else parts.map.set(code, [prev, v]);
    }
  }
  return false;
}

export function decodeDhcp(buf: Buffer): DhcpPacket {
  if (buf.length < HEADER + 4) throw new DhcpDecodeError(`packet too short (${buf.length} bytes)`);
  if (buf.length > MAX_PACKET) throw new DhcpDecodeError(`packet too long (${buf.length} bytes)`);
  if (buf.readUInt32BE(HEADER) !== MAGIC) throw new DhcpDecodeError('no DHCP magic cookie');
  const op = buf[0];
  if (op !== BOOTREQUEST && op !== BOOTREPLY) throw new DhcpDecodeError(`bad op ${op}`);
  const hlen = buf[2];
  if (hlen > 16) throw new DhcpDecodeError(`bad hlen ${hlen}`);
  const options = new Map<number, Buffer>();
  const parts: Parts = { map: null };
  parseOptions(buf.subarray(HEADER + 4), options, parts);
  // Overload (option 52): more options in `file` (1), `sname` (2) or both (3), in that order.
  const overload = options.get(Opt.Overload)?.[0] ?? 0;
  const fileField = buf.subarray(108, 236);
  const snameField = buf.subarray(44, 108);
  if (overload & 1) parseOptions(fileField, options, parts);
  if (overload & 2) parseOptions(snameField, options, parts);
  if (parts.map) for (const [code, list] of parts.map) options.set(code, Buffer.concat(list));
  return {
    op,
    htype: buf[1],
    hlen,
    hops: buf[3],
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ip(buf, 12),
    yiaddr: ip(buf, 16),
    siaddr: ip(buf, 20),
    giaddr: ip(buf, 24),
    chaddr: Buffer.from(buf.subarray(28, 44)),
    sname: overload & 2 ? '' : cstr(snameField),
    file: overload & 1 ? '' : cstr(fileField),
    options,
  };
}

function writeIp(b: Buffer, off: number, s: string): void {
  let part = 0;
  let idx = off;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      b[idx++] = part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  b[idx] = part;
}

/** Encodes a packet. Options longer than 255 bytes are split into several (RFC 3396). */
export function encodeDhcp(p: DhcpPacket): Buffer {
  let optLen = 1; // End
  for (const v of p.options.values()) optLen += v.length === 0 ? 2 : 2 * Math.ceil(v.length / 255) + v.length;
  const size = Math.max(MIN_SIZE, HEADER + 4 + optLen);
  // From the shared pool, zeroed: much cheaper than an ArrayBuffer of its own per reply.
  const b = Buffer.allocUnsafe(size).fill(0);
  b[0] = p.op;
  b[1] = p.htype;
  b[2] = p.hlen;
  b[3] = p.hops;
  b.writeUInt32BE(p.xid >>> 0, 4);
  b.writeUInt16BE(p.secs & 0xffff, 8);
  b.writeUInt16BE(p.flags & 0xffff, 10);
  writeIp(b, 12, p.ciaddr);
  writeIp(b, 16, p.yiaddr);
  writeIp(b, 20, p.siaddr);
  writeIp(b, 24, p.giaddr);
  p.chaddr.copy(b, 28, 0, 16);
  if (p.sname) {
    if (Buffer.byteLength(p.sname, 'latin1') > 63) throw new RangeError('sname longer than 63 bytes');
    b.write(p.sname, 44, 'latin1');
  }
  if (p.file) {
    if (Buffer.byteLength(p.file, 'latin1') > 127) throw new RangeError('file longer than 127 bytes');
    b.write(p.file, 108, 'latin1');
  }
  b.writeUInt32BE(MAGIC, HEADER);
  let i = HEADER + 4;
  for (const [code, v] of p.options) {
    if (v.length === 0) {
      b[i++] = code;
      b[i++] = 0;
      continue;
    }
    for (let off = 0; off < v.length; off += 255) {
      const n = Math.min(255, v.length - off);
      b[i++] = code;
      b[i++] = n;
      v.copy(b, i, off, off + n);
      i += n;
    }
  }
  b[i] = Opt.End;
  return b;
}

/** `aa:bb:cc:dd:ee:ff` from an Ethernet chaddr; null for other hardware types. */
export function macOf(p: DhcpPacket): string | null {
  if (p.htype !== 1 || p.hlen !== 6) return null;
  const c = p.chaddr;
  let s = '';
  for (let i = 0; i < 6; i++) {
    const h = c[i].toString(16);
    s += (i ? ':' : '') + (h.length === 1 ? `0${h}` : h);
  }
  return s;
}
