/**
 * The zstd copy of a built OS image that the region registers and machines download: a Debian
 * raw image of 1.5 GiB is ~240 MiB compressed, and a machine's download, not its disk, bounds a
 * deploy (a lab VM under TCG takes ~2 MiB/s over its virtual NIC). Kept beside the image (the
 * build cache is per recipe, so the copy is valid as long as the image is) with its SHA-256.
 */
import { execFile as execFileCb } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);

export interface CompressedImage {
  readonly file: string;
  readonly sha256: string;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk);
  return hash.digest('hex');
}

/** IMAGE.zst and its SHA-256, made once (zstd -3, all cores) and reused while IMAGE.zst.sha256 exists. */
export async function zstdCopy(
  image: string,
  log: (line: string) => void = () => undefined,
): Promise<CompressedImage> {
  const file = `${image}.zst`;
  const sumFile = `${file}.sha256`;
  if (existsSync(file) && existsSync(sumFile)) return { file, sha256: readFileSync(sumFile, 'utf8').trim() };
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    log(`compressing ${image} with zstd`);
    await execFile('zstd', ['-q', '-f', '-T0', '-3', image, '-o', tmp]);
    const sha256 = await sha256Of(tmp);
    renameSync(tmp, file);
    writeFileSync(sumFile, `${sha256}\n`);
    return { file, sha256 };
  } finally {
    rmSync(tmp, { force: true });
  }
}
