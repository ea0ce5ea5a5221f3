/**
 * TFTP wire codec: RFC 1350 packets, RFC 2347 option negotiation (OACK) with blksize (2348),
 * timeout and tsize (2349) and windowsize (7440). Decoding throws TftpDecodeError on any
 * malformed input and never reads out of range.
 */

export const Op = { Rrq: 1, Wrq: 2, Data: 3, Ack: 4, Error: 5, Oack: 6 } as const;
export type Op = (typeof Op)[keyof typeof Op];

export const TftpErr = {
  NotDefined: 0,
  FileNotFound: 1,
  AccessViolation: 2,
  IllegalOperation: 4,
  UnknownTid: 5,
  OptionRefused: 8,
} as const;

/** RFC 1350 requests fit in 512 bytes; anything larger is refused unread. */
export const MAX_REQUEST = 512;

export interface TftpRequest {
  op: typeof Op.Rrq | typeof Op.Wrq;
  filename: string;
  mode: string;
  options: Map<string, string>;
}

export type TftpPacket =
  | TftpRequest
  | { op: typeof Op.Data; block: number; data: Buffer }
  | { op: typeof Op.Ack; block: number }
  | { op: typeof Op.Error; code: number; message: string }
  | { op: typeof Op.Oack; options: Map<string, string> };

export class TftpDecodeError extends Error {
  override name = 'TftpDecodeError';
}

function strings(b: Buffer, from: number): string[] {
  const out: string[] = [];
  let i = from;
  while (i < b.length) {
    const end = b.indexOf(0, i);
    if (end === -1) throw new TftpDecodeError('string not NUL-terminated');
    out.push(b.toString('latin1', i, end));
    i = end + 1;
  }
  return out;
}

export function decodeTftp(b: Buffer): TftpPacket {
  if (b.length < 4) throw new TftpDecodeError(`packet too short (${b.length} bytes)`);
  const op = b.readUInt16BE(0);
  switch (op) {
    case Op.Rrq:
    case Op.Wrq: {
      if (b.length > MAX_REQUEST) throw new TftpDecodeError(`request too long (${b.length} bytes)`);
      const s = strings(b, 2);
      if (s.length < 2 || s.length % 2 !== 0)
        throw new TftpDecodeError('request needs filename, mode and option pairs');
      const options = new Map<string, string>();
      for (let i = 2; i < s.length; i += 2) options.set(s[i].toLowerCase(), s[i + 1]);
      return { op, filename: s[0], mode: s[1].toLowerCase(), options };
    }
    case Op.Data:
      return { op, block: b.readUInt16BE(2), data: b.subarray(4) };
    case Op.Ack:
      if (b.length !== 4) throw new TftpDecodeError(`ACK of ${b.length} bytes`);
      return { op, block: b.readUInt16BE(2) };
    case Op.Error: {
      const end = b.indexOf(0, 4);
      return { op, code: b.readUInt16BE(2), message: b.toString('latin1', 4, end === -1 ? b.length : end) };
    }
    case Op.Oack: {
      const s = strings(b, 2);
      if (s.length % 2 !== 0) throw new TftpDecodeError('OACK options must come in pairs');
      const options = new Map<string, string>();
      for (let i = 0; i < s.length; i += 2) options.set(s[i].toLowerCase(), s[i + 1]);
      return { op, options };
    }
    default:
      throw new TftpDecodeError(`unknown opcode ${op}`);
  }
}
export function ackPacket(block: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(Op.Ack, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

export function errorPacket(code: number, message: string): Buffer {
  return Buffer.concat([
    Buffer.from([0, Op.Error, code >> 8, code & 255]),
    Buffer.from(message, 'latin1'),
    Buffer.from([0]),
  ]);
}

function pairs(op: number, head: string[], options: Map<string, string>): Buffer {
  const parts: Buffer[] = [Buffer.from([0, op])];
  for (const s of [...head, ...[...options].flat()]) parts.push(Buffer.from(s, 'latin1'), Buffer.from([0]));
  return Buffer.concat(parts);
}

export function oackPacket(options: Map<string, string>): Buffer {
  return pairs(Op.Oack, [], options);
}

export function requestPacket(filename: string, options = new Map<string, string>(), mode = 'octet'): Buffer {
  return pairs(Op.Rrq, [filename, mode], options);
}
