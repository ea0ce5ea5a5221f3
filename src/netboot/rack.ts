/**
 * Rack services: everything that must sit on the machines' network — DHCP (src/netboot/dhcp),
 * the boot HTTP server (iPXE scripts, artifacts, metadata, the agent's phone-home) and, when
 * asked, TFTP for PXE firmware that is not iPXE. One instance serves one provisioning
 * interface (node:dgram cannot bind to an interface; see docs/architecture.md).
 *
 * @example
 * const rack = await startRackServices({ store, provisioningIp: '10.0.0.1', httpPort: 8081,
 *   artifactsDir: '/var/lib/ingot/artifacts',
 *   ephemeral: { kernel: 'ephemeral/vmlinuz', initrd: 'ephemeral/initrd.img' } });
 */
import pino, { type Logger } from 'pino';
import type { Store } from '../store/store.ts';
import { type DhcpServer, startDhcpServer } from './dhcp/index.ts';
import { type BootHttpServer, type EphemeralImage, startBootHttpServer } from './http/index.ts';
import type { BootTls } from './http/server.ts';
import { startTftpServer, type TftpServer } from './tftp/index.ts';
import type { MetadataSource } from './metadata/index.ts';

export interface RackServicesOptions {
  readonly store: Store;
  /** This host's address on the provisioning network. */
  readonly provisioningIp: string;
  /** Boot HTTP port (what firmware fetches). @default 8081 */
  readonly httpPort?: number;
  /**
   * HTTPS for the agent, OS images, metadata and bundles (port @default 8443); null: all plain
   * HTTP (`--insecure-http`).
   */
  readonly tls?: BootTls | null;
  /** DHCP; `false` when another DHCP server (or a relay to one) hands out the boot file. */
  readonly dhcp?:
    | false
    | {
        /** @default 67 */
        readonly port?: number;
        readonly leaseSeconds?: number;
        /** Send IPv6 RAs on this interface (saves iPXE a ~13 s IPv6 wait on segments without a router). */
        readonly raInterface?: string;
        readonly refreshMs?: number;
      };
  /**
   * TFTP for firmware that only speaks PXE/TFTP (most server NICs' own ROMs): it chainloads the
   * iPXE binaries from `root`. `false` to leave TFTP to another server.
   */
  readonly tftp?:
    | false
    | {
        /** @default /usr/lib/ipxe (Debian's `ipxe` package) */
        readonly root?: string;
        /** @default 69 */
        readonly port?: number;
      };
  /** Kernels, initrds, OS images: served under /artifacts/. */
  readonly artifactsDir: string;
  /** The ephemeral OS (paths under artifactsDir). */
  readonly ephemeral?: EphemeralImage | null;
  /** Where the ephemeral OS phones home. @default this rack's boot HTTP server */
  readonly regionUrl?: string;
  readonly metadata?: MetadataSource;
  /** Bytes of artifacts kept in memory. @default 512 MiB */
  readonly cacheBytes?: number;
  readonly logger?: Logger;
}

export interface RackServices {
  /** Base URL of the boot HTTP server, e.g. `http://10.0.0.1:8081`. */
  readonly httpUrl: string;
  /** Its HTTPS URL, e.g. `https://10.0.0.1:8443`; httpUrl without TLS. */
  readonly httpsUrl: string;
  readonly http: BootHttpServer;
  readonly dhcp: DhcpServer | null;
  readonly tftp: TftpServer | null;
  close(): Promise<void>;
}

export async function startRackServices(o: RackServicesOptions): Promise<RackServices> {
  const log = o.logger ?? pino({ level: 'info' });
  const http = await startBootHttpServer({
    store: o.store,
    host: o.provisioningIp,
    port: o.httpPort ?? 8081,
    artifactsDir: o.artifactsDir,
    ephemeral: o.ephemeral,
    agentUrl: o.regionUrl,
    tls: o.tls ? { ...o.tls, port: o.tls.port ?? 8443 } : null,
    metadata: o.metadata,
    cacheBytes: o.cacheBytes,
    logger: log.child({ svc: 'boot-http' }),
  });
  let dhcp: DhcpServer | null = null;
  if (o.dhcp !== false) {
    const d = o.dhcp ?? {};
    try {
      dhcp = await startDhcpServer({
        store: o.store,
        bind: { address: '0.0.0.0', port: d.port ?? 67 },
        serverIp: o.provisioningIp,
        httpBase: http.url,
        leaseSeconds: d.leaseSeconds,
        ra: d.raInterface ? { interface: d.raInterface } : undefined,
        refreshMs: d.refreshMs,
        logger: log,
      });
    } catch (e) {
      await http.close();
      throw e;
    }
  }
  let tftp: TftpServer | null = null;
  if (o.tftp !== false) {
    const t = o.tftp ?? {};
    try {
      tftp = await startTftpServer({
        root: t.root ?? '/usr/lib/ipxe',
        bind: { address: '0.0.0.0', port: t.port ?? 69 },
        store: o.store,
        logger: log,
      });
    } catch (e) {
      await dhcp?.close();
      await http.close();
      throw e;
    }
  }
  log.info({ http: http.url, dhcp: dhcp?.port ?? null, tftp: tftp?.port ?? null }, 'rack services ready');
  return {
    httpUrl: http.url,
    httpsUrl: http.secureUrl,
    http,
    dhcp,
    tftp,
    async close() {
      await tftp?.close();
      await dhcp?.close();
      await http.close();
    },
  };
}
