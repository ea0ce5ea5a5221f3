/**
 * Response headers every answer of a region carries: the browser protections of
 * @fastify/helmet (a maintained plugin rather than our own list) with a Content-Security-Policy
 * the built console works under, and `Cache-Control: no-store` on everything that does not
 * set its own caching (API answers may carry tokens and machine data; the console's static
 * files set theirs in src/api/ui.ts).
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * The console is one module script and one stylesheet from /assets, an inline SVG favicon
 * (a data: URL) and fetches to its own origin: nothing else may load, and no one may frame it.
 */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  // A region may serve plain HTTP on loopback (`--http`): upgrading its own requests would break it.
  upgradeInsecureRequests: null,
};

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Not on plain HTTP (browsers ignore it there), and on a self-signed HTTPS region (the
    // default) it would take away the browser's "proceed anyway" (docs/security.md).
    strictTransportSecurity: false,
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
}
