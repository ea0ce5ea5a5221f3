/**
 * The image registry: rows in the store, files under `<artifactsDir>/images/`. An import
 * streams the bytes into `images/.incoming/<id>` (sparse: zero blocks become holes), hashes
 * them on the way, checks magic numbers against the declared format and compression and the
 * SHA-256 against the expected one, and only then renames the file into place and marks the
 * image `ready`. A refused or broken import leaves no file and a `failed` row saying why.
 *
 * URL imports run in the background (the API answers 202; poll the image); uploads run within
 * the request. Only http(s) URLs are fetched.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { parseSourceUrl, SourcePolicy, type SourcePolicyOptions } from './source-policy.ts';
import { detectCompression, detectFormat, peekDecompressed, qcow2VirtualSize } from './detect.ts';
import {
  checkImageName,
  checkSha256,
  type Compression,
  type ImageFormat,
  type ImageKind,
} from '../core/image.ts';
import { guessFromName, type Image, imagePath } from './types.ts';

/** The region's artifacts dir (images go below it in `images/`): `<dataDir>/artifacts`. */
export function defaultArtifactsDir(dataDir: string): string {
  return join(dataDir, 'artifacts');
}

export interface ImageImport {
  name: string;
  kind?: ImageKind;
  /** Declared format / compression; detected from the bytes (and the name) when omitted. */
  format?: ImageFormat;
  compression?: Compression;
  /** Expected SHA-256 of the file as given (compressed bytes when compressed). */
  sha256?: string;
  /** Shown as the image's source: the URL, `upload:<file>` or `build:<recipe>`. */
  source?: string;
  manifest?: Record<string, unknown>;
}

/** An importing row older than this without progress is abandoned (its region died). */
export const STALE_IMPORT_MS = 2 * 60_000;
const BLOCK = 64 * 1024;
const ZERO = Buffer.alloc(BLOCK);

export interface ImageRegistryOptions {
  /**
   * Which addresses URL imports may fetch from (src/images/source-policy.ts): the region's one
   * policy, or options to make one. @default loopback, link-local and own addresses refused
   */
  readonly sources?: SourcePolicy | SourcePolicyOptions;
}

export class ImageRegistry {
  readonly store: Store;
  readonly artifactsDir: string;
  readonly #running = new Map<string, AbortController>();
  readonly #sources: SourcePolicy;

  constructor(store: Store, artifactsDir: string, o: ImageRegistryOptions = {}) {
    this.store = store;
    this.artifactsDir = artifactsDir;
    this.#sources = o.sources instanceof SourcePolicy ? o.sources : new SourcePolicy(o.sources);
  }

  list(): Promise<Image[]> {
    return this.store.listImages();
  }

  get(name: string): Promise<Image> {
    return this.store.getImage(name);
  }

  /** Absolute path of a registered image's file. */
  fileOf(image: Pick<Image, 'path'>): string {
    return join(this.artifactsDir, image.path);
  }

  /**
   * Registers `url` and imports it in the background. Returns the `importing` row at once
   * and `done`, which settles with the final row (ready or failed; it never rejects).
   */
  async importUrl(
    input: ImageImport & { url: string },
    actor: string,
  ): Promise<{ image: Image; done: Promise<Image> }> {
    const u = parseSourceUrl(input.url);
    // Before anything is registered: a URL toward the region's own host is a 400 now.
    await this.#sources.checkUrl(u);
    const guess = guessFromName(u.pathname);
    const row = await this.#register({ ...input, source: input.source ?? u.href }, guess, actor);
    const ac = new AbortController();
    this.#running.set(row.id, ac);
    const done = (async () => {
      let body: Readable | undefined;
      try {
        body = await this.#sources.open(u, ac.signal);
        return await this.#receive(row, input, body, actor, ac.signal);
      } catch (e) {
        return this.#fail(row, e, actor);
      } finally {
        body?.destroy();
        this.#running.delete(row.id);
      }
    })();
    return { image: row, done };
  }

  /** Imports bytes from a stream (an upload, a local file) and returns the ready row; throws when refused. */
  async importStream(
    input: ImageImport & { fileName?: string },
    body: AsyncIterable<Buffer | Uint8Array>,
    actor: string,
  ): Promise<Image> {
    const guess = input.fileName ? guessFromName(input.fileName) : {};
    const row = await this.#register(
      { ...input, source: input.source ?? `upload:${input.fileName ?? input.name}` },
      guess,
      actor,
    );
    const ac = new AbortController();
    this.#running.set(row.id, ac);
    try {
      const img = await this.#receive(row, input, body, actor, ac.signal);
      return img;
    } catch (e) {
      const failed = await this.#fail(row, e, actor);
      throw e instanceof IngotError
        ? e
        : new IngotError(ErrorCode.Validation, `image ${row.name}: ${failed.statusReason}`, { cause: e });
    } finally {
      this.#running.delete(row.id);
    }
  }

  /** Removes the row and the file; an import in progress is stopped. */
  async remove(name: string, actor: string): Promise<Image> {
    const img = await this.store.deleteImage(name, actor);
    this.#running.get(img.id)?.abort();
    rmSync(this.fileOf(img), { force: true });
    rmSync(this.#incoming(img.id), { force: true });
    return img;
  }

  /**
   * Marks imports that a stopped region left `importing` as failed, saying so, and removes
   * their partial files from `images/.incoming/`, with any partial file no import owns. Run
   * at start: `olderThanMs` 0 when this region alone imports into the store (SQLite), the
   * stale time when other live regions may be importing (PostgreSQL).
   */
  async recoverInterrupted(o: { olderThanMs: number }): Promise<Image[]> {
    const now = Date.now();
    const failed: Image[] = [];
    const live = new Set<string>();
    for (const img of await this.store.listImages()) {
      if (img.status !== 'importing') continue;
      if (now - Date.parse(img.updatedAt) < o.olderThanMs || this.#running.has(img.id)) {
        live.add(img.id);
        continue;
      }
      const reason = `interrupted: the region stopped during the import (${img.statusReason}); import it again`;
      const row = await this.store.updateImage(
        img.id,
        { status: 'failed', statusReason: reason },
        'system',
        'importing',
      );
      if (row) failed.push(row);
    }
    const incoming = join(this.artifactsDir, 'images', '.incoming');
    if (existsSync(incoming))
      for (const f of readdirSync(incoming)) if (!live.has(f)) rmSync(join(incoming, f), { force: true });
    return failed;
  }

  #incoming(id: string): string {
    return join(this.artifactsDir, 'images', '.incoming', id);
  }

  async #register(
    input: ImageImport & { source: string },
    guess: { format?: ImageFormat; compression?: Compression },
    actor: string,
  ): Promise<Image> {
    const name = checkImageName(input.name);
    if (input.sha256 !== undefined) checkSha256(input.sha256);
    const format = input.format ?? guess.format ?? 'raw';
    const compression = input.compression ?? guess.compression ?? 'none';
    let replace = false;
    try {
      const old = await this.store.getImage(name);
      const stale = old.status === 'importing' && Date.now() - Date.parse(old.updatedAt) > STALE_IMPORT_MS;
      if (old.status === 'ready' || (old.status === 'importing' && !stale))
        throw new IngotError(
          ErrorCode.Conflict,
          `name: image ${name} exists (${old.status}); remove it first with \`ingot image rm ${name}\``,
          { details: { field: 'name' } },
        );
      replace = true;
    } catch (e) {
      if (!(e instanceof IngotError && e.code === ErrorCode.NotFound)) throw e;
    }
    return this.store.createImage(
      {
        name,
        kind: input.kind ?? 'os',
        format,
        compression,
        source: input.source,
        path: imagePath(name, format, compression),
        sha256: null,
        status: 'importing',
        statusReason: 'waiting for data',
        manifest: input.manifest ?? {},
      },
      actor,
      { replaceUnready: replace },
    );
  }

  async #receive(
    row: Image,
    input: ImageImport,
    body: AsyncIterable<Buffer | Uint8Array>,
    actor: string,
    signal: AbortSignal,
  ): Promise<Image> {
    mkdirSync(join(this.artifactsDir, 'images', '.incoming'), { recursive: true });
    const tmp = this.#incoming(row.id);
    const fd = openSync(tmp, 'w', 0o644);
    const hash = createHash('sha256');
    let pos = 0;
    let head = Buffer.alloc(0);
    let carry = Buffer.alloc(0);
    let lastProgress = Date.now();
    const flush = (buf: Buffer) => {
      // Whole zero blocks are skipped (holes); the final ftruncate sets the length.
      for (let off = 0; off < buf.length; off += BLOCK) {
        const piece = buf.subarray(off, off + BLOCK);
        if (!(piece.length === BLOCK && piece.equals(ZERO))) writeSync(fd, piece, 0, piece.length, pos);
        pos += piece.length;
      }
    };
    try {
      try {
        for await (const chunk of body) {
          if (signal.aborted)
            throw new IngotError(ErrorCode.Conflict, 'the import was cancelled (image removed)');
          const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
          hash.update(b);
          if (head.length < 4096) head = Buffer.concat([head, b.subarray(0, 4096 - head.length)]);
          const all = carry.length ? Buffer.concat([carry, b]) : b;
          const whole = all.length - (all.length % BLOCK);
          flush(all.subarray(0, whole));
          carry = Buffer.from(all.subarray(whole));
          if (Date.now() - lastProgress > 5000) {
            lastProgress = Date.now();
            const still = await this.store.updateImage(
              row.id,
              { statusReason: `received ${Math.round((pos + carry.length) / 2 ** 20)} MiB` },
              actor,
              'importing',
            );
            // Removed, or replaced as abandoned by another import of the name: stop here.
            if (!still)
              throw new IngotError(ErrorCode.Conflict, `image ${row.name} was removed during the import`);
          }
        }
        flush(carry);
        ftruncateSync(fd, pos);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      const size = pos;
      const sha256 = hash.digest('hex');
      if (size === 0) throw new IngotError(ErrorCode.Validation, 'the image is empty (0 bytes)');
      if (input.sha256 && checkSha256(input.sha256) !== sha256)
        throw new IngotError(
          ErrorCode.Validation,
          `sha256: checksum mismatch: expected ${checkSha256(input.sha256)}, got ${sha256}; the file is corrupt or the checksum is for another file`,
          { details: { field: 'sha256', expected: checkSha256(input.sha256), actual: sha256 } },
        );
      const compression = detectCompression(head);
      if (input.compression && input.compression !== compression)
        throw invalid(
          'compression',
          `declared ${input.compression} but the file is ${compression === 'none' ? 'not compressed' : compression}`,
        );
      const inner = await peekDecompressed(head, compression);
      const format = inner ? detectFormat(inner) : (input.format ?? row.format);
      if (input.format && inner && input.format !== format)
        throw invalid('format', `declared ${input.format} but the file is ${format}`);
      const virtualSize =
        compression === 'none'
          ? format === 'qcow2'
            ? qcow2VirtualSize(head)
            : size
          : inner
            ? qcow2VirtualSize(inner)
            : null;
      const path = imagePath(row.name, format, compression);
      const dest = join(this.artifactsDir, path);
      renameSync(tmp, dest);
      const ready = await this.store.updateImage(
        row.id,
        { status: 'ready', statusReason: '', size, sha256, format, compression, virtualSize, path },
        actor,
        'importing',
      );
      if (!ready) {
        // Removed (or replaced) while we were importing: do not leave the file behind.
        rmSync(dest, { force: true });
        throw new IngotError(ErrorCode.Conflict, `image ${row.name} was removed during the import`);
      }
      return ready;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  async #fail(row: Image, e: unknown, actor: string): Promise<Image> {
    const reason = (e as Error).message ?? String(e);
    const failed = await this.store.updateImage(
      row.id,
      { status: 'failed', statusReason: reason },
      actor,
      'importing',
    );
    return failed ?? { ...row, status: 'failed', statusReason: reason };
  }
}
