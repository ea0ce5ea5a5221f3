/**
 * The bundle registry: rows in the store, files under `<artifactsDir>/bundles/<id>/`. An import
 * streams the bundle (a tar, compressed or not) into `bundles/.incoming/<id>/`, hashes it on
 * the way, unpacks it, reads and checks it (src/bundles/read.ts), moves the files it keeps into
 * `bin/`, `images/` and `cni/` beside the `ingot-bundle.json` it writes, and only then renames
 * the directory into place and marks the bundle `ready`. A refused or broken import leaves no
 * file and a `failed` row saying why; an import the region died in is marked failed when a
 * region starts (`recoverInterrupted`) or when it is 2 minutes without progress.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { checkSha256 } from '../core/artifacts.ts';
import {
  BUNDLE_MANIFEST_FILE,
  type Bundle,
  type BundleManifest,
  bundleFiles,
  checkBundleName,
  defaultBundleName,
} from '../core/bundle.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { readBundle } from './read.ts';
import { extractStream } from './tar.ts';
import { SourcePolicy, type SourcePolicyOptions } from '../images/source-policy.ts';
import { checkSourceUrl, openUrlSource } from './url-source.ts';

export interface BundleImport {
  /** Default: `kubernetes-<version>-<arch>`, once the bundle has been read. */
  name?: string;
  /** Expected SHA-256 of the file as given. */
  sha256?: string;
  /** Shown as the bundle's source: the URL or `upload:<file>`. */
  source?: string;
}

/** An importing row this long without progress is abandoned (its region died). */
export const STALE_MS = 2 * 60_000;
/** The most a bundle upload may be: the real 1.20.2 bundle is ~1 GiB unpacked. */
export const MAX_BUNDLE_BYTES = 32 * 2 ** 30;

export interface BundleRegistryOptions {
  /**
   * Which addresses URL imports may fetch from: the region's one policy (shared with OS images,
   * src/images/source-policy.ts), or options to make one. @default loopback, link-local and own
   * addresses refused
   */
  readonly sources?: SourcePolicy | SourcePolicyOptions;
}

export class BundleRegistry {
  readonly store: Store;
  readonly artifactsDir: string;
  readonly #running = new Map<string, AbortController>();
  readonly #sources: SourcePolicy;

  constructor(store: Store, artifactsDir: string, o: BundleRegistryOptions = {}) {
    this.store = store;
    this.artifactsDir = artifactsDir;
    this.#sources = o.sources instanceof SourcePolicy ? o.sources : new SourcePolicy(o.sources);
  }

  list(): Promise<Bundle[]> {
    return this.store.listBundles();
  }

  get(nameOrId: string): Promise<Bundle> {
    return this.store.getBundle(nameOrId);
  }

  /** Absolute directory of a bundle's files. */
  dirOf(b: Pick<Bundle, 'path'>): string {
    return join(this.artifactsDir, b.path);
  }

  /**
   * Registers `url` and imports it in the background. Returns the `importing` row at once and
   * `done`, which settles with the final row (ready or failed; it never rejects).
   */
  async importUrl(
    input: BundleImport & { url: string },
    actor: string,
  ): Promise<{ bundle: Bundle; done: Promise<Bundle> }> {
    // Before anything is registered: a URL toward the region's own host is a 400 now.
    const u = await checkSourceUrl(input.url, this.#sources);
    const row = await this.#register({ ...input, source: input.source ?? u.href }, actor);
    const ac = new AbortController();
    this.#running.set(row.id, ac);
    const done = (async () => {
      let body: Readable | undefined;
      try {
        body = await openUrlSource(u, ac.signal, this.#sources);
        return await this.#receive(
          row,
          input,
          body,
          u.pathname.split('/').pop() || 'bundle',
          actor,
          ac.signal,
        );
      } catch (e) {
        return this.#fail(row, e, actor);
      } finally {
        body?.destroy();
        this.#running.delete(row.id);
      }
    })();
    return { bundle: row, done };
  }

  /** Imports a bundle from a stream (an upload) and returns the ready row; throws when refused. */
  async importStream(
    input: BundleImport & { fileName?: string },
    body: AsyncIterable<Buffer | Uint8Array>,
    actor: string,
  ): Promise<Bundle> {
    const shown = input.fileName ?? 'upload';
    const row = await this.#register({ ...input, source: input.source ?? `upload:${shown}` }, actor);
    const ac = new AbortController();
    this.#running.set(row.id, ac);
    try {
      return await this.#receive(row, input, body, shown, actor, ac.signal);
    } catch (e) {
      const failed = await this.#fail(row, e, actor);
      throw e instanceof IngotError
        ? e
        : new IngotError(ErrorCode.Validation, `bundle ${shown}: ${failed.statusReason}`, { cause: e });
    } finally {
      this.#running.delete(row.id);
    }
  }

  /** Removes the row and the files; an import in progress is stopped. */
  async remove(nameOrId: string, actor: string): Promise<Bundle> {
    const b = await this.store.deleteBundle(nameOrId, actor);
    this.#running.get(b.id)?.abort();
    this.#removeFiles(b.id);
    return b;
  }

  /**
   * At region start: imports that were running when a region stopped are marked failed (those
   * whose work directory is here, and any without progress for STALE_MS), and directories no
   * bundle owns are removed. Returns the bundles it marked failed.
   */
  async recoverInterrupted(actor = 'region'): Promise<Bundle[]> {
    const failed: Bundle[] = [];
    const rows = await this.store.listBundles();
    for (const b of rows) {
      if (b.status !== 'importing' || this.#running.has(b.id)) continue;
      const here = existsSync(this.#incoming(b.id)) || existsSync(this.#final(b.id));
      const stale = Date.now() - Date.parse(b.updatedAt) > STALE_MS;
      if (!here && !stale) continue; // another region's live import
      const f = await this.store.updateBundle(
        b.id,
        {
          status: 'failed',
          statusReason: `interrupted: the region stopped while importing it (last: ${b.statusReason}); add the bundle again`,
        },
        actor,
        'importing',
      );
      if (f) failed.push(f);
      this.#removeFiles(b.id);
    }
    const keep = new Set(
      (await this.store.listBundles())
        .filter((b) => b.status !== 'failed' || this.#running.has(b.id))
        .map((b) => b.id),
    );
    for (const dir of [join(this.artifactsDir, 'bundles', '.incoming'), join(this.artifactsDir, 'bundles')]) {
      if (!existsSync(dir)) continue;
      for (const id of readdirSync(dir))
        if (id !== '.incoming' && !keep.has(id)) rmSync(join(dir, id), { recursive: true, force: true });
    }
    return failed;
  }

  #incoming(id: string): string {
    return join(this.artifactsDir, 'bundles', '.incoming', id);
  }

  #final(id: string): string {
    return join(this.artifactsDir, 'bundles', id);
  }

  #removeFiles(id: string): void {
    rmSync(this.#final(id), { recursive: true, force: true });
    rmSync(this.#incoming(id), { recursive: true, force: true });
  }

  async #register(input: BundleImport & { source: string }, actor: string): Promise<Bundle> {
    const name = input.name === undefined ? null : checkBundleName(input.name);
    if (input.sha256 !== undefined) checkSha256(input.sha256);
    let replace = false;
    if (name) {
      try {
        const old = await this.store.getBundle(name);
        const stale = old.status === 'importing' && Date.now() - Date.parse(old.updatedAt) > STALE_MS;
        if (old.status === 'ready' || (old.status === 'importing' && !stale))
          throw new IngotError(
            ErrorCode.Conflict,
            `name: bundle ${name} exists (${old.status}); remove it first with \`ingot bundle rm ${name}\``,
            { details: { field: 'name' } },
          );
        replace = true;
      } catch (e) {
        if (!(e instanceof IngotError && e.code === ErrorCode.NotFound)) throw e;
      }
    }
    return this.store.createBundle(
      { name, source: input.source.slice(0, 1024), path: 'bundles/{id}' },
      actor,
      { replaceUnready: replace },
    );
  }

  /** Writes a progress line on the row (at most every 2 s): it shows the import is alive. */
  #progress(row: Bundle, actor: string): (what: string) => void {
    let last = 0;
    return (what) => {
      if (Date.now() - last < 2000) return;
      last = Date.now();
      this.store.updateBundle(row.id, { statusReason: what }, actor, 'importing').catch(() => undefined);
    };
  }

  async #receive(
    row: Bundle,
    input: BundleImport,
    body: AsyncIterable<Buffer | Uint8Array>,
    shown: string,
    actor: string,
    signal: AbortSignal,
  ): Promise<Bundle> {
    const work = this.#incoming(row.id);
    const progress = this.#progress(row, actor);
    mkdirSync(join(work, 'tmp'), { recursive: true });
    try {
      const tree = join(work, 'tree');
      mkdirSync(tree);
      // Unpacked as it arrives (never stored whole); the checksum is known once it has all come.
      const got = await extractStream(body, tree, shown, {
        signal,
        maxBytes: MAX_BUNDLE_BYTES,
        onBytes: (n) => progress(`received and unpacked ${Math.round(n / 2 ** 20)} MiB`),
      });
      if (input.sha256 && checkSha256(input.sha256) !== got.sha256)
        throw new IngotError(
          ErrorCode.Validation,
          `sha256: checksum mismatch: expected ${checkSha256(input.sha256)}, got ${got.sha256}; the file is corrupt or the checksum is for another file`,
          { details: { field: 'sha256', expected: checkSha256(input.sha256), actual: got.sha256 } },
        );
      if (
        (existsSync(join(tree, 'manifest.json')) || existsSync(join(tree, 'oci-layout'))) &&
        !existsSync(join(tree, BUNDLE_MANIFEST_FILE))
      )
        throw new IngotError(
          ErrorCode.Validation,
          `${shown}: is a container image archive, not a bundle; put it in a bundle directory beside the Kubernetes binaries (docs/bundles.md) and add the directory`,
          { details: { field: shown } },
        );
      const read = await readBundle(tree, { signal, tmpDir: join(work, 'tmp'), progress });
      const out = join(work, 'out');
      for (const p of read.placements) {
        const dest = join(out, p.to);
        mkdirSync(dirname(dest), { recursive: true });
        renameSync(p.from, dest);
        chmodSync(dest, p.to.startsWith('images/') ? 0o644 : 0o755);
      }
      const manifestText = `${JSON.stringify(read.manifest, null, 2)}\n`;
      writeFileSync(join(out, BUNDLE_MANIFEST_FILE), manifestText, { mode: 0o644 });
      const size = totalSize(read.manifest) + Buffer.byteLength(manifestText);
      renameSync(out, this.#final(row.id));
      const name = input.name ?? defaultBundleName(read.manifest.version, read.manifest.arch);
      let ready: Bundle | null;
      try {
        ready = await this.store.updateBundle(
          row.id,
          {
            name,
            status: 'ready',
            statusReason: '',
            version: read.manifest.version,
            arch: read.manifest.arch,
            size,
            sha256: createHash('sha256').update(manifestText).digest('hex'),
            manifest: read.manifest,
          },
          actor,
          'importing',
        );
      } catch (e) {
        rmSync(this.#final(row.id), { recursive: true, force: true });
        if (e instanceof IngotError && e.code === ErrorCode.Conflict)
          throw new IngotError(
            ErrorCode.Conflict,
            `name: a bundle named ${name} exists (Kubernetes ${read.manifest.version} ${read.manifest.arch}); remove it with \`ingot bundle rm ${name}\` or add this one with another --name`,
            { details: { field: 'name' } },
          );
        throw e;
      }
      if (!ready) {
        rmSync(this.#final(row.id), { recursive: true, force: true });
        throw new IngotError(
          ErrorCode.Conflict,
          `bundle ${row.name ?? row.id} was removed during the import`,
        );
      }
      return ready;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  async #fail(row: Bundle, e: unknown, actor: string): Promise<Bundle> {
    const reason = ((e as Error).message ?? String(e)).slice(0, 4000);
    const failed = await this.store.updateBundle(
      row.id,
      { status: 'failed', statusReason: reason },
      actor,
      'importing',
    );
    return failed ?? { ...row, status: 'failed', statusReason: reason };
  }
}

function totalSize(m: BundleManifest): number {
  const seen = new Set<string>();
  let n = 0;
  for (const f of bundleFiles(m)) {
    if (seen.has(f.path)) continue;
    seen.add(f.path);
    n += f.size;
  }
  return n;
}
