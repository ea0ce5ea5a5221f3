/**
 * OS and boot images: names, formats, and where an image lives. Pure: no I/O.
 *
 * An image is one file under the region's artifacts dir, `images/<name>.<format>[.<compression>]`,
 * which the rack's boot HTTP server serves as `/artifacts/images/<name>.<format>[.<compression>]`
 * (with Range). Deploy refers to an image by name.
 */
import type { Compression, ImageFormat } from '../core/image.ts';
import type { ImageRow } from '../store/store.ts';

/** One image as the registry and the API show it (the store's row; src/store/store.ts). */
export type Image = ImageRow;

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
