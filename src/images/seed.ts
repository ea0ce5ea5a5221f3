/**
 * A cloud-init NoCloud seed volume: a small FAT image labelled CIDATA holding `meta-data`,
 * `user-data` and optionally `vendor-data` / `network-config`. Made with mkfs.vfat and mtools,
 * so it needs neither root nor a kernel that mounts FAT. Attach it to a VM as a second disk.
 */
import { execFile as execFileCb } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, IngotError } from '../core/errors.ts';

const execFile = promisify(execFileCb);

export interface NoCloudSeed {
  /** YAML; at least `instance-id`. A `seedfrom: http://…/` line makes cloud-init fetch the rest (NoCloud-net). */
  metaData: string;
  userData: string;
  vendorData?: string;
  networkConfig?: string;
}

export async function writeSeedImage(file: string, seed: NoCloudSeed): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-seed-'));
  try {
    const files: Record<string, string> = { 'meta-data': seed.metaData, 'user-data': seed.userData };
    if (seed.vendorData !== undefined) files['vendor-data'] = seed.vendorData;
    if (seed.networkConfig !== undefined) files['network-config'] = seed.networkConfig;
    rmSync(file, { force: true });
    await execFile('mkfs.vfat', ['-C', '-n', 'CIDATA', file, '2048']);
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(dir, name), content);
      await execFile('mcopy', ['-i', file, join(dir, name), `::/${name}`]);
    }
  } catch (e) {
    const err = e as Error & { code?: string; stderr?: string };
    throw new IngotError(
      ErrorCode.Config,
      err.code === 'ENOENT'
        ? 'making a NoCloud seed needs mkfs.vfat and mcopy: apt-get install dosfstools mtools'
        : `cannot make the NoCloud seed ${file}: ${err.stderr?.trim() || err.message}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
