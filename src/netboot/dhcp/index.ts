/**
 * Ingot's DHCPv4 server (RFC 2131/2132, relay agents, PXE/iPXE/UEFI HTTP boot, ProxyDHCP),
 * on node:dgram, with leases persisted in the store by group commit. See docs/netboot-dhcp.md.
 *
 * @example
 * const dhcp = await startDhcpServer({ store, bind: { address: '0.0.0.0' }, serverIp: '10.0.0.1',
 *   httpBase: 'http://10.0.0.1:8081' });
 * // … later
 * await dhcp.close();
 */
import pino, { type Logger } from 'pino';
import type { Store } from '../../store/store.ts';
import { Directory } from './directory.ts';
import { EventBatcher } from './event-batcher.ts';
import { LeaseCommitter } from './group-commit.ts';
import { DhcpHandler } from './handler.ts';
import { type RouterAdvertiser, startRouterAdvertiser } from './ra.ts';
import { openSockets, type SocketStats } from './server.ts';

export interface DhcpServerOptions {
  store: Store;
  /** Where to listen. `0.0.0.0` hears broadcasts from directly attached clients. @default port 67 */
  bind: { address: string; port?: number };
  /** Our address on the provisioning interface: option 54, siaddr, the subnet of direct clients. */
  serverIp: string;
  /** Base of the HTTP boot server, e.g. `http://10.0.0.1:8081` (iPXE scripts, UEFI HTTP boot). */
  httpBase: string;
  /** TFTP server for PXE firmware (siaddr, option 66). @default serverIp */
  tftpServer?: string;
  /** @default 3600 */
  leaseSeconds?: number;
  /** Send IPv6 router advertisements on this interface (runs radvd; see ra.ts for why). */
  ra?: { interface: string };
  logger?: Logger;
  /** ProxyDHCP boot server port (PXE). @default 4011 when `bind.port` is 67, else off */
  pxePort?: number | null;
  /** How often subnets and known MACs are re-read from the store. @default 2000 ms */
  refreshMs?: number;
  /** Group commit window for leases. @default 2 ms */
  commitWindowMs?: number;
  /** Requests being processed at once before new ones are dropped. @default 50000 */
  maxInFlight?: number;
}

export interface DhcpServer {
  close(): Promise<void>;
  port: number;
  /** 0 when the PXE boot server port is off. */
  pxePort: number;
  stats: SocketStats & { batches: number; leases: number };
  /** Re-reads subnets and known MACs now (tests, or after an operator change). */
  refresh(): Promise<void>;
}

export async function startDhcpServer(opts: DhcpServerOptions): Promise<DhcpServer> {
  const log = (opts.logger ?? pino({ level: 'info' })).child({ svc: 'dhcp' });
  const port = opts.bind.port ?? 67;
  const dir = new Directory(opts.store, opts.serverIp, log);
  await dir.start(opts.refreshMs ?? 2000);
  const commit = new LeaseCommitter(opts.store, { windowMs: opts.commitWindowMs });
  const events = new EventBatcher(opts.store, { logger: log });
  const handler = new DhcpHandler(
    {
      serverIp: opts.serverIp,
      tftpServer: opts.tftpServer,
      httpBase: opts.httpBase,
      leaseSeconds: opts.leaseSeconds ?? 3600,
    },
    dir,
    commit,
    events,
    log,
  );
  let ra: RouterAdvertiser | null = null;
  let sockets: Awaited<ReturnType<typeof openSockets>> | null = null;
  try {
    sockets = await openSockets({
      bind: { address: opts.bind.address, port },
      serverIp: opts.serverIp,
      pxePort: opts.pxePort !== undefined ? opts.pxePort : port === 67 ? 4011 : null,
      maxInFlight: opts.maxInFlight ?? 50_000,
      handler,
      log,
    });
    if (opts.ra) ra = await startRouterAdvertiser(opts.ra.interface, log);
  } catch (e) {
    await sockets?.close();
    dir.stop();
    await events.close();
    throw e;
  }
  const s = sockets;
  log.info({ port: s.port, pxePort: s.pxePort, serverIp: opts.serverIp }, 'DHCP server listening');
  return {
    port: s.port,
    pxePort: s.pxePort,
    get stats() {
      return { ...s.stats, ...commit.stats };
    },
    refresh: () => dir.refresh(),
    async close() {
      await s.close();
      dir.stop();
      await commit.drain();
      await events.close();
      await ra?.stop();
    },
  };
}

export type { SocketStats } from './server.ts';
