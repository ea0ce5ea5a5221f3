/**
 * Wire schemas of Kubernetes bundles (src/api/routes/bundles.ts). Self-contained: the bundle
 * manifest's schema is src/bundles/manifest-schema.ts (also published as
 * schema/bundle.schema.json); the error responses point at the shared `Error` schema.
 */
import { Type } from 'typebox';
import { BUNDLE_ARCHES } from '../../core/bundle.ts';
import { BundleManifestT } from '../../bundles/manifest-schema.ts';

const Lit = <const T extends readonly string[]>(values: T) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const BundleT = Type.Object(
  {
    id: Type.String(),
    name: Nullable(
      Type.String({ description: 'null while an import given no name is still reading the bundle' }),
    ),
    version: Nullable(Type.String({ description: 'Kubernetes version, e.g. v1.20.2; null until read' })),
    arch: Nullable(Lit(BUNDLE_ARCHES)),
    source: Type.String(),
    path: Type.String({
      description:
        'directory under the artifacts dir; the rack serves its files at /bundles/<name>/<file> to machines with a token',
    }),
    size: Nullable(Type.Integer({ description: 'bytes of all stored files' })),
    sha256: Nullable(
      Type.String({ description: 'SHA-256 of the stored ingot-bundle.json, which lists every file’s' }),
    ),
    status: Lit(['importing', 'ready', 'failed']),
    statusReason: Type.String(),
    manifest: Nullable(BundleManifestT),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Bundle' },
);

export const BundleNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63 }) });

const Sha = Type.String({ pattern: '^[0-9a-fA-F]{64}$' });
const Name = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9][a-z0-9._-]*$' });

export const BundleImportBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    name: Type.Optional(Name),
    sha256: Type.Optional(Sha),
  },
  { additionalProperties: false },
);

export const BundleUploadQuery = Type.Object(
  {
    name: Type.Optional(Name),
    sha256: Type.Optional(Sha),
    /** The uploaded file's (or directory's) name, shown as the source. */
    file: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);

/** The shared error body (`Error`, registered by the server) for every failure status. */
export const bundleErrorResponses = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
};
