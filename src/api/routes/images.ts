/**
 * OS and boot images: `GET /images`, `GET /images/{name}`, `POST /images` (import from a URL,
 * 202 while it downloads), `PUT /images/{name}` (upload the file as the request body, 201 when
 * stored and verified), `DELETE /images/{name}`. Files land in the region's artifacts dir
 * (`<artifactsDir>/images/…`), which the rack's boot HTTP server serves at `/artifacts/`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ImageRegistry } from '../../images/registry.ts';
import { COMPRESSIONS, IMAGE_FORMATS, IMAGE_KINDS } from '../../images/types.ts';
import type { Store } from '../../store/store.ts';
import { actorOf } from '../auth.ts';
import { errorResponses } from '../schemas.ts';

const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const ImageT = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    kind: lit(IMAGE_KINDS),
    format: lit(IMAGE_FORMATS),
    compression: lit(COMPRESSIONS),
    size: Type.Union([Type.Integer(), Type.Null()]),
    virtualSize: Type.Union([Type.Integer(), Type.Null()]),
    sha256: Type.Union([Type.String(), Type.Null()]),
    source: Type.String(),
    path: Type.String({
      description: 'path under the artifacts dir; the rack serves it at /artifacts/<path>',
    }),
    status: Type.Union([Type.Literal('importing'), Type.Literal('ready'), Type.Literal('failed')]),
    statusReason: Type.String(),
    manifest: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Image' },
);

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63 }) });
const Sha = Type.String({ pattern: '^[0-9a-fA-F]{64}$' });

const ImportBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63 }),
    url: Type.String({ minLength: 1 }),
    sha256: Type.Optional(Sha),
    kind: Type.Optional(lit(IMAGE_KINDS)),
    format: Type.Optional(lit(IMAGE_FORMATS)),
    compression: Type.Optional(lit(COMPRESSIONS)),
  },
  { additionalProperties: false },
);

const UploadQuery = Type.Object(
  {
    sha256: Type.Optional(Sha),
    kind: Type.Optional(lit(IMAGE_KINDS)),
    format: Type.Optional(lit(IMAGE_FORMATS)),
    compression: Type.Optional(lit(COMPRESSIONS)),
    /** The uploaded file's name (format/compression hints, shown as the source). */
    file: Type.Optional(Type.String({ maxLength: 255 })),
    /** `build:<recipe>` for images built by `ingot image build`. */
    source: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export interface ImageRouteOptions {
  /** Where image files live: `<artifactsDir>/images/`. Default: `<dataDir>/artifacts`. */
  artifactsDir: string;
}

export function imageRoutes(store: Store, o: ImageRouteOptions): FastifyPluginAsyncTypebox {
  const registry = new ImageRegistry(store, o.artifactsDir);
  return async (app) => {
    const tags = ['images'];
    app.addSchema(ImageT);
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
          req.body as AsyncIterable<Buffer>,
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
