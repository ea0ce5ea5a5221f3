/**
 * The boot HTTP server of a rack: iPXE scripts, artifacts (Range), Kubernetes bundles (token),
 * the metadata service and the agent's phone-home. Its own node:http server, not the region's API: iPXE clients send no
 * bearer token, and the per-machine boot token is checked only where data is per machine.
 */
import { ErrorCode } from '../../core/errors.ts';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { BUNDLE_HTTP_PREFIX } from '../../core/bundle.ts';
import { NODE_SMART_PATH } from '../../core/node-agent-protocol.ts';
import type { Store } from '../../store/store.ts';
import { metadataRoute } from '../metadata/route.ts';
import type { MetadataSource } from '../metadata/documents.ts';
import { agentHello } from './agent-hello.ts';
import { agentNodeHello } from './node-hello.ts';
import { agentNodeSmart } from './node-smart.ts';
import { deployMetadataSource } from './agent-metadata.ts';
import { agentNextTask, agentReport } from './agent-tasks.ts';
import { artifactRoute } from './artifact-route.ts';
import { bundleRoute } from './bundle-route.ts';
import { agentTaskFile, isTaskFileUrl } from './agent-task-file.ts';
import { ArtifactDir } from './artifacts.ts';
import { bootScript } from './boot-script.ts';
import type { BootContext, EphemeralImage } from './context.ts';
import { sendRefusal, sendText } from './context.ts';
import { EventSink } from './events.ts';
import { type BootLogger, silentLogger } from './logger.ts';
import { agentOsBooted } from './os-booted.ts';
import { RACK_CERT_PATH, servedOverPlainHttp } from './plain-boot.ts';

/** The rack's HTTPS: its certificate (src/tls/server-cert.ts) and where it listens. */
export interface BootTls {
  readonly certPem: string;
  readonly keyPem: string;
  /** `sha256//BASE64` of the public key: the agent's pin (`ingot.pin=`). */
  readonly publicKeyPin: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
}

export interface BootHttpOptions {
  readonly store: Store;
  /** Address to listen on (the provisioning interface's address). */
  readonly host: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** URL machines use to reach this server. @default http://HOST:PORT */
  readonly publicUrl?: string;
  /** Where the ephemeral OS phones home. @default publicUrl (this server answers /agent/v1/hello) */
  readonly agentUrl?: string;
  readonly artifactsDir: string;
  /** iPXE binaries for UEFI HTTP boot. @default /usr/lib/ipxe */
  readonly ipxeDir?: string;
  readonly ephemeral?: EphemeralImage | null;
  /** Lifetime of a boot token. @default 6 hours */
  readonly tokenTtlMs?: number;
  readonly metadata?: MetadataSource;
  readonly logger?: BootLogger;
  /**
   * HTTPS for everything that carries a token or a secret; plain HTTP keeps only what firmware
   * fetches (plain-boot.ts). Absent: everything on plain HTTP (tests of the firmware path).
   */
  readonly tls?: BootTls | null;
  /** Bytes of artifacts kept in memory. @default 512 MiB */
  readonly cacheBytes?: number;
  /** Memory for large files' shared chunks (OS images). @default 256 MiB */
  readonly chunkCacheBytes?: number;
}

export interface BootHttpServer {
  /** The firmware's URL (plain HTTP). */
  readonly url: string;
  readonly port: number;
  /** The agent's and the deployed OS's URL: HTTPS when the rack has a certificate, else `url`. */
  readonly secureUrl: string;
  /** The HTTPS port, null without TLS. */
  readonly securePort: number | null;
  readonly server: http.Server;
  close(): Promise<void>;
}

export async function startBootHttpServer(o: BootHttpOptions): Promise<BootHttpServer> {
  const log = o.logger ?? silentLogger;
  const server = http.createServer({ keepAlive: true, requestTimeout: 60_000 });
  const secure = o.tls
    ? https.createServer({
        keepAlive: true,
        requestTimeout: 60_000,
        cert: o.tls.certPem,
        key: o.tls.keyPem,
        // The client's order of the (all strong) suites wins: agents on a CPU without AES
        // instructions ask for ChaCha20-Poly1305 first (cipher_prefs in the agent's lib/rack.sh:
        // under QEMU TCG it is 7–30× AES-GCM, and the image download is the deploy's longest
        // step); Node's server order would give them AES-256-GCM.
        honorCipherOrder: false,
      })
    : null;
  const sockets = new Set<Socket>();
  const listen = async (srv: http.Server, port: number): Promise<number> => {
    srv.keepAliveTimeout = 30_000;
    srv.on(srv === server ? 'connection' : 'secureConnection', (s: Socket) => {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host: o.host, port, backlog: 4096 }, () => resolve());
    });
    return (srv.address() as AddressInfo).port;
  };
  const port = await listen(server, o.port ?? 0);
  let securePort: number | null = null;
  if (secure) {
    try {
      securePort = await listen(secure, o.tls?.port ?? 0);
    } catch (e) {
      await new Promise((r) => server.close(r));
      throw e;
    }
  }
  const hostPart = o.host.includes(':') ? `[${o.host}]` : o.host;
  const publicUrl = (o.publicUrl ?? `http://${hostPart}:${port}`).replace(/\/+$/, '');
  const secureUrl = securePort === null ? publicUrl : `https://${hostPart}:${securePort}`;
  const ctx: BootContext = {
    store: o.store,
    events: new EventSink(o.store, log),
    log,
    publicUrl,
    secureUrl,
    agentUrl: (o.agentUrl ?? secureUrl).replace(/\/+$/, ''),
    pin: o.tls?.publicKeyPin ?? null,
    certPem: o.tls?.certPem ?? null,
    artifacts: new ArtifactDir(o.artifactsDir, {
      cacheBytes: o.cacheBytes,
      chunkCacheBytes: o.chunkCacheBytes,
    }),
    ipxe: new ArtifactDir(o.ipxeDir ?? '/usr/lib/ipxe', { cacheBytes: 8 * 2 ** 20 }),
    ephemeral: o.ephemeral ?? null,
    tokenTtlMs: o.tokenTtlMs ?? 6 * 3600_000,
  };
  const metadata = metadataRoute(o.metadata ?? deployMetadataSource(o.store));

  const handle = (plain: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    // In a promise: a request target URL cannot parse must not throw out of the event handler.
    const answer = (async () =>
      plain &&
      secure &&
      !servedOverPlainHttp(req.method, new URL(req.url ?? '/', 'http://boot').pathname, ctx.ephemeral)
        ? refusePlain(req, res)
        : route(req, res))();
    answer.catch((e: unknown) => {
      log.error({ err: e, path: req.url }, 'boot HTTP request failed');
      if (!res.headersSent) sendRefusal(res, ErrorCode.Internal, `internal error: ${(e as Error).message}\n`);
      else res.destroy();
    });
  };
  server.on('request', handle(true));
  secure?.on('request', handle(false));

  /** Tokens and secrets never cross plain HTTP when the rack has HTTPS: say where to go instead. */
  async function refusePlain(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://boot').pathname;
    log.warn({ path, ip: req.socket.remoteAddress }, 'plain HTTP request for an HTTPS-only path refused');
    sendRefusal(res, ErrorCode.Forbidden, `${path} is served over HTTPS only: ${secureUrl}${path}\n`);
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://boot');
    const p = url.pathname;
    const get = req.method === 'GET' || req.method === 'HEAD';
    // etcd snapshots hold every Secret of a cluster: only their node task moves them.
    if (p.startsWith('/artifacts/') && isTaskFileUrl(p.slice(11)))
      return sendRefusal(res, ErrorCode.NotFound, `no route ${req.method} ${p}\n`);
    if (get && p.startsWith('/artifacts/'))
      return artifactRoute(req, res, url, ctx, ctx.artifacts, p.slice(11));
    if (get && p.startsWith('/ipxe/')) return artifactRoute(req, res, url, ctx, ctx.ipxe, p.slice(6));
    if (get && p.startsWith(BUNDLE_HTTP_PREFIX)) return bundleRoute(req, res, url, ctx);
    if (get && p.startsWith('/boot/')) return bootScript(req, res, url, ctx);
    if (p === '/agent/v1/hello')
      return req.method === 'POST'
        ? agentHello(req, res, url, ctx)
        : sendRefusal(res, ErrorCode.MethodNotAllowed, 'use POST\n');
    if (p === '/agent/v1/node-hello')
      return req.method === 'POST'
        ? agentNodeHello(req, res, url, ctx)
        : sendRefusal(res, ErrorCode.MethodNotAllowed, 'use POST\n');
    if (p === NODE_SMART_PATH)
      return req.method === 'POST'
        ? agentNodeSmart(req, res, url, ctx)
        : sendRefusal(res, ErrorCode.MethodNotAllowed, 'use POST\n');
    if (p === '/agent/v1/task')
      return req.method === 'GET'
        ? agentNextTask(req, res, url, ctx)
        : sendRefusal(res, ErrorCode.MethodNotAllowed, 'use GET\n');
    if (p.startsWith('/agent/v1/tasks/') && p.endsWith('/file'))
      return req.method === 'PUT' || req.method === 'GET'
        ? agentTaskFile(req, res, url, ctx)
        : sendRefusal(res, ErrorCode.MethodNotAllowed, 'use PUT or GET\n');
    if (p.startsWith('/agent/v1/tasks/'))
      return req.method === 'POST'
        ? agentReport(req, res, url, ctx)
        : sendRefusal(res, ErrorCode.MethodNotAllowed, 'use POST\n');
    if (p === '/agent/v1/os-booted' || p.startsWith('/agent/v1/os-booted/'))
      return req.method === 'POST'
        ? agentOsBooted(req, res, url, ctx)
        : sendRefusal(res, ErrorCode.MethodNotAllowed, 'use POST\n');
    if (get && p === '/healthz') return sendText(res, 200, 'ok\n');
    if (get && p === RACK_CERT_PATH && ctx.certPem)
      return sendText(res, 200, ctx.certPem, 'application/x-pem-file');
    if (await metadata(req, res, url, ctx)) return;
    sendRefusal(res, ErrorCode.NotFound, `no route ${req.method} ${p}\n`);
  }

  let closed = false;
  return {
    url: publicUrl,
    port,
    secureUrl,
    securePort,
    server,
    async close() {
      if (closed) return;
      closed = true;
      const done = Promise.all(
        [server, secure]
          .filter((s) => s !== null)
          .map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
      for (const s of sockets) s.destroy();
      await done;
      await ctx.events.flush();
    },
  };
}
