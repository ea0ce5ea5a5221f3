/**
 * A file laid out as ready-to-send DATA packets (RFC 1350: 2-byte opcode, 2-byte block
 * number, then up to blksize bytes), back to back in one buffer, each written once, when a
 * transfer first reaches it, so that each block's send is one zero-copy view of one buffer: no header allocated, no
 * two-buffer list for Node's dgram to copy into a fresh array, and the packets never change
 * while the kernel or a queued send still holds them (a reused scratch packet would, when a
 * window of sends is queued behind a full socket buffer).
 *
 * The layout is kept with the file's buffer for the next transfer of the same file at the same
 * blksize (the server keeps each served file's buffer while it is unchanged, file-cache.ts):
 * only the last blksize, so clients asking for many sizes cannot pile up copies. The buffer
 * must not change once laid out.
 */
import { Op } from './packet.ts';

export interface DataPackets {
  /** Blocks in the file: the last is short, and empty when the size is a multiple of blksize. */
  count: number;
  /** Packet of block `n` (1-based, absolute; the header carries `n` modulo 65536). */
  packet(n: number): Buffer;
}

const laidOut = new WeakMap<Buffer, { blksize: number; packets: DataPackets }>();

export function dataPackets(data: Buffer, blksize: number): DataPackets {
  const known = laidOut.get(data);
  if (known?.blksize === blksize) return known.packets;
  const packets = layOut(data, blksize);
  laidOut.set(data, { blksize, packets });
  return packets;
}

function layOut(data: Buffer, blksize: number): DataPackets {
  const count = Math.floor(data.length / blksize) + 1;
  const stride = blksize + 4;
  const all = Buffer.allocUnsafeSlow(data.length + 4 * count);
  // Packets are written as transfers first reach them, not all up front: a request costs what
  // it sends, as before, and not a copy of the whole file (a client asking for blksize 8 on a
  // 1 MiB file and then aborting would otherwise cost 131,000 copies per request).
  let built = 0;
  return {
    count,
    packet(n) {
      for (; built < n; built++) {
        const at = built * stride;
        all.writeUInt32BE(((Op.Data << 16) | ((built + 1) & 0xffff)) >>> 0, at);
        data.copy(all, at + 4, built * blksize, Math.min(data.length, (built + 1) * blksize));
      }
      return all.subarray((n - 1) * stride, Math.min(all.length, n * stride));
    },
  };
}
