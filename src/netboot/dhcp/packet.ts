/**
 * DHCPv4 wire codec (RFC 2131 packet, RFC 2132 options, RFC 3396 long options, option
 * overload into `file`/`sname`). Decoding never trusts a length: every malformed packet is a
 * DhcpDecodeError, never an out-of-range read, so the server can drop it and carry on.
 */
import { Opt } from './options.ts';
import { ReplyPacket } from './reply-packet.ts';
import {
  BOOTREPLY,
  BOOTREQUEST,
  HEADER,
  MAGIC,
  MIN_SIZE,
  optionSize,
  writeHeader,
  writeOption,
} from './wire.ts';

export { BOOTREPLY, BOOTREQUEST };
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

const ZERO_IP = '0.0.0.0';

function ip(b: Buffer, off: number): string {
  // Most address fields of a request are zero: no string to build.
  if (b[off] === 0 && b[off + 1] === 0 && b[off + 2] === 0 && b[off + 3] === 0) return ZERO_IP;
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** The NUL-terminated latin1 string in `b[start, end)`. */
function cstr(b: Buffer, start: number, end: number): string {
  if (b[start] === 0) return ''; // the usual case: an empty field
  const nul = b.indexOf(0, start);
  return b.toString('latin1', start, nul === -1 || nul > end ? end : nul);
}

/**
 * Parses the options in `b[i, end)` into `into`. Repeated codes (RFC 3396) are collected in the
 * returned map, made on the first repeat (most packets have none) and passed back in as `parts`.
 */
function parseOptions(
  b: Buffer,
  i: number,
  end: number,
  into: Map<number, Buffer>,
  parts: Map<number, Buffer[]> | null,
): Map<number, Buffer[]> | null {
  while (i < end) {
    const code = b[i++];
    if (code === Opt.Pad) continue;
    if (code === Opt.End) return parts;
    if (i >= end) throw new DhcpDecodeError(`option ${code} has no length byte`);
    const len = b[i++];
    if (i + len > end) throw new DhcpDecodeError(`option ${code} runs past the packet (len ${len})`);
    const v = b.subarray(i, i + len);
    i += len;
    const prev = into.get(code);
    if (prev === undefined) into.set(code, v);
    else {
      parts ??= new Map();
      const list = parts.get(code);
      if (list) list.push(v);
      else parts.set(code, [prev, v]);
    }
  }
  return parts;
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
  let parts = parseOptions(buf, HEADER + 4, buf.length, options, null);
  // Overload (option 52): more options in `file` (1), `sname` (2) or both (3), in that order.
  const overload = options.get(Opt.Overload)?.[0] ?? 0;
  if (overload & 1) parts = parseOptions(buf, 108, 236, options, parts);
  if (overload & 2) parts = parseOptions(buf, 44, 108, options, parts);
  if (parts) for (const [code, list] of parts) options.set(code, Buffer.concat(list));
  const chaddr = Buffer.allocUnsafe(16);
  for (let i = 0; i < 16; i++) chaddr[i] = buf[28 + i];
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
    chaddr,
    sname: overload & 2 ? '' : cstr(buf, 44, 108),
    file: overload & 1 ? '' : cstr(buf, 108, 236),
    options,
  };
}

/** Encodes a packet. Options longer than 255 bytes are split into several (RFC 3396). */
export function encodeDhcp(p: DhcpPacket): Buffer {
  if (p instanceof ReplyPacket) {
    const fast = p.encodeFast();
    if (fast) return fast;
  }
  let optLen = 1; // End
  for (const v of p.options.values()) optLen += optionSize(v);
  const size = Math.max(MIN_SIZE, HEADER + 4 + optLen);
  // From the shared pool, zeroed: much cheaper than an ArrayBuffer of its own per reply.
  const b = Buffer.allocUnsafe(size).fill(0);
  if (Buffer.byteLength(p.sname, 'latin1') > 63) throw new RangeError('sname longer than 63 bytes');
  if (Buffer.byteLength(p.file, 'latin1') > 127) throw new RangeError('file longer than 127 bytes');
  writeHeader(b, p);
  b.writeUInt32BE(MAGIC, HEADER);
  let i = HEADER + 4;
  for (const [code, v] of p.options) i = writeOption(b, i, code, v);
  b[i] = Opt.End;
  return b;
}

/** Char codes of the lowercase hex digits. */
const HEX = Array.from({ length: 16 }, (_, i) => i.toString(16).charCodeAt(0));

/** `aa:bb:cc:dd:ee:ff` from an Ethernet chaddr; null for other hardware types. */
export function macOf(p: DhcpPacket): string | null {
  if (p.htype !== 1 || p.hlen !== 6) return null;
  const c = p.chaddr;
  // One flat string from char codes: a concatenation makes a rope, which every Map lookup
  // keyed by the MAC (machines, leases) must first flatten (measured 2–4× slower per lookup).
  // biome-ignore format: the MAC's six bytes, one line each
  return String.fromCharCode(
    HEX[c[0] >> 4], HEX[c[0] & 15], 58,
    HEX[c[1] >> 4], HEX[c[1] & 15], 58,
    HEX[c[2] >> 4], HEX[c[2] & 15], 58,
    HEX[c[3] >> 4], HEX[c[3] & 15], 58,
    HEX[c[4] >> 4], HEX[c[4] & 15], 58,
    HEX[c[5] >> 4], HEX[c[5] & 15],
  );
}
