/**
 * Serves the web console (ui/dist, built by `npm install`'s prepare script or `npm run ui:build`) at `/`. Static files hold no
 * data, so they need no token: the console asks for one and sends it to /api/v1 itself.
 * Unknown GET paths outside the API fall back to index.html so deep links (/machines/ID)
 * survive a reload.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run ui:build` writes the console. */
export const UI_DIST = fileURLToPath(new URL('../../ui/dist/', import.meta.url));

/** Paths owned by the server: never answered with the console's index.html. */
const SERVER_PATHS = /^\/(api|metrics|healthz)(\/|$)/;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export async function registerUi(app: FastifyInstance, distDir: string = UI_DIST): Promise<void> {
  const root = resolve(distDir);
  if (!existsSync(join(root, 'index.html'))) {
    // Not built (a checkout without `npm install`): say how, instead of a bare 404.
    app.get('/', { config: { role: 'public' }, schema: { hide: true } }, async (_req, reply) => {
      reply.type('text/plain').status(503);
      return 'The Ingot web console is not built. Run `npm run ui:build` (`npm install` builds it too), then restart `ingot serve`.\nThe API is at /api/v1 (see /api/v1/openapi.json).\n';
    });
    return;
  }
  // `serve: false`: the plugin's own routes cannot carry `config.role`, so it only lends
  // `reply.sendFile` (ranges, ETags, no path traversal) to the one public route below.
  await app.register(fastifyStatic, {
    root,
    serve: false,
    // Vite fingerprints every file under assets/, so those are cached for good; index.html
    // is revalidated each time so a new build is picked up at once.
    setHeaders(reply, path) {
      reply.header(
        'cache-control',
        path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  app.get('/*', { config: { role: 'public' }, schema: { hide: true } }, async (req, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(req.url.split('?')[0]);
    } catch {
      return reply.callNotFound();
    }
    if (SERVER_PATHS.test(path)) return reply.callNotFound();
    const file = resolve(root, `.${path}`);
    if (file.startsWith(root + sep) && isFile(file)) return reply.sendFile(file.slice(root.length + 1));
    // A missing file (a stale asset name) is a 404, not the app shell.
    if (/\.[a-z0-9]+$/i.test(path)) return reply.callNotFound();
    return reply.sendFile('index.html');
  });
}
