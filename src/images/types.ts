/**
 * OS and boot images: names, formats, and where an image lives. Pure: no I/O.
 *
 * An image is one file under the region's artifacts dir, `images/<name>.<format>[.<compression>]`,
 * which the rack's boot HTTP server serves as `/artifacts/images/<name>.<format>[.<compression>]`
 * (with Range). Deploy refers to an image by name.
 */
import { invalid } from '../core/errors.ts';
import type { ImageRow } from '../store/store.ts';

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

/** One image as the registry and the API show it (the store's row; src/store/store.ts). */
export type Image = ImageRow;

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Throws a validation error unless `name` is a valid image name (`debian-12`, `ubuntu-24.04`). */
export function checkImageName(name: string, field = 'name'): string {
  if (!NAME.test(name) || name.includes('..'))
    throw invalid(
      field,
      `"${name}" is not an image name: 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  return name;
}

export function checkSha256(hex: string, field = 'sha256'): string {
  const h = hex.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(h)) throw invalid(field, `"${hex}" is not a SHA-256: 64 hex digits`);
  return h;
}

/** `images/<name>.<format>[.<compression>]`: the file's path under the artifacts dir. */
export function imagePath(name: string, format: ImageFormat, compression: Compression): string {
  return `images/${name}.${format}${compression === 'none' ? '' : `.${compression}`}`;
}

/** The URL a machine downloads the image from: `<rack boot HTTP URL>/artifacts/<path>`. */
export function imageUrl(rackHttpUrl: string, image: Pick<Image, 'path'>): string {
  return `${rackHttpUrl.replace(/\/+$/, '')}/artifacts/${image.path}`;
}

/** Format and compression from a file name's suffixes (`x.qcow2.xz`); undefined where unknown. */
export function guessFromName(fileName: string): { format?: ImageFormat; compression?: Compression } {
  let rest = fileName.toLowerCase().replace(/[?#].*$/, '');
  let compression: Compression | undefined;
  for (const [suffix, c] of [
    ['.gz', 'gz'],
    ['.xz', 'xz'],
    ['.zst', 'zst'],
    ['.zstd', 'zst'],
  ] as const) {
    if (rest.endsWith(suffix)) {
      compression = c;
      rest = rest.slice(0, -suffix.length);
      break;
    }
  }
  let format: ImageFormat | undefined;
  if (rest.endsWith('.qcow2') || rest.endsWith('.qcow')) format = 'qcow2';
  else if (rest.endsWith('.raw') || rest.endsWith('.img')) format = 'raw';
  return { format, compression };
}
