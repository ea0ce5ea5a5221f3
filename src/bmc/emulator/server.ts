/**
 * The virtual Redfish BMC: one HTTP(S) server serving many systems, with sessions, basic
 * auth, ETags, Redfish error bodies and optional fault injection.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultInjector, FaultKind, type FaultOptions } from './faults.ts';
import { MemoryPowerTarget, type PowerTarget } from './power-target.ts';
import { R } from './resources.ts';
import { Quirk, quirkRedirect, withQuirks } from './quirks.ts';
import { errorReply, route, type EmulatorModel, type Reply } from './routes.ts';
import { SessionStore } from './sessions.ts';
import { sessionRoute } from './session-routes.ts';
import { header, readBody, send as sendReply } from './http-io.ts';
import { EmulatedSystem } from './system.ts';
import { generateSelfSignedCert, type SelfSignedCert } from '../../tls/self-signed.ts';

export interface EmulatorOptions {
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** How many systems to serve. @default 1 */
  readonly systems?: number;
  /** @default admin */
  readonly username?: string;
  /** @default password */
  readonly password?: string;
  /** Serve HTTPS with a generated self-signed certificate (or the one given). @default false */
  readonly tls?: boolean | SelfSignedCert;
  /** Fault injection; off unless given. */
  readonly faults?: FaultOptions;
  /** Collection page size; larger collections carry `Members@odata.nextLink`. @default 100 */
  readonly pageSize?: number;
  /** Offer the SessionService; false makes clients fall back to basic auth. @default true */
  readonly sessionService?: boolean;
  /** The power target behind each system. @default an in-memory machine */
  readonly powerTarget?: (id: string, index: number) => PowerTarget;
  /** Vendor behaviours to imitate (src/bmc/emulator/quirks.ts). @default none */
  readonly quirks?: readonly Quirk[];
}

export interface Emulator {
  /** Service origin, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly systems: ReadonlyMap<string, EmulatedSystem>;
  /** Present when serving HTTPS: the certificate's SHA-256 fingerprint. */
  readonly fingerprint256?: string;
  /** Present when serving HTTPS: the certificate (PEM), for clients that verify against a CA file. */
  readonly certPem?: string;
  readonly faults: FaultInjector;
  /** Ingot BMC address of one system, e.g. `redfish+http://127.0.0.1:41234/redfish/v1/Systems/sys-0001`. */
  address(id: string): string;
  /** Sessions currently open. */
  sessionCount(): number;
  /** Requests served so far. */
  readonly stats: { requests: number };
  close(): Promise<void>;
}

const PUBLIC = new Set([
  'GET /redfish',
  'GET /redfish/v1',
  'GET /redfish/v1/odata',
  'POST /redfish/v1/SessionService/Sessions',
]);

export function systemId(index: number, total: number): string {
  return `sys-${String(index).padStart(Math.max(4, String(total).length), '0')}`;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const count = opts.systems ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new RangeError('systems: must be a positive integer');
  const systems = new Map<string, EmulatedSystem>();
  for (let i = 1; i <= count; i++) {
    const id = systemId(i, count);
    systems.set(id, new EmulatedSystem(i, id, opts.powerTarget?.(id, i) ?? new MemoryPowerTarget()));
  }
  const faults = new FaultInjector(opts.faults);
  const model: EmulatorModel = { uuid: randomUUID(), systems, pageSize: opts.pageSize ?? 100, faults };
  const sessions = new SessionStore(opts.username ?? 'admin', opts.password ?? 'password');
  const stats = { requests: 0 };
  const quirks = new Set(opts.quirks ?? []);
  const send = (resp: http.ServerResponse, reply: Reply, head = false) =>
    sendReply(resp, withQuirks(quirks, reply), head);
  const hangs = new Set<NodeJS.Timeout>();
  const cert =
    opts.tls === true
      ? await generateSelfSignedCert([opts.host ?? '127.0.0.1', 'localhost'])
      : opts.tls || undefined;

  const handler = (req: http.IncomingMessage, resp: http.ServerResponse): void => {
    stats.requests++;
    handle(req, resp).catch((e: unknown) => {
      if (!resp.headersSent)
        send(
          resp,
          errorReply(
            500,
            'InternalError',
            `The request failed: ${(e as Error).message}`,
            'Resubmit the request. If the problem persists, restart the service.',
          ),
        );
    });
  };

  async function handle(req: http.IncomingMessage, resp: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const moved = quirkRedirect(quirks, url.pathname, url.search);
    if (moved) return send(resp, moved);
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(
          resp,
          errorReply(
            400,
            'MalformedJSON',
            'The request body submitted was malformed JSON and could not be parsed by the receiving service.',
            'Ensure that the request body is valid JSON and resubmit the request.',
          ),
        );
      }
    }
    const token = header(req, 'x-auth-token');
    const session = token ? sessions.byTokenOf(token) : undefined;
    const fault = faults.pick({
      method,
      hasSession: session !== undefined,
      isSystemGet: method === 'GET' && /^\/redfish\/v1\/Systems\/[^/]+$/.test(path),
    });
    if (fault === FaultKind.Timeout) {
      const t = setTimeout(() => {
        hangs.delete(t);
        req.socket.destroy();
      }, faults.hangMs);
      hangs.add(t);
      return;
    }
    if (fault === FaultKind.ServerError)
      return send(
        resp,
        errorReply(
          500,
          'InternalError',
          'The request failed due to an internal service error (injected fault).',
          'Resubmit the request. If the problem persists, consider resetting the service.',
        ),
      );
    if (fault === FaultKind.PreconditionFailed)
      return send(
        resp,
        errorReply(
          412,
          'PreconditionFailed',
          'The ETag supplied did not match the ETag required to change this resource (injected fault).',
          'Try the operation again using the appropriate ETag.',
        ),
      );
    if (fault === FaultKind.Slow) await sleep(faults.slowMs);
    if (fault === FaultKind.DropSession && session) sessions.delete(session.id);
    if (fault === FaultKind.WrongPower) {
      const sys = systems.get(decodeURIComponent(path.split('/')[4] ?? ''));
      if (sys) sys.lieAboutPowerOnce = true;
    }

    if (path === '/redfish' && method === 'GET') return send(resp, { status: 200, body: { v1: `${R}/` } });
    if (path === '/redfish/v1/odata' && method === 'GET')
      return send(resp, {
        status: 200,
        body: {
          '@odata.context': `${R}/$metadata`,
          value: [{ name: 'Service', kind: 'Singleton', url: `${R}/` }],
        },
      });
    const authed =
      fault === FaultKind.DropSession ? undefined : (session ?? (checkBasic(req) ? null : undefined));
    if (!PUBLIC.has(`${method} ${path}`) && authed === undefined) {
      return send(resp, {
        ...errorReply(
          401,
          'NoValidSession',
          'There is no valid session established with the implementation.',
          'Establish a session before attempting any operations.',
        ),
        headers: { 'WWW-Authenticate': 'Basic realm="Ingot virtual BMC"' },
      });
    }
    if (!path.startsWith(R))
      return send(
        resp,
        errorReply(
          404,
          'ResourceMissingAtURI',
          `The resource at the URI ${path} was not found.`,
          'Correct the URI and resubmit the request.',
          [path],
        ),
      );
    const sub = path.slice(R.length);
    if (sub.startsWith('/SessionService'))
      return send(
        resp,
        sessionRoute(sessions, opts.sessionService !== false, { method, sub, body, session: authed ?? null }),
      );
    const reply = await route(model, {
      method,
      path: sub,
      query: url.searchParams,
      body,
      ifMatch: header(req, 'if-match'),
    });
    send(resp, reply, method === 'HEAD');
  }

  function checkBasic(req: http.IncomingMessage): boolean {
    const auth = header(req, 'authorization');
    return auth !== undefined && sessions.checkBasic(auth);
  }

  const server = cert
    ? https.createServer({ cert: cert.certPem, key: cert.keyPem, keepAlive: true }, handler)
    : http.createServer({ keepAlive: true }, handler);
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `${cert ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closed = false;
  return {
    url: origin,
    host,
    port,
    systems,
    fingerprint256: cert?.fingerprint256,
    certPem: cert?.certPem,
    faults,
    stats,
    address: (id) => `redfish+${origin}${R}/Systems/${id}${quirks.has(Quirk.TrailingSlash) ? '/' : ''}`,
    sessionCount: () => sessions.size,
    async close() {
      if (closed) return;
      closed = true;
      for (const t of hangs) clearTimeout(t);
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
      await Promise.all([...systems.values()].map((s) => s.target.close?.()));
    },
  };
}
