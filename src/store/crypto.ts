/**
 * Secrets at rest: AES-256-GCM with a random 96-bit nonce per secret and the secret's id as
 * associated data (a ciphertext copied onto another row does not decrypt). The key is 32
 * random bytes in a file in the data dir, mode 0600, created on first start.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { ErrorCode, IngotError } from '../core/errors.ts';

export interface Sealed {
  readonly nonce: string;
  readonly tag: string;
  readonly ciphertext: string;
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new IngotError(ErrorCode.Config, 'the secret key must be 32 bytes');
    this.#key = key;
  }

  /** Loads the key file, creating it (mode 0600) when missing. */
  static fromFile(path: string): SecretBox {
    if (!existsSync(path)) {
      writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    }
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) chmodSync(path, 0o600);
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) {
      throw new IngotError(
        ErrorCode.Config,
        `the secret key file ${path} does not hold a base64 32-byte key; restore it from backup (without it stored secrets cannot be read)`,
      );
    }
    return new SecretBox(key);
  }

  seal(plaintext: string, aad: string): Sealed {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      nonce: nonce.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ct.toString('base64'),
    };
  }

  open(sealed: Sealed, aad: string): string {
    try {
      const d = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(sealed.nonce, 'base64'));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(sealed.ciphertext, 'base64')), d.final()]).toString('utf8');
    } catch (e) {
      throw new IngotError(
        ErrorCode.Config,
        'a stored secret cannot be decrypted: the secret key does not match the one it was written with (check --secret-key / the data dir)',
        { cause: e },
      );
    }
  }
}
