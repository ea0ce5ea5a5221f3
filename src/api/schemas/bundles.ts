/**
 * Kubernetes bundles: `/bundles…` (src/api/routes/bundles.ts). The bundle manifest's schema is
 * src/bundles/manifest-schema.ts (also published as schema/bundle.schema.json).
 */
import { Type } from 'typebox';
import { BUNDLE_ARCHES, BUNDLE_STATUSES } from '../../core/bundle.ts';
import { BundleManifestT } from '../../bundles/manifest-schema.ts';
import { Lit, MAX, Nullable } from './common.ts';

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
    status: Lit(BUNDLE_STATUSES),
    statusReason: Type.String(),
    manifest: Nullable(BundleManifestT),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Bundle' },
);

export const BundleNameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: MAX.label, description: 'the bundle’s name or id' }),
});

const Sha = Type.String({ pattern: '^[0-9a-fA-F]{64}$' });
const BundleName = Type.String({ minLength: 1, maxLength: MAX.label, pattern: '^[a-z0-9][a-z0-9._-]*$' });

export const BundleImportBody = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: MAX.url,
      description:
        'http(s) URL; loopback, link-local and the region’s own addresses are refused unless the region allows private sources',
    }),
    name: Type.Optional(BundleName),
    sha256: Type.Optional(Sha),
  },
  { additionalProperties: false },
);

export const BundleUploadQuery = Type.Object(
  {
    name: Type.Optional(BundleName),
    sha256: Type.Optional(Sha),
    /** The uploaded file's (or directory's) name, shown as the source. */
    file: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);
