/**
 * Kubernetes bundles: `GET /bundles`, `GET /bundles/{name}`, `POST /bundles` (import from a URL,
 * 202 while it downloads), `POST /bundles/upload` (the bundle tarball as the request body, 201
 * once read and stored), `DELETE /bundles/{name}`. Files land in `<artifactsDir>/bundles/<id>/`,
 * which the rack's boot HTTP server serves at `/bundles/<name>/` to machines with a token.
 * Roles as for images: viewers read, admins change.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BundleRegistry } from '../../bundles/registry.ts';
import type { SourcePolicy, SourcePolicyOptions } from '../../images/source-policy.ts';
import type { Store } from '../../store/store.ts';
import { actorOf } from '../auth.ts';
import { uploadBody } from '../validation.ts';
import {
  BundleImportBody,
  BundleNameParams,
  BundleUploadQuery,
  errorResponses as errors,
} from '../schemas/index.ts';

export interface BundleRouteOptions {
  /** Where bundle files live: `<artifactsDir>/bundles/`. */
  artifactsDir: string;
  /** The registry to use (the region passes the one it recovered at start). */
  registry?: BundleRegistry;
  /** Which addresses URL imports may fetch from (as for images); refuses the region's own host by default. */
  sources?: SourcePolicy | SourcePolicyOptions;
}

export function bundleRoutes(store: Store, o: BundleRouteOptions): FastifyPluginAsyncTypebox {
  const registry = o.registry ?? new BundleRegistry(store, o.artifactsDir, { sources: o.sources });
  return async (app) => {
    const tags = ['bundles'];
    // Uploads: the body is the tarball, handed to the route as the raw request stream.
    app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    app.get('/bundles', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'List Kubernetes bundles',
        response: { 200: Type.Array(Type.Ref('Bundle')), ...errors },
      },
      handler: async () => registry.list(),
    });
    app.get('/bundles/:name', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'Get a bundle by name or id, with its manifest (binaries, images, CNI plugins)',
        params: BundleNameParams,
        response: { 200: Type.Ref('Bundle'), ...errors },
      },
      handler: async (req) => registry.get(req.params.name),
    });
    app.post('/bundles', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary:
          'Import a bundle from an http(s) URL; 202 while it downloads, poll GET /bundles/{name or id}',
        body: BundleImportBody,
        response: { 202: Type.Ref('Bundle'), ...errors },
      },
      handler: async (req, reply) => {
        const { bundle } = await registry.importUrl(req.body, actorOf(req));
        reply.status(202);
        return bundle;
      },
    });
    app.post('/bundles/upload', {
      config: { role: 'admin' },
      bodyLimit: Number.MAX_SAFE_INTEGER,
      schema: {
        tags,
        summary:
          'Upload a bundle (Content-Type: application/octet-stream): the release tarball, or a tar of a bundle directory; 201 once read, checked and stored',
        querystring: BundleUploadQuery,
        response: { 201: Type.Ref('Bundle'), ...errors },
      },
      handler: async (req, reply) => {
        const q = req.query;
        const b = await registry.importStream(
          { name: q.name, sha256: q.sha256, fileName: q.file },
          uploadBody(req),
          actorOf(req),
        );
        reply.status(201);
        return b;
      },
    });
    app.delete('/bundles/:name', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Remove a bundle and its files (stops an import in progress)',
        params: BundleNameParams,
        response: { 204: Type.Null(), ...errors },
      },
      handler: async (req, reply) => {
        await registry.remove(req.params.name, actorOf(req));
        reply.status(204);
        return null;
      },
    });
  };
}
