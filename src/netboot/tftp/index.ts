/**
 * Read-only TFTP server for the iPXE boot binaries (RFC 1350, options per RFC 2347/2348/2349
 * and windowsize per RFC 7440). It serves exactly the files in `allow` from `root`; any other
 * name, a path with `..`, a write request, an oversized or malformed packet gets an error or
 * is dropped, and never disturbs a transfer in progress (each has its own socket).
 *
 * @example
 * const tftp = await startTftpServer({ root: '/usr/lib/ipxe', bind: { address: '0.0.0.0' } });
 */
import dgram from 'node:dgram';
import { resolve, sep } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Store } from '../../store/store.ts';
import { EventBatcher } from '../dhcp/event-batcher.ts';
import { BootEvent, IPXE_BINARIES } from '../urls.ts';
import { FileCache } from './file-cache.ts';
import { decodeTftp, errorPacket, MAX_REQUEST, Op, TftpErr, type TftpRequest } from './packet.ts';
import { runTransfer } from './transfer.ts';

export interface TftpServerOptions {
  /** Directory holding the binaries, e.g. `/usr/lib/ipxe` (Debian's `ipxe` package). */
  root: string;
  /** @default port 69 */
  bind: { address: string; port?: number };
  /** When given, each fetch by a known machine goes on its timeline (`tftp.fetch`). */
  store?: Store;
  /** File names that may be fetched. @default the iPXE binaries of IPXE_BINARIES */
  allow?: string[];
  logger?: Logger;
  /** Transfers at once; more are refused with an error the client can retry. @default 128 */
  maxTransfers?: number;
  /** Per-window retransmission timeout unless the client negotiates one. @default 1000 ms */
  timeoutMs?: number;
  /** @default 5 */
  retries?: number;
}

export interface TftpServer {
  port: number;
  stats: {
    requests: number;
    refused: number;
    malformed: number;
    completed: number;
    failed: number;
    active: number;
  };
  close(): Promise<void>;
}

const MAX_BLKSIZE = 65464;
const MAX_WINDOW = 64;

function intOpt(v: string | undefined, min: number, max: number): number | null {
  if (v === undefined || !/^\d{1,6}$/.test(v)) return null;
  const n = Number(v);
  return n < min ? null : Math.min(n, max);
}

export async function startTftpServer(opts: TftpServerOptions): Promise<TftpServer> {
  const log = (opts.logger ?? pino({ level: 'info' })).child({ svc: 'tftp' });
  const root = resolve(opts.root);
  const allow = new Set(opts.allow ?? Object.values(IPXE_BINARIES));
  const events = opts.store ? new EventBatcher(opts.store, { logger: log }) : null;
  const stats = { requests: 0, refused: 0, malformed: 0, completed: 0, failed: 0, active: 0 };
  const transfers = new Set<dgram.Socket>();
  /** Clients (ip:port) with a transfer in progress: a repeated RRQ is a retransmission. */
  const peers = new Set<string>();
  const closing = new AbortController();
  const files = new FileCache();
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((ok, fail) => {
    sock.once('error', fail);
    sock.bind(opts.bind.port ?? 69, opts.bind.address, () => {
      sock.off('error', fail);
      ok();
    });
  });
  sock.on('error', (err) => log.error({ err }, 'TFTP socket error'));

  const refuse = (to: dgram.RemoteInfo, code: number, why: string) => {
    stats.refused++;
    sock.send(errorPacket(code, why), to.port, to.address);
  };

  /** Never rejects: it is awaited only after the transfer, and the timeline is diagnostics. */
  async function machineOf(ip: string): Promise<string | null> {
    if (!opts.store) return null;
    try {
      const rows = await opts.store.findIpsByAddress(ip);
      return rows.find((r) => r.machineId)?.machineId ?? null;
    } catch {
      return null;
    }
  }

  async function serve(req: TftpRequest, from: dgram.RemoteInfo) {
    const name = req.filename.replace(/^\/+/, '');
    const path = resolve(root, name);
    // Only a plain name from the allow list, resolving inside root: no traversal, no subdirs.
    if (!allow.has(name) || name.includes('..') || !path.startsWith(root + sep)) {
      log.warn({ client: from.address, file: req.filename }, 'TFTP request refused: not a boot file');
      return refuse(from, TftpErr.AccessViolation, 'only the iPXE boot files are served');
    }
    if (req.mode !== 'octet') return refuse(from, TftpErr.IllegalOperation, 'binary (octet) mode only');
    const peer = `${from.address}:${from.port}`;
    // The client resent its request before our first packet reached it: one transfer is enough.
    if (peers.has(peer)) return;
    let data: Buffer;
    try {
      data = await files.read(path);
    } catch {
      return refuse(from, TftpErr.FileNotFound, `${name} not found`);
    }
    if (peers.has(peer)) return;
    if (stats.active >= (opts.maxTransfers ?? 128))
      return refuse(from, TftpErr.NotDefined, 'server busy, retry');
    peers.add(peer);
    const oack = new Map<string, string>();
    const blk = intOpt(req.options.get('blksize'), 8, MAX_BLKSIZE);
    if (blk !== null) oack.set('blksize', String(blk));
    if (req.options.get('tsize') !== undefined) oack.set('tsize', String(data.length));
    const win = intOpt(req.options.get('windowsize'), 1, MAX_WINDOW);
    if (win !== null) oack.set('windowsize', String(win));
    const tmo = intOpt(req.options.get('timeout'), 1, 255);
    if (tmo !== null) oack.set('timeout', String(tmo));
    // Which machine asked only matters for the timeline event at the end: the store's answer is
    // awaited after the transfer, so a slow query never delays the first packet.
    const machine = machineOf(from.address);
    const t = dgram.createSocket('udp4');
    transfers.add(t);
    stats.active++;
    try {
      await new Promise<void>((ok) =>
        t.bind(0, opts.bind.address === '0.0.0.0' ? undefined : opts.bind.address, ok),
      );
      t.on('error', (err) => log.debug({ err }, 'TFTP transfer socket error'));
      // Connected to the client: each block's send skips Node's address lookup (a tick) and the
      // kernel's route lookup, and the kernel drops other senders' packets (they get an ICMP
      // port unreachable instead of a TFTP error; the transfer never sees them).
      await new Promise<void>((ok) => t.connect(from.port, from.address, ok));
      const r = await runTransfer(
        t,
        from,
        {
          data,
          blksize: blk ?? 512,
          windowsize: win ?? 1,
          timeoutMs: tmo !== null ? tmo * 1000 : (opts.timeoutMs ?? 1000),
          retries: opts.retries ?? 5,
          oack: oack.size ? oack : null,
        },
        closing.signal,
      );
      const info = { client: from.address, file: name, blksize: blk ?? 512, windowsize: win ?? 1 };
      const machineId = await machine;
      if (r.ok) {
        stats.completed++;
        log.info({ ...info, bytes: r.bytes, ms: r.ms }, 'TFTP transfer done');
      } else {
        stats.failed++;
        log.warn({ ...info, reason: r.reason }, 'TFTP transfer failed');
      }
      if (machineId && events) {
        events.add({
          type: BootEvent.TftpFetch,
          machineId,
          actor: 'tftp',
          level: r.ok ? 'info' : 'warning',
          message: r.ok
            ? `TFTP ${name} sent to ${from.address} (${r.bytes} bytes, ${r.ms} ms)`
            : `TFTP ${name} to ${from.address} failed: ${r.reason}`,
          data: { ...info, ok: r.ok, ...(r.ok ? { bytes: r.bytes, ms: r.ms } : { reason: r.reason }) },
        });
      }
    } finally {
      peers.delete(peer);
      stats.active--;
      transfers.delete(t);
      t.close();
    }
  }

  sock.on('message', (msg, from) => {
    stats.requests++;
    if (msg.length > MAX_REQUEST) {
      stats.malformed++;
      return; // an oversized "request" is not one: drop it unread
    }
    let req: ReturnType<typeof decodeTftp>;
    try {
      req = decodeTftp(msg);
    } catch (e) {
      stats.malformed++;
      log.debug({ client: from.address, reason: (e as Error).message }, 'malformed TFTP packet');
      return;
    }
    if (req.op === Op.Wrq) return refuse(from, TftpErr.AccessViolation, 'read-only server');
    if (req.op !== Op.Rrq) return refuse(from, TftpErr.IllegalOperation, 'expected a read request');
    serve(req, from).catch((err) => log.error({ err, client: from.address }, 'TFTP request failed'));
  });

  log.info({ port: sock.address().port, root }, 'TFTP server listening');
  return {
    port: sock.address().port,
    stats,
    async close() {
      closing.abort();
      await new Promise<void>((r) => sock.close(() => r()));
      await events?.close();
    },
  };
}
