/** Request and response plumbing of the virtual BMC's HTTP server. */
import type http from 'node:http';
import type { Reply } from './routes.ts';

export function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 1 << 20) throw new Error('request body over 1 MiB');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function send(resp: http.ServerResponse, reply: Reply, head = false): void {
  const headers: Record<string, string> = { 'OData-Version': '4.0', ...reply.headers };
  if (reply.body === undefined) {
    resp.writeHead(reply.status, headers).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  headers['Content-Type'] = 'application/json; charset=utf-8';
  headers['Content-Length'] = String(Buffer.byteLength(text));
  resp.writeHead(reply.status, headers).end(head ? undefined : text);
}
