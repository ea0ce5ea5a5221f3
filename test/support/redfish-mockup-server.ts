/**
 * Serves a DMTF Redfish mockup in "short form" (paths below /redfish/v1, one index.json per
 * resource) on loopback, like DMTF's Redfish-Mockup-Server: PATCH merges into an in-memory
 * copy, Sessions POST issues a token, ComputerSystem.Reset flips PowerState (On/Off types
 * only) so power sequences can be followed, and every request is recorded for inspection.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

type Json = Record<string, unknown>;

export interface MockupRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly headers: http.IncomingHttpHeaders;
}

export interface MockupServer {
  readonly url: string;
  readonly requests: MockupRequest[];
  close(): Promise<void>;
}

export interface MockupOptions {
  /** Rewrites a resource before it is served (to hide links and exercise fallbacks). */
  readonly transform?: (path: string, body: Json) => Json;
}

/** DMTF's public-rackmount1 mockup, the resources the tests read (test/fixtures/redfish/…/SOURCE.md). */
export const RACKMOUNT1 = path.resolve(import.meta.dirname, '../fixtures/redfish/dmtf-public-rackmount1');

export async function startMockupServer(dir: string, opts: MockupOptions = {}): Promise<MockupServer> {
  const store = new Map<string, Json>();
  const requests: MockupRequest[] = [];
  let sessions = 0;

  const load = (p: string): Json | undefined => {
    if (!store.has(p)) {
      try {
        store.set(p, JSON.parse(readFileSync(path.join(dir, p, 'index.json'), 'utf8')));
      } catch {
        return undefined;
      }
    }
    return store.get(p);
  };

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const body = text ? JSON.parse(text) : undefined;
    const url = new URL(req.url ?? '/', 'http://x');
    const full = url.pathname.replace(/\/+$/, '');
    requests.push({ method: req.method ?? 'GET', path: full, body, headers: req.headers });
    const send = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    };
    if (full === '/redfish') return send(200, { v1: '/redfish/v1/' });
    if (!full.startsWith('/redfish/v1')) return send(404, { error: { message: 'not found' } });
    const rel = full.slice('/redfish/v1'.length).replace(/^\//, '');
    if (req.method === 'POST' && rel === 'SessionService/Sessions') {
      const id = `S${++sessions}`;
      return send(
        201,
        { Id: id },
        { 'X-Auth-Token': `token-${id}`, Location: `/redfish/v1/SessionService/Sessions/${id}` },
      );
    }
    if (req.method === 'DELETE') return send(204);
    const reset = /^Systems\/([^/]+)\/Actions\/ComputerSystem\.Reset$/.exec(rel);
    if (req.method === 'POST' && reset) {
      const sys = load(`Systems/${reset[1]}`);
      const type = (body as Json)?.ResetType as string;
      if (sys && ['On', 'ForceOn'].includes(type)) sys.PowerState = 'On';
      if (sys && ['ForceOff', 'GracefulShutdown'].includes(type)) sys.PowerState = 'Off';
      return send(204);
    }
    if (req.method === 'POST') return send(204);
    const resource = load(rel);
    if (!resource)
      return send(404, { error: { code: 'Base.1.8.ResourceMissingAtURI', message: `${full} not found` } });
    if (req.method === 'PATCH') {
      merge(resource, body as Json);
      return send(204);
    }
    const out = opts.transform ? opts.transform(full, structuredClone(resource)) : resource;
    send(200, out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function merge(into: Json, patch: Json): void {
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (v && typeof v === 'object' && !Array.isArray(v) && into[k] && typeof into[k] === 'object')
      merge(into[k] as Json, v as Json);
    else into[k] = v;
  }
}
