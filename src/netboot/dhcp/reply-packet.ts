/**
 * A reply as the handler builds it (reply.ts). The options every reply of its kind carries
 * (message type, server id, lease times, the subnet's) come pre-encoded in a template of the
 * packet's first bytes, so encoding a reply is one copy of its template, the header fields
 * patched in and the few options that differ per client (boot plan, relay info) appended:
 * no options map and no zeroed buffer per reply. The bytes are the ones encodeDhcp writes for
 * the same packet. `options` (a Map, as a decoded packet has) is built only when read; from
 * then on the map is what gets encoded, so a changed map is honoured.
 */
import type { MessageType } from './options.ts';
import type { DhcpPacket } from './packet.ts';
import { BOOTREPLY, HEADER, MAGIC, MIN_SIZE, optionSize, writeHeader, writeOption } from './wire.ts';

/** A reply's fixed options, in order, and them encoded after a zeroed header and the magic cookie. */
export class ReplyTemplate {
  readonly list: readonly (readonly [number, Buffer])[];
  readonly head: Buffer;
  readonly #codes = new Set<number>();

  constructor(list: readonly (readonly [number, Buffer])[]) {
    this.list = list;
    let size = HEADER + 4;
    for (const [code, v] of list) {
      size += optionSize(v);
      this.#codes.add(code);
    }
    const b = Buffer.alloc(size);
    b.writeUInt32BE(MAGIC, HEADER);
    let i = HEADER + 4;
    for (const [code, v] of list) i = writeOption(b, i, code, v);
    this.head = b;
  }

  has(code: number): boolean {
    return this.#codes.has(code);
  }
}

export class ReplyPacket implements DhcpPacket {
  op: number = BOOTREPLY;
  htype: number;
  hlen: number;
  hops = 0;
  xid: number;
  secs = 0;
  flags: number;
  ciaddr = '0.0.0.0';
  yiaddr = '0.0.0.0';
  siaddr = '0.0.0.0';
  giaddr: string;
  chaddr: Buffer;
  sname = '';
  file = '';
  /** The message type this reply was built as (option 53). */
  readonly type: MessageType;
  /** Option 56 (why a NAK), as sent; null when there is none. */
  message: Buffer | null = null;
  readonly #template: ReplyTemplate;
  /** Options after the template's, in order; a code set twice keeps its first place. */
  #extra: [number, Buffer][] | null = null;
  /** An extra option replaces one of the template's: encoded through the map (rare). */
  #mixed = false;
  #map: Map<number, Buffer> | null = null;

  constructor(req: DhcpPacket, type: MessageType, template: ReplyTemplate, flags: number) {
    this.htype = req.htype;
    this.hlen = req.hlen;
    this.xid = req.xid;
    this.flags = flags;
    this.giaddr = req.giaddr;
    this.chaddr = req.chaddr;
    this.type = type;
    this.#template = template;
  }

  /** Sets an option the way Map.set would on the full options map. */
  set(code: number, value: Buffer): void {
    if (this.#map) {
      this.#map.set(code, value);
      return;
    }
    if (this.#template.has(code)) this.#mixed = true;
    this.#extra ??= [];
    const extra = this.#extra;
    for (const e of extra) {
      if (e[0] === code) {
        e[1] = value;
        return;
      }
    }
    extra.push([code, value]);
  }

  get options(): Map<number, Buffer> {
    if (!this.#map) {
      const m = new Map<number, Buffer>(this.#template.list);
      for (const [code, v] of this.#extra ?? []) m.set(code, v);
      this.#map = m;
    }
    return this.#map;
  }

  set options(m: Map<number, Buffer>) {
    this.#map = m;
  }

  /** The wire bytes, or null when the map must be encoded instead (encodeDhcp does). */
  encodeFast(): Buffer | null {
    if (this.#map || this.#mixed) return null;
    const head = this.#template.head;
    const extra = this.#extra;
    let len = head.length + 1; // End
    if (extra) for (const e of extra) len += optionSize(e[1]);
    if (this.sname.length > 63 || this.file.length > 127) return null; // encodeDhcp throws
    const b = Buffer.allocUnsafe(Math.max(len, MIN_SIZE));
    b.set(head); // a builtin copy: Buffer#copy's native call costs more at this size
    writeHeader(b, this);
    let i = head.length;
    if (extra) for (const e of extra) i = writeOption(b, i, e[0], e[1]);
    b[i] = 255; // End
    for (let j = i + 1; j < b.length; j++) b[j] = 0; // BOOTP padding, a few dozen bytes at most
    return b;
  }
}
