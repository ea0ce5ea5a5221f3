/**
 * The image vocabulary: kinds, on-disk formats, compressions, statuses and the rules for an
 * image's name and checksum. One definition for the registry (src/images), the store's rows,
 * a deploy's parameters (action-params.ts), the agent protocol and the API. Pure.
 */
import { invalid } from './errors.ts';

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

/** A name doubles as a file name (`images/<name>.<format>`): lower case, no `..`, 1-63 characters. */
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export function isImageName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

/** Throws a validation error unless `name` is a valid image name (`debian-12`, `ubuntu-24.04`). */
export function checkImageName(name: string, field = 'name'): string {
  if (!isImageName(name))
    throw invalid(
      field,
      `"${name}" is not an image name: 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  return name;
}

/** A SHA-256 as 64 lower-case hex digits (what the store keeps and the agent compares). */
export function isSha256(hex: string): boolean {
  return SHA256.test(hex);
}

/** Normalises a SHA-256 given by a person (spaces, upper case); throws a validation error otherwise. */
export function checkSha256(hex: string, field = 'sha256'): string {
  const h = hex.trim().toLowerCase();
  if (!isSha256(h)) throw invalid(field, `"${hex}" is not a SHA-256: 64 hex digits`);
  return h;
}
