/**
 * OS and boot images: `GET /images`, `GET /images/{name}`, `POST /images` (import from a URL,
 * 202 while it downloads), `PUT /images/{name}` (upload the file as the request body, 201 when
 * stored and verified), `DELETE /images/{name}`. Files land in the region's artifacts dir
 * (`<artifactsDir>/images/…`), which the rack's boot HTTP server serves at `/artifacts/`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ImageRegistry } from '../../images/registry.ts';
import type { SourcePolicy, SourcePolicyOptions } from '../../images/source-policy.ts';
import type { Store } from '../../store/store.ts';
import { actorOf } from '../auth.ts';
import { uploadBody } from '../validation.ts';
import { errorResponses, ImportBody, NameParams, UploadQuery } from '../schemas/index.ts';

export interface ImageRouteOptions {
  /** Where image files live: `<artifactsDir>/images/`. Default: `<dataDir>/artifacts`. */
  artifactsDir: string;
  /** Which addresses URL imports may fetch from; refuses the region's own host by default. */
  sources?: SourcePolicy | SourcePolicyOptions;
}

export function imageRoutes(store: Store, o: ImageRouteOptions): FastifyPluginAsyncTypebox {
  const registry = new ImageRegistry(store, o.artifactsDir, { sources: o.sources });
  return async (app) => {
    const tags = ['images'];
    // Uploads: the body is the file, handed to the route as the raw request stream.
    app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    app.get('/images', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'List images',
        response: { 200: Type.Array(Type.Ref('Image')), ...errorResponses },
      },
      handler: async () => registry.list(),
    });
    app.get('/images/:name', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'Get an image by name or id',
        params: NameParams,
        response: { 200: Type.Ref('Image'), ...errorResponses },
      },
      handler: async (req) => registry.get(req.params.name),
    });
    app.post('/images', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Import an image from an http(s) URL; 202 while it downloads, poll GET /images/{name}',
        body: ImportBody,
        response: { 202: Type.Ref('Image'), ...errorResponses },
      },
      handler: async (req, reply) => {
        const { image } = await registry.importUrl(req.body, actorOf(req));
        reply.status(202);
        return image;
      },
    });
    app.put('/images/:name', {
      config: { role: 'admin' },
      bodyLimit: Number.MAX_SAFE_INTEGER,
      schema: {
        tags,
        summary:
          'Upload an image file (Content-Type: application/octet-stream); 201 once stored and verified',
        params: NameParams,
        querystring: UploadQuery,
        response: { 201: Type.Ref('Image'), ...errorResponses },
      },
      handler: async (req, reply) => {
        const q = req.query;
        const img = await registry.importStream(
          {
            name: req.params.name,
            kind: q.kind,
            format: q.format,
            compression: q.compression,
            sha256: q.sha256,
            fileName: q.file,
            source: q.source,
          },
          uploadBody(req),
          actorOf(req),
        );
        reply.status(201);
        return img;
      },
    });
    app.delete('/images/:name', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Remove an image and its file',
        params: NameParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      handler: async (req, reply) => {
        await registry.remove(req.params.name, actorOf(req));
        reply.status(204);
        return null;
      },
    });
  };
}
