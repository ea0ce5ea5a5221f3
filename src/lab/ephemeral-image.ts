/**
 * The lab's ephemeral OS is Ingot's boot image (src/agent/image/build.ts: Debian's kernel, an
 * initramfs of Debian packages with the agent's tools and the agent). Built once into the cache
 * dir under its recipe key; later runs reuse it.
 */
import { buildBootImage, defaultCacheDir } from '../agent/image/build.ts';

export { defaultCacheDir };

export interface EphemeralImageFiles {
  /** Directory holding `vmlinuz` and `initrd.img` (serve it as an artifacts subdirectory). */
  readonly dir: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly kernelVersion: string;
}

export async function buildEphemeralImage(
  cacheDir = defaultCacheDir(),
  log: (m: string) => void = () => {},
): Promise<EphemeralImageFiles> {
  return buildBootImage({ cacheDir, log });
}
