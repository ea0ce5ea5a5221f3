/** Where built images (boot and OS) are cached. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$INGOT_CACHE`, else /var/cache/ingot for root, else ~/.cache/ingot (the lab's, the boot image's and the OS images' cache). */
export function defaultCacheDir(): string {
  if (process.env.INGOT_CACHE) return process.env.INGOT_CACHE;
  return process.getuid?.() === 0 ? '/var/cache/ingot' : join(homedir(), '.cache', 'ingot');
}
