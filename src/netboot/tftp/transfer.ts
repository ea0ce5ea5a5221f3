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
import { dataPackets } from './blocks.ts';
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
  const packets = dataPackets(p.data, p.blksize);
  const total = packets.count;
  const started = Date.now();
  let acked = 0; // highest block (absolute) the client confirmed
  let sentUpTo = 0;
  let tries = 0;
  let timer: NodeJS.Timeout | null = null;

  return new Promise<TransferResult>((resolve) => {
    const finish = (r: TransferResult) => {
      if (timer) clearTimeout(timer);
      timer = null;
      sock.removeAllListeners('message');
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = () => finish({ ok: false, reason: 'server closing' });
    signal?.addEventListener('abort', onAbort);
    // A connected socket sends without Node's per-send address lookup.
    const connected = isConnected(sock);
    const send = (b: Buffer) => (connected ? sock.send(b) : sock.send(b, peer.port, peer.address));
    const onTimeout = () => {
      if (++tries > p.retries) {
        send(errorPacket(TftpErr.NotDefined, 'timed out'));
        finish({ ok: false, reason: `no ACK after ${p.retries} retries` });
      } else transmit(true);
    };
    // One timer for the whole transfer, pushed back on every send (refresh, no new Timeout).
    const arm = () => {
      if (timer) timer.refresh();
      else timer = setTimeout(onTimeout, p.timeoutMs);
    };
    // A sliding window: an ACK tops the window up; a timeout resends all of it from the
    // first unconfirmed block (the client dropped something).
    const transmit = (again: boolean) => {
      if (acked === 0 && p.oack) send(oackPacket(p.oack));
      else {
        const last = Math.min(total, acked + p.windowsize);
        for (let n = again ? acked + 1 : sentUpTo + 1; n <= last; n++) send(packets.packet(n));
        sentUpTo = Math.max(sentUpTo, last);
      }
      arm();
    };

    sock.on('message', (msg, rinfo) => {
      if (rinfo.address !== peer.address || rinfo.port !== peer.port) {
        sock.send(errorPacket(TftpErr.UnknownTid, 'unknown transfer ID'), rinfo.port, rinfo.address);
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
        return finish({ ok: false, reason: `client error ${pkt.code}: ${pkt.message}` });
      if (pkt.op !== Op.Ack) return;
      // Block numbers are 16 bits and wrap: map the ACK into (acked, sentUpTo].
      const outstanding = sentUpTo - acked;
      const delta = (pkt.block - (acked & 0xffff) + 0x10000) & 0xffff;
      if (delta === 0 || delta > outstanding) {
        // ACK 0 after the OACK starts the data; other duplicates are ignored (see above).
        if (acked === 0 && sentUpTo === 0 && pkt.block === 0 && p.oack) {
          tries = 0;
          p.oack = null;
          transmit(false);
        }
        return;
      }
      acked += delta;
      tries = 0;
      if (acked >= total) return finish({ ok: true, bytes: p.data.length, ms: Date.now() - started });
      transmit(false);
    });
    transmit(false);
  });
}

function isConnected(sock: dgram.Socket): boolean {
  try {
    sock.remoteAddress();
    return true;
  } catch {
    return false;
  }
}
