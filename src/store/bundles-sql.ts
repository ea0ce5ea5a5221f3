/**
 * Kubernetes bundles' rows (migration 7). One row per bundle; the files live under the
 * region's artifacts dir (src/bundles/registry.ts writes them). Every change of status writes a
 * `bundle.*` event (no machine) in the same transaction.
 */
import type { Bundle, BundleManifest } from '../core/bundle.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Db, Row } from './db.ts';
import { newId } from './ids.ts';
import { iso } from './rows.ts';
import { insertEvents, mapUniqueViolation } from './sql-util.ts';
import type { BundlePatch, NewBundle } from './store.ts';

function bundleFromRow(r: Row): Bundle {
  return {
    id: r.id as string,
    name: (r.name as string | null) ?? null,
    version: (r.version as string | null) ?? null,
    arch: (r.arch as Bundle['arch']) ?? null,
    source: r.source as string,
    path: r.path as string,
    size: r.size === null || r.size === undefined ? null : Number(r.size),
    sha256: (r.sha256 as string | null) ?? null,
    status: r.status as Bundle['status'],
    statusReason: r.status_reason as string,
    manifest: r.manifest ? (JSON.parse(r.manifest as string) as BundleManifest) : null,
    createdAt: iso(r.created_at as number)!,
    updatedAt: iso(r.updated_at as number)!,
  };
}

const notFound = (name: string) =>
  new IngotError(ErrorCode.NotFound, `bundle ${name} does not exist; list bundles with \`ingot bundle ls\``, {
    details: { bundle: name },
  });

const UNIQUE = { 'bundles.name': 'name', bundles_name: 'name' };

export async function getBundle(db: Db, nameOrId: string): Promise<Bundle> {
  const rows = await db.query('SELECT * FROM bundles WHERE name = ? OR id = ?', [nameOrId, nameOrId]);
  if (!rows.length) throw notFound(nameOrId);
  return bundleFromRow(rows[0]);
}

export async function listBundles(db: Db): Promise<Bundle[]> {
  // Named bundles by name, then unnamed imports by age.
  return (await db.query('SELECT * FROM bundles ORDER BY name IS NULL, name, id')).map(bundleFromRow);
}

export async function createBundle(
  db: Db,
  input: NewBundle,
  actor: string,
  opts: { replaceUnready?: boolean } = {},
): Promise<Bundle> {
  const id = newId('bnd');
  const now = Date.now();
  const path = input.path.replace('{id}', id);
  try {
    await db.tx(async (t) => {
      if (opts.replaceUnready && input.name)
        await t.run("DELETE FROM bundles WHERE name = ? AND status <> 'ready'", [input.name]);
      await t.run(
        `INSERT INTO bundles (id, name, version, arch, source, path, size, sha256, status, status_reason,
           manifest, created_at, updated_at)
         VALUES (?, ?, NULL, NULL, ?, ?, NULL, NULL, 'importing', 'waiting for data', NULL, ?, ?)`,
        [id, input.name, input.source, path, now, now],
      );
      await insertEvents(
        t,
        [
          {
            type: 'bundle.created',
            actor,
            message: `bundle ${input.name ?? id} registered from ${input.source}`,
            data: { id, name: input.name, source: input.source },
          },
        ],
        now,
      );
    });
  } catch (e) {
    mapUniqueViolation(e, UNIQUE);
  }
  return getBundle(db, id);
}

export async function updateBundle(
  db: Db,
  id: string,
  patch: BundlePatch,
  actor: string,
  ifStatus?: Bundle['status'],
): Promise<Bundle | null> {
  const sets: string[] = [];
  const params: (string | number | null)[] = [];
  const col = (c: string, v: string | number | null) => {
    sets.push(`${c} = ?`);
    params.push(v);
  };
  if (patch.name !== undefined) col('name', patch.name);
  if (patch.version !== undefined) col('version', patch.version);
  if (patch.arch !== undefined) col('arch', patch.arch);
  if (patch.size !== undefined) col('size', patch.size);
  if (patch.sha256 !== undefined) col('sha256', patch.sha256);
  if (patch.status !== undefined) col('status', patch.status);
  if (patch.statusReason !== undefined) col('status_reason', patch.statusReason);
  if (patch.manifest !== undefined)
    col('manifest', patch.manifest === null ? null : JSON.stringify(patch.manifest));
  const now = Date.now();
  col('updated_at', now);
  let changed = false;
  try {
    changed = await db.tx(async (t) => {
      // A failed import's row must not keep the name from a good one.
      if (patch.name)
        await t.run("DELETE FROM bundles WHERE name = ? AND status = 'failed' AND id <> ?", [patch.name, id]);
      const rows = await t.query<{ name: string | null }>(
        `UPDATE bundles SET ${sets.join(', ')} WHERE id = ?${ifStatus ? ' AND status = ?' : ''} RETURNING name`,
        [...params, id, ...(ifStatus ? [ifStatus] : [])],
      );
      if (!rows.length) return false;
      if (patch.status && patch.status !== 'importing') {
        const ok = patch.status === 'ready';
        const shown = rows[0].name ?? id;
        await insertEvents(
          t,
          [
            {
              type: ok ? 'bundle.ready' : 'bundle.failed',
              level: ok ? 'info' : 'error',
              actor,
              message: ok
                ? `bundle ${shown} is ready (Kubernetes ${patch.version ?? '?'} ${patch.arch ?? '?'}, ${patch.size ?? '?'} bytes)`
                : `bundle ${shown} failed: ${patch.statusReason ?? ''}`,
              data: { id, name: rows[0].name, status: patch.status },
            },
          ],
          now,
        );
      }
      return true;
    });
  } catch (e) {
    mapUniqueViolation(e, UNIQUE);
  }
  if (!changed) return null;
  return getBundle(db, id);
}

export async function deleteBundle(db: Db, nameOrId: string, actor: string): Promise<Bundle> {
  return db.tx(async (t) => {
    const rows = await t.query('SELECT * FROM bundles WHERE name = ? OR id = ?', [nameOrId, nameOrId]);
    if (!rows.length) throw notFound(nameOrId);
    const b = bundleFromRow(rows[0]);
    await t.run('DELETE FROM bundles WHERE id = ?', [b.id]);
    await insertEvents(t, [
      {
        type: 'bundle.deleted',
        actor,
        message: `bundle ${b.name ?? b.id} removed`,
        data: { id: b.id, name: b.name },
      },
    ]);
    return b;
  });
}
