/**
 * The DHCP server's sockets. node:dgram can neither bind to an interface nor say which one a
 * broadcast came in on, so one server serves one provisioning interface (the one holding
 * `serverIp`) plus any number of relayed segments (giaddr selects the subnet).
 *
 * Two sockets share the port (SO_REUSEADDR): `bind.address` (0.0.0.0 to hear broadcasts)
 * and `serverIp`. Replies leave through the `serverIp` one, so the kernel routes a limited
 * broadcast (255.255.255.255) out of the interface that owns serverIp, even on a host with
 * no default route, and clients see our address as the source.
 */
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import type { DhcpHandler } from './handler.ts';
import { DhcpDecodeError, decodeDhcp, encodeDhcp } from './packet.ts';
import type { Addressed } from './reply.ts';

export interface SocketStats {
  received: number;
  malformed: number;
  sent: number;
  dropped: number;
  errors: number;
}

export interface DhcpSockets {
  port: number;
  pxePort: number;
  stats: SocketStats;
  close(): Promise<void>;
}

function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    // A boot storm (a rack powering on at once) arrives faster than one event-loop turn drains
    // it: a large receive buffer turns would-be drops into a little queueing. The kernel caps
    // the size at net.core.rmem_max.
    const s = dgram.createSocket({
      type: 'udp4',
      reuseAddr: true,
      recvBufferSize: 4 * 2 ** 20,
      lookup: literalLookup,
    });
    s.once('error', reject);
    s.bind({ address, port, exclusive: false }, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/**
 * Replies only ever go to IPv4 literals (giaddr, ciaddr, broadcast): answer dgram's address
 * lookup at once. The default (dns.lookup) defers every send by a process.nextTick, which at
 * 20k replies/s was ~10% of the server's CPU (docs/bench-netboot.md, the profile).
 */
function literalLookup(
  address: string,
  _family: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  cb(null, address, 4);
}

export async function openSockets(o: {
  bind: { address: string; port: number };
  serverIp: string;
  pxePort: number | null;
  maxInFlight: number;
  handler: DhcpHandler;
  log: Logger;
}): Promise<DhcpSockets> {
  const stats: SocketStats = { received: 0, malformed: 0, sent: 0, dropped: 0, errors: 0 };
  const main = await bindUdp(o.bind.address, o.bind.port);
  const port = main.address().port;
  const sockets = [main];
  let out = main;
  if (o.bind.address !== o.serverIp) {
    try {
      out = await bindUdp(o.serverIp, port);
      sockets.push(out);
    } catch (e) {
      o.log.warn(
        { err: e, serverIp: o.serverIp },
        'serverIp is not a local address; replies use the main socket',
      );
    }
  }
  out.setBroadcast(true);
  let pxe: dgram.Socket | null = null;
  if (o.pxePort !== null) {
    pxe = await bindUdp(o.bind.address, o.pxePort);
    sockets.push(pxe);
  }
  let inFlight = 0;

  // No callback per send: a send that fails later is reported by the socket's 'error' event
  // (counted there); one that fails at once throws here.
  const send = (r: Addressed, via: dgram.Socket) => {
    try {
      via.send(encodeDhcp(r.packet), r.port, r.address);
      stats.sent++;
    } catch (err) {
      stats.errors++;
      o.log.warn({ err, to: r.address, xid: r.packet.xid.toString(16) }, 'could not send DHCP reply');
    }
  };
  const sendAll = (replies: Addressed[], sock: dgram.Socket, isPxe: boolean, rinfo: dgram.RemoteInfo) => {
    for (const r of replies) {
      // Port 4011 replies go back where the request came from (PXE boot server protocol).
      if (isPxe) send({ ...r, address: rinfo.address, port: rinfo.port }, sock);
      else send(r, out);
    }
  };

  const onMessage = (sock: dgram.Socket, isPxe: boolean) => (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    stats.received++;
    // Bounded work: when the store stalls, drop new requests instead of queueing them
    // without limit; clients retransmit.
    if (inFlight >= o.maxInFlight) {
      stats.dropped++;
      return;
    }
    let pkt: ReturnType<typeof decodeDhcp>;
    try {
      pkt = decodeDhcp(msg);
    } catch (e) {
      stats.malformed++;
      if (e instanceof DhcpDecodeError)
        o.log.debug({ from: rinfo.address, reason: e.message }, 'malformed packet');
      else o.log.warn({ err: e, from: rinfo.address }, 'malformed packet');
      return;
    }
    let result: Addressed[] | Promise<Addressed[]>;
    try {
      result = o.handler.handle(pkt, isPxe);
    } catch (e) {
      stats.errors++;
      o.log.error({ err: e, xid: pkt.xid.toString(16) }, 'DHCP request failed');
      return;
    }
    // Most packets (DISCOVERs, renewals of reservations) are answered in this turn; only
    // those waiting for a commit or an enlistment come back through a promise.
    if (!(result instanceof Promise)) {
      sendAll(result, sock, isPxe, rinfo);
      return;
    }
    inFlight++;
    result.then(
      (replies) => {
        inFlight--;
        sendAll(replies, sock, isPxe, rinfo);
      },
      (e) => {
        inFlight--;
        stats.errors++;
        o.log.error({ err: e, xid: pkt.xid.toString(16) }, 'DHCP request failed');
      },
    );
  };

  for (const s of sockets) {
    s.on('message', onMessage(s, s === pxe));
    s.on('error', (err) => {
      stats.errors++;
      o.log.error({ err }, 'DHCP socket error');
    });
  }

  return {
    port,
    pxePort: pxe ? pxe.address().port : 0,
    stats,
    async close() {
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
