/**
 * Where a cluster's etcd backups are kept once the rack has received them: the region's
 * artifact store (here: `<artifacts>/etcd-snapshots/<cluster>/<id>.db`, files 0600 in 0700
 * directories, never served by the rack's artifacts route), or an S3-compatible bucket
 * (backup-s3.ts, a Cluster file's `target: region-s3`); `Backup.location` holds either kind and
 * `BackupService.targetFor` picks by it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { backupArtifact } from '../../core/backup.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';

export interface BackupTarget {
  /** Where the rack's upload of backup `id` of `cluster` goes (an artifacts-dir relative path). */
  uploadPath(cluster: string, id: string): string;
  /**
   * Checks the kept file against what the node measured and answers its location; throws
   * INGOT_STEP_FAILED naming both when they differ.
   */
  keep(upload: string, measured: { bytes: number; sha256: string }): Promise<string>;
  /** The backup's bytes, checked against its SHA-256 (INGOT_CONFLICT when damaged). */
  read(location: string, sha256: string): Promise<Buffer>;
  remove(location: string): Promise<void>;
}

/**
 * `data` if its SHA-256 is `sha256`, as recorded when the backup was kept; else INGOT_CONFLICT
 * naming `what` (`file <location>`, `object <location>`): it is damaged.
 */
export function checkedBackup(data: Buffer, sha256: string, what: string): Buffer {
  const sum = createHash('sha256').update(data).digest('hex');
  if (sum !== sha256)
    throw new IngotError(
      ErrorCode.Conflict,
      `the backup's ${what} has sha256 ${sum}, not ${sha256} as recorded: it is damaged; restore another backup`,
    );
  return data;
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class ArtifactStoreTarget implements BackupTarget {
  readonly #root: string;

  constructor(artifactsDir: string) {
    this.#root = artifactsDir;
  }

  uploadPath(cluster: string, id: string): string {
    return backupArtifact(cluster, id);
  }

  async keep(upload: string, m: { bytes: number; sha256: string }): Promise<string> {
    const file = join(this.#root, upload);
    const st = await stat(file).catch(() => null);
    if (!st)
      throw new IngotError(ErrorCode.StepFailed, `the snapshot is not in the artifact store (${upload})`);
    const sum = await fileSha256(file);
    if (st.size !== m.bytes || sum !== m.sha256)
      throw new IngotError(
        ErrorCode.StepFailed,
        `the stored snapshot has ${st.size} bytes and sha256 ${sum}; the node measured ${m.bytes} bytes, sha256 ${m.sha256}`,
      );
    return upload;
  }

  async read(location: string, sha256: string): Promise<Buffer> {
    const data = await readFile(join(this.#root, location)).catch(() => null);
    if (!data)
      throw new IngotError(
        ErrorCode.Conflict,
        `the backup's file ${location} is gone from the artifact store`,
      );
    return checkedBackup(data, sha256, `file ${location}`);
  }

  async remove(location: string): Promise<void> {
    await rm(join(this.#root, location), { force: true });
  }
}
