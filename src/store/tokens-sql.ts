/** API tokens: only their SHA-256 is stored; creating and revoking one goes on the audit trail. */
import type { ApiToken } from '../core/auth.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';
import { tokenFromRow } from './rows.ts';
import { insertEvents, mapUniqueViolation } from './sql-util.ts';
import type { NewToken } from './store.ts';

export async function createToken(db: Db, t: NewToken, actor: string): Promise<ApiToken> {
  const id = newId('t');
  const now = Date.now();
  try {
    await db.tx(async (d) => {
      await d.run(
        'INSERT INTO tokens (id, name, role, hash, created_at, expires_at, last_used_at, revoked) VALUES (?, ?, ?, ?, ?, ?, NULL, 0)',
        [id, t.name, t.role, t.hash, now, t.expiresAt ? Date.parse(t.expiresAt) : null],
      );
      await insertEvents(
        d,
        [
          {
            type: 'token.created',
            actor,
            message: `token ${t.name} (${t.role}) created`,
            data: { id, role: t.role },
          },
        ],
        now,
      );
    });
  } catch (e) {
    mapUniqueViolation(e, { 'tokens.name': 'name', tokens_name: 'name' });
  }
  return tokenFromRow((await db.query('SELECT * FROM tokens WHERE id = ?', [id]))[0]);
}

export async function findTokenByHash(db: Db, hash: string): Promise<ApiToken | null> {
  const rows = await db.query('SELECT * FROM tokens WHERE hash = ?', [hash]);
  return rows.length ? tokenFromRow(rows[0]) : null;
}

export async function listTokens(db: Db): Promise<ApiToken[]> {
  return (await db.query('SELECT * FROM tokens ORDER BY created_at, id')).map(tokenFromRow);
}

/** Revokes by id or name. */
export async function revokeToken(db: Db, idOrName: string, actor: string): Promise<void> {
  await db.tx(async (d) => {
    const rows = await d.query<{ id: string; name: string }>(
      'SELECT id, name FROM tokens WHERE id = ? OR name = ?',
      [idOrName, idOrName],
    );
    if (rows.length === 0) {
      throw new IngotError(
        ErrorCode.TokenNotFound,
        `token ${idOrName} does not exist; list tokens with \`ingot token ls\``,
      );
    }
    await d.run('UPDATE tokens SET revoked = 1 WHERE id = ?', [rows[0].id]);
    await insertEvents(d, [
      { type: 'token.revoked', actor, message: `token ${rows[0].name} revoked`, data: { id: rows[0].id } },
    ]);
  });
}

export async function touchToken(db: Db, id: string): Promise<void> {
  await db.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', [Date.now(), id]);
}
