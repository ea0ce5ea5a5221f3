/**
 * The image registry's rows (migration 5). One row per image name; the file itself lives under
 * the region's artifacts dir (src/images/registry.ts writes it). Every change writes an
 * `image.*` event (no machine) in the same transaction.
 */
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Db, Row } from './db.ts';
import { newId } from './ids.ts';
import { iso } from './rows.ts';
import { insertEvents, mapUniqueViolation } from './sql-util.ts';
import type { ImagePatch, ImageRow, NewImage } from './store.ts';

function imageFromRow(r: Row): ImageRow {
  return {
    id: r.id as string,
    name: r.name as string,
    kind: r.kind as ImageRow['kind'],
    format: r.format as ImageRow['format'],
    compression: r.compression as ImageRow['compression'],
    size: r.size === null ? null : Number(r.size),
    virtualSize: r.virtual_size === null ? null : Number(r.virtual_size),
    sha256: (r.sha256 as string | null) ?? null,
    source: r.source as string,
    path: r.path as string,
    status: r.status as ImageRow['status'],
    statusReason: r.status_reason as string,
    manifest: JSON.parse((r.manifest as string) || '{}') as Record<string, unknown>,
    createdAt: iso(r.created_at as number)!,
    updatedAt: iso(r.updated_at as number)!,
  };
}

const notFound = (name: string) =>
  new IngotError(ErrorCode.NotFound, `image ${name} does not exist; list images with \`ingot image ls\``, {
    details: { image: name },
  });

export async function getImage(db: Db, name: string): Promise<ImageRow> {
  const rows = await db.query('SELECT * FROM images WHERE name = ? OR id = ?', [name, name]);
  if (!rows.length) throw notFound(name);
  return imageFromRow(rows[0]);
}

export async function listImages(db: Db): Promise<ImageRow[]> {
  return (await db.query('SELECT * FROM images ORDER BY name')).map(imageFromRow);
}

/**
 * Inserts an image (status `importing` unless given). With `replace`, an existing row of the
 * same name that is not `ready` (a failed or abandoned import) is replaced in the same
 * transaction; a `ready` one is a conflict: remove it first.
 */
export async function createImage(
  db: Db,
  input: NewImage,
  actor: string,
  opts: { replaceUnready?: boolean } = {},
): Promise<ImageRow> {
  const id = newId('img');
  const now = Date.now();
  try {
    await db.tx(async (t) => {
      if (opts.replaceUnready)
        await t.run("DELETE FROM images WHERE name = ? AND status <> 'ready'", [input.name]);
      await t.run(
        `INSERT INTO images (id, name, kind, format, compression, size, virtual_size, sha256, source, path,
           status, status_reason, manifest, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          input.name,
          input.kind,
          input.format,
          input.compression,
          input.size ?? null,
          input.virtualSize ?? null,
          input.sha256 ?? null,
          input.source,
          input.path,
          input.status ?? 'importing',
          input.statusReason ?? '',
          JSON.stringify(input.manifest ?? {}),
          now,
          now,
        ],
      );
      await insertEvents(
        t,
        [
          {
            type: 'image.created',
            actor,
            message: `image ${input.name} (${input.kind}, ${input.format}) registered from ${input.source}`,
            data: { id, name: input.name, source: input.source },
          },
        ],
        now,
      );
    });
  } catch (e) {
    mapUniqueViolation(e, { 'images.name': 'name', images_name: 'name' });
  }
  return getImage(db, id);
}

/** Updates an image; with `ifStatus`, only while it still has that status (null when it had not). */
export async function updateImage(
  db: Db,
  id: string,
  patch: ImagePatch,
  actor: string,
  ifStatus?: ImageRow['status'],
): Promise<ImageRow | null> {
  const sets: string[] = [];
  const params: (string | number | null)[] = [];
  const col = (c: string, v: string | number | null) => {
    sets.push(`${c} = ?`);
    params.push(v);
  };
  if (patch.format !== undefined) col('format', patch.format);
  if (patch.compression !== undefined) col('compression', patch.compression);
  if (patch.size !== undefined) col('size', patch.size);
  if (patch.virtualSize !== undefined) col('virtual_size', patch.virtualSize);
  if (patch.sha256 !== undefined) col('sha256', patch.sha256);
  if (patch.path !== undefined) col('path', patch.path);
  if (patch.status !== undefined) col('status', patch.status);
  if (patch.statusReason !== undefined) col('status_reason', patch.statusReason);
  if (patch.manifest !== undefined) col('manifest', JSON.stringify(patch.manifest));
  const now = Date.now();
  col('updated_at', now);
  const changed = await db.tx(async (t) => {
    const rows = await t.query<{ name: string }>(
      `UPDATE images SET ${sets.join(', ')} WHERE id = ?${ifStatus ? ' AND status = ?' : ''} RETURNING name`,
      [...params, id, ...(ifStatus ? [ifStatus] : [])],
    );
    if (!rows.length) return false;
    if (patch.status && patch.status !== 'importing') {
      const ok = patch.status === 'ready';
      await insertEvents(
        t,
        [
          {
            type: ok ? 'image.ready' : 'image.failed',
            level: ok ? 'info' : 'error',
            actor,
            message: ok
              ? `image ${rows[0].name} is ready (${patch.size ?? '?'} bytes, sha256 ${patch.sha256 ?? '?'})`
              : `image ${rows[0].name} failed: ${patch.statusReason ?? ''}`,
            data: { id, name: rows[0].name, status: patch.status },
          },
        ],
        now,
      );
    }
    return true;
  });
  if (!changed) return null;
  return getImage(db, id);
}

export async function deleteImage(db: Db, name: string, actor: string): Promise<ImageRow> {
  return db.tx(async (t) => {
    const rows = await t.query('SELECT * FROM images WHERE name = ? OR id = ?', [name, name]);
    if (!rows.length) throw notFound(name);
    const img = imageFromRow(rows[0]);
    await t.run('DELETE FROM images WHERE id = ?', [img.id]);
    await insertEvents(t, [
      {
        type: 'image.deleted',
        actor,
        message: `image ${img.name} removed`,
        data: { id: img.id, name: img.name },
      },
    ]);
    return img;
  });
}
