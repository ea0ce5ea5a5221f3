/** OS and boot images: `/images…` (src/api/routes/images.ts). */
import { Type } from 'typebox';
import { COMPRESSIONS, IMAGE_FORMATS, IMAGE_KINDS, IMAGE_STATUSES } from '../../core/image.ts';
import { Lit, MAX, Nullable } from './common.ts';

export const ImageT = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    kind: Lit(IMAGE_KINDS),
    format: Lit(IMAGE_FORMATS),
    compression: Lit(COMPRESSIONS),
    size: Nullable(Type.Integer()),
    virtualSize: Nullable(Type.Integer()),
    sha256: Nullable(Type.String()),
    source: Type.String(),
    path: Type.String({
      description: 'path under the artifacts dir; the rack serves it at /artifacts/<path>',
    }),
    status: Lit(IMAGE_STATUSES),
    statusReason: Type.String(),
    manifest: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Image' },
);

const ImageName = Type.String({ minLength: 1, maxLength: 63 });
export const NameParams = Type.Object({ name: ImageName });
const Sha = Type.String({ pattern: '^[0-9a-fA-F]{64}$' });

export const ImportBody = Type.Object(
  {
    name: ImageName,
    url: Type.String({
      minLength: 1,
      maxLength: MAX.url,
      description:
        'http(s) URL; loopback, link-local and the region’s own addresses are refused unless the region allows private sources',
    }),
    sha256: Type.Optional(Sha),
    kind: Type.Optional(Lit(IMAGE_KINDS)),
    format: Type.Optional(Lit(IMAGE_FORMATS)),
    compression: Type.Optional(Lit(COMPRESSIONS)),
  },
  { additionalProperties: false },
);

export const UploadQuery = Type.Object(
  {
    sha256: Type.Optional(Sha),
    kind: Type.Optional(Lit(IMAGE_KINDS)),
    format: Type.Optional(Lit(IMAGE_FORMATS)),
    compression: Type.Optional(Lit(COMPRESSIONS)),
    /** The uploaded file's name (format/compression hints, shown as the source). */
    file: Type.Optional(Type.String({ maxLength: 255 })),
    /** `build:<recipe>` for images built by `ingot image build`. */
    source: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
