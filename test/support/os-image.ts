/** The kubernetes-node OS image for QEMU suites: built (cached by recipe), compressed, registered. */
import { copyFileSync, linkSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildOsImage } from '../../src/images/os/build.ts';
import { zstdCopy } from '../../src/images/os/compress.ts';
import type { Store } from '../../src/store/store.ts';

/**
 * The Debian image of the kubernetes-node profile (the standard image and more; the one build
 * test/images-os.test.ts makes too) and the zstd copy `ingot image build os` registers.
 */
export async function compressedOsImage(
  cache: string,
  log: (line: string) => void,
): Promise<{ file: string; sha256: string; rawSize: number }> {
  const built = await buildOsImage({
    distro: 'debian-12',
    profile: 'kubernetes-node',
    cache: 'recipe',
    cacheDir: cache,
    log,
  });
  const z = await zstdCopy(built.image, log);
  return { ...z, rawSize: statSync(built.image).size };
}

/** Registers `src` as the ready OS image `name` of the region (hard-linked into its artifacts). */
export async function registerImage(
  store: Store,
  dataDir: string,
  name: string,
  src: string,
  o: { sha256: string; compression: 'none' | 'zst'; virtualSize: number },
): Promise<void> {
  const path = `images/${name}.raw${o.compression === 'zst' ? '.zst' : ''}`;
  const dest = join(dataDir, 'artifacts', path);
  mkdirSync(join(dataDir, 'artifacts', 'images'), { recursive: true });
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
  await store.createImage(
    {
      name,
      kind: 'os',
      format: 'raw',
      compression: o.compression,
      source: src,
      path,
      size: statSync(dest).size,
      virtualSize: o.virtualSize,
      sha256: o.sha256,
      status: 'ready',
      statusReason: 'registered by the test',
    },
    'test',
  );
}
