/**
 * Secrets (BMC passwords) sealed with AES-256-GCM (crypto.ts): a random nonce each, the
 * secret's id as associated data. Only ciphertext, nonce and tag are stored.
 */
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { SecretBox } from './crypto.ts';
import type { Db } from './db.ts';
import { newId } from './ids.ts';

/** Seals `plaintext` and stores it (inside the caller's transaction when `db` is one); returns its id. */
export async function putSecret(db: Db, box: SecretBox, purpose: string, plaintext: string): Promise<string> {
  const id = newId('sec');
  const s = box.seal(plaintext, id);
  await db.run(
    'INSERT INTO secrets (id, purpose, nonce, tag, ciphertext, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [id, purpose, s.nonce, s.tag, s.ciphertext, Date.now()],
  );
  return id;
}

export async function getSecret(db: Db, box: SecretBox, id: string): Promise<string> {
  const rows = await db.query<{ nonce: string; tag: string; ciphertext: string }>(
    'SELECT nonce, tag, ciphertext FROM secrets WHERE id = ?',
    [id],
  );
  if (!rows.length) throw new IngotError(ErrorCode.NotFound, `secret ${id} does not exist`);
  return box.open(rows[0], id);
}

export async function deleteSecret(db: Db, id: string): Promise<void> {
  await db.run('DELETE FROM secrets WHERE id = ?', [id]);
}
