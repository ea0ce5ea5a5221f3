/**
 * The fixed layout of a DHCPv4 packet (RFC 2131 §2), shared by the codec (packet.ts) and the
 * reply builder (reply-packet.ts): op … chaddr, sname at 44, file at 108, the magic cookie at 236.
 */
import type { DhcpPacket } from './packet.ts';

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const MAGIC = 0x63825363;
/** Bytes before the magic cookie; options start 4 bytes later. */
export const HEADER = 236;
/** RFC 1542: some relays and old clients drop BOOTP replies shorter than 300 bytes. */
export const MIN_SIZE = 300;

/** Writes dotted-quad `s` at `off` (4 bytes); the string is trusted (we made it). */
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

/** Bytes `value` takes as options `code, len, …`: split in 255-byte parts (RFC 3396), an empty one kept. */
export function optionSize(value: Buffer): number {
  return value.length === 0 ? 2 : 2 * Math.ceil(value.length / 255) + value.length;
}

/** Writes one option at `i` (split as optionSize says); returns the offset after it. */
export function writeOption(b: Buffer, i: number, code: number, v: Buffer): number {
  if (v.length === 0) {
    b[i++] = code;
    b[i++] = 0;
    return i;
  }
  for (let off = 0; off < v.length; off += 255) {
    const n = Math.min(255, v.length - off);
    b[i++] = code;
    b[i++] = n;
    if (n > 32) v.copy(b, i, off, off + n);
    else for (let k = 0; k < n; k++) b[i + k] = v[off + k]; // small: cheaper than Buffer#copy's native call
    i += n;
  }
  return i;
}

/** Writes the fixed fields op … chaddr (bytes 0–43) of `p`; `sname` and `file` when set. */
export function writeHeader(b: Buffer, p: DhcpPacket): void {
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
  const c = p.chaddr;
  const n = Math.min(16, c.length);
  for (let i = 0; i < n; i++) b[28 + i] = c[i]; // 16 bytes: a loop beats Buffer#copy's native call
  if (p.sname) b.write(p.sname, 44, 'latin1');
  if (p.file) b.write(p.file, 108, 'latin1');
}
