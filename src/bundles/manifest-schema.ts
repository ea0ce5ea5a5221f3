/**
 * JSON Schema of Ingot's bundle manifest, `ingot-bundle.json` (TypeBox, so it is plain JSON
 * Schema: schema/bundle.schema.json is generated from it by `node scripts/bundle-schema.ts`,
 * and the API reuses it). The manifest Ingot stores beside a bundle's files is valid input:
 * a bundle directory copied out of one region can be added to another.
 *
 * On input only `version`, `arch` and each file's `path` (and a binary's `name`) are needed;
 * everything else is read from the files and, when the manifest gives it too, must agree.
 */
import { type Static, Type } from 'typebox';
import {
  BUNDLE_API_VERSION,
  BUNDLE_ARCHES,
  BUNDLE_KIND,
  EXTRA_COMPONENTS,
  KUBE_COMPONENTS,
  NODE_BINARIES,
} from '../core/bundle.ts';

const Enum = <const T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

const RelPath = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^(?!/)(?!.*(^|/)\\.\\.?(/|$))[A-Za-z0-9._+@=,-]+(/[A-Za-z0-9._+@=,-]+)*$',
  description: 'Path relative to the manifest, `/`-separated, no `..`',
});
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the file, lower-case hex' });
const Digest = Type.String({ pattern: '^sha256:[0-9a-f]{64}$' });
const Size = Type.Integer({ minimum: 0, description: 'Bytes' });
const ImageRefT = Type.String({
  minLength: 3,
  maxLength: 255,
  description: 'Full image reference, name:tag',
});
const Component = Enum([...KUBE_COMPONENTS, ...EXTRA_COMPONENTS]);

export const BundleBinaryT = Type.Object(
  {
    name: Enum(NODE_BINARIES),
    path: RelPath,
    sha256: Type.Optional(Sha256),
    size: Type.Optional(Size),
    version: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const BundleImageT = Type.Object(
  {
    path: RelPath,
    sha256: Type.Optional(Sha256),
    size: Type.Optional(Size),
    format: Type.Optional(Enum(['docker-archive', 'oci-archive'])),
    refs: Type.Optional(
      Type.Array(ImageRefT, {
        maxItems: 32,
        description: 'Names the archive gives its images; on input, each must be one of them',
      }),
    ),
    aliases: Type.Optional(
      Type.Array(ImageRefT, {
        maxItems: 32,
        description: 'Extra names the install step tags in containerd (e.g. the etcd tag kubeadm asks for)',
      }),
    ),
    component: Type.Optional(Type.Union([Component, Type.Null()])),
    arch: Type.Optional(Enum(BUNDLE_ARCHES)),
    os: Type.Optional(Type.String({ maxLength: 32 })),
    configDigest: Type.Optional(Digest),
    manifestDigest: Type.Optional(Type.Union([Digest, Type.Null()])),
  },
  { additionalProperties: false },
);

export const BundleCniPluginT = Type.Object(
  {
    name: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' })),
    path: RelPath,
    sha256: Type.Optional(Sha256),
    size: Type.Optional(Size),
  },
  { additionalProperties: false },
);

const manifestProperties = {
  apiVersion: Type.Literal(BUNDLE_API_VERSION),
  kind: Type.Literal(BUNDLE_KIND),
  version: Type.String({
    maxLength: 64,
    pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]*)?$',
    description: "Kubernetes' version, e.g. v1.20.2",
  }),
  arch: Enum(BUNDLE_ARCHES),
  binaries: Type.Array(BundleBinaryT, { maxItems: 16 }),
  images: Type.Array(BundleImageT, { maxItems: 128 }),
  cniPlugins: Type.Optional(Type.Array(BundleCniPluginT, { maxItems: 64 })),
  absentImages: Type.Optional(
    Type.Array(Component, { maxItems: 16, description: 'Written by Ingot; recomputed on input' }),
  ),
  provenance: Type.Optional(
    Type.Object(
      {
        layout: Enum(['upstream-release', 'ingot-manifest']),
        versionFrom: Type.String({ maxLength: 255 }),
        archFrom: Type.String({ maxLength: 255 }),
      },
      { additionalProperties: false, description: 'Written by Ingot; recomputed on input' },
    ),
  ),
};

export const BundleManifestFileT = Type.Object(manifestProperties, {
  $id: 'https://ingot.dev/schemas/bundle.v1alpha1.json',
  title: 'Ingot Kubernetes bundle manifest',
  additionalProperties: false,
});
export type BundleManifestFile = Static<typeof BundleManifestFileT>;

/** The same schema without an `$id`, to embed in other schemas (the API's Bundle). */
export const BundleManifestT = Type.Object(manifestProperties, { additionalProperties: false });
