/**
 * One read transfer on its own socket (RFC 1350: the server's port is the transfer ID).
 * Sends blocks a window at a time (RFC 7440) and moves on when the client ACKs; it only
 * resends on its own timeout, never on a duplicate ACK (that would be the Sorcerer's
 * Apprentice bug of RFC 1350). On a socket connected to the client (what the server does) the
 * kernel keeps other senders away; on an unconnected one, packets from any other address/port
 * get an "unknown transfer ID" error and change nothing.
 *
 * The per-block path is what lock-step throughput (one block per ACK, what PXE ROMs do) is
 * made of: the file is laid out as DATA packets once (blocks.ts), so a block's send is one
 * view of one buffer and allocates nothing of ours; one timer per transfer re-armed in place.
 */
import type dgram from 'node:dgram';
import { type DataPackets, dataPackets } from './blocks.ts';
import { decodeTftp, errorPacket, Op, oackPacket, TftpErr } from './packet.ts';

export interface TransferParams {
  data: Buffer;
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  retries: number;
  /** Negotiated options: sent as OACK first, and block 1 waits for ACK 0. */
  oack: Map<string, string> | null;
}

export type TransferResult = { ok: true; bytes: number; ms: number } | { ok: false; reason: string };

export function runTransfer(
  sock: dgram.Socket,
  peer: { address: string; port: number },
  p: TransferParams,
  signal?: AbortSignal,
): Promise<TransferResult> {
  return new Promise<TransferResult>((resolve) => new Transfer(sock, peer, p, resolve, signal).start());
}

/**
 * The transfer's state and steps as a class, not closures made per transfer: its methods are
 * the same functions for every transfer, so V8's optimized code for the per-block path (which
 * inlines calls by their target function) carries over from one transfer to the next instead
 * of being thrown away and rebuilt at the start of each ("wrong call target" deopts): a small
 * boot file's 50 blocks would otherwise run mostly unoptimized.
 */
class Transfer {
  readonly #sock: dgram.Socket;
  readonly #peer: { address: string; port: number };
  readonly #p: TransferParams;
  readonly #resolve: (r: TransferResult) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #packets: DataPackets;
  readonly #started = Date.now();
  /** A connected socket sends without Node's per-send address lookup. */
  readonly #connected: boolean;
  #acked = 0; // highest block (absolute) the client confirmed
  #sentUpTo = 0;
  #tries = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #onAbort = () => this.#finish({ ok: false, reason: 'server closing' });

  constructor(
    sock: dgram.Socket,
    peer: { address: string; port: number },
    p: TransferParams,
    resolve: (r: TransferResult) => void,
    signal: AbortSignal | undefined,
  ) {
    this.#sock = sock;
    this.#peer = peer;
    this.#p = p;
    this.#resolve = resolve;
    this.#signal = signal;
    this.#packets = dataPackets(p.data, p.blksize);
    this.#connected = isConnected(sock);
  }

  start() {
    this.#signal?.addEventListener('abort', this.#onAbort);
    this.#sock.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    this.#transmit(false);
  }

  #finish(r: TransferResult) {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#sock.removeAllListeners('message');
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#resolve(r);
  }

  #send(b: Buffer) {
    if (this.#connected) this.#sock.send(b);
    else this.#sock.send(b, this.#peer.port, this.#peer.address);
  }

  #onTimeout() {
    if (++this.#tries > this.#p.retries) {
      this.#send(errorPacket(TftpErr.NotDefined, 'timed out'));
      this.#finish({ ok: false, reason: `no ACK after ${this.#p.retries} retries` });
    } else this.#transmit(true);
  }

  /** One timer for the whole transfer, pushed back on every send (refresh, no new Timeout). */
  #arm() {
    if (this.#timer) this.#timer.refresh();
    else this.#timer = setTimeout(() => this.#onTimeout(), this.#p.timeoutMs);
  }

  /**
   * A sliding window: an ACK tops the window up; a timeout resends all of it from the first
   * unconfirmed block (the client dropped something).
   */
  #transmit(again: boolean) {
    if (this.#acked === 0 && this.#p.oack) this.#send(oackPacket(this.#p.oack));
    else {
      const last = Math.min(this.#packets.count, this.#acked + this.#p.windowsize);
      for (let n = again ? this.#acked + 1 : this.#sentUpTo + 1; n <= last; n++)
        this.#send(this.#packets.packet(n));
      this.#sentUpTo = Math.max(this.#sentUpTo, last);
    }
    this.#arm();
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo) {
    if (rinfo.address !== this.#peer.address || rinfo.port !== this.#peer.port) {
      this.#sock.send(errorPacket(TftpErr.UnknownTid, 'unknown transfer ID'), rinfo.port, rinfo.address);
      return;
    }
    let pkt: ReturnType<typeof decodeTftp>;
    if (msg.length === 4 && msg[0] === 0 && msg[1] === Op.Ack)
      pkt = { op: Op.Ack, block: msg.readUInt16BE(2) };
    else {
      try {
        pkt = decodeTftp(msg);
      } catch {
        return; // garbage from the peer: the timeout retransmits if it mattered
      }
    }
    if (pkt.op === Op.Error)
      return this.#finish({ ok: false, reason: `client error ${pkt.code}: ${pkt.message}` });
    if (pkt.op !== Op.Ack) return;
    // Block numbers are 16 bits and wrap: map the ACK into (acked, sentUpTo].
    const outstanding = this.#sentUpTo - this.#acked;
    const delta = (pkt.block - (this.#acked & 0xffff) + 0x10000) & 0xffff;
    if (delta === 0 || delta > outstanding) {
      // ACK 0 after the OACK starts the data; other duplicates are ignored (see above).
      if (this.#acked === 0 && this.#sentUpTo === 0 && pkt.block === 0 && this.#p.oack) {
        this.#tries = 0;
        this.#p.oack = null;
        this.#transmit(false);
      }
      return;
    }
    this.#acked += delta;
    this.#tries = 0;
    if (this.#acked >= this.#packets.count)
      return this.#finish({ ok: true, bytes: this.#p.data.length, ms: Date.now() - this.#started });
    this.#transmit(false);
  }
}

function isConnected(sock: dgram.Socket): boolean {
  try {
    sock.remoteAddress();
    return true;
  } catch {
    return false;
  }
}
