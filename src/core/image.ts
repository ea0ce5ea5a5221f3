/**
 * The image vocabulary: kinds, on-disk formats, compressions, statuses and the rules for an
 * image's name and checksum. One definition for the registry (src/images), the store's rows,
 * a deploy's parameters (action-params.ts), the agent protocol and the API. Pure.
 */
import { checkArtifactName, isArtifactName } from './artifacts.ts';

export const ImageKind = { Os: 'os', Boot: 'boot' } as const;
export type ImageKind = (typeof ImageKind)[keyof typeof ImageKind];

export const ImageFormat = { Raw: 'raw', Qcow2: 'qcow2' } as const;
export type ImageFormat = (typeof ImageFormat)[keyof typeof ImageFormat];

export const Compression = { None: 'none', Gz: 'gz', Xz: 'xz', Zst: 'zst' } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

export const ImageStatus = { Importing: 'importing', Ready: 'ready', Failed: 'failed' } as const;
export type ImageStatus = (typeof ImageStatus)[keyof typeof ImageStatus];

export const IMAGE_KINDS: readonly ImageKind[] = Object.values(ImageKind);
export const IMAGE_FORMATS: readonly ImageFormat[] = Object.values(ImageFormat);
export const COMPRESSIONS: readonly Compression[] = Object.values(Compression);
export const IMAGE_STATUSES: readonly ImageStatus[] = Object.values(ImageStatus);

export { checkSha256, isSha256 } from './artifacts.ts';

/** An image name is an artifact name: it becomes `images/<name>.<format>`. */
export const isImageName = isArtifactName;

/** Throws a validation error unless `name` is a valid image name (`debian-12`, `ubuntu-24.04`). */
export function checkImageName(name: string, field = 'name'): string {
  return checkArtifactName(name, field, 'an image name');
}
