/**
 * Debian packages for the boot image, without install hooks: the dependency closure through
 * library packages (`apt-cache depends`), exact versions and SHA-256s from
 * `apt-get download --print-uris` (they go into the recipe hash), `.deb` files cached by file
 * name, `dpkg-deb -x` into a staging root. Needs only Debian's package registry.
 */
import { execFile as execFileCb } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, IngotError } from '../../core/errors.ts';

const execFile = promisify(execFileCb);

export interface DebFile {
  readonly name: string;
  /** `name_version_arch.deb` as apt names it. */
  readonly file: string;
  readonly url: string;
  readonly size: number;
  readonly sha256: string;
}

/** Library packages worth following: not perl, data or config packages. */
function followable(pkg: string): boolean {
  return /^(lib|zlib)/.test(pkg) && !/(-perl|-common|-data|-base|-config|-bin|-doc)$/.test(pkg);
}

/**
 * `roots` plus, recursively, the library packages they depend on (Depends and Pre-Depends,
 * first alternative only). Other dependencies (adduser, debconf…) are install-time plumbing.
 */
export async function libraryClosure(roots: readonly string[]): Promise<string[]> {
  const seen = new Set<string>(roots);
  let frontier = [...roots];
  while (frontier.length) {
    const { stdout } = await execFile(
      'apt-cache',
      [
        'depends',
        '--no-recommends',
        '--no-suggests',
        '--no-conflicts',
        '--no-breaks',
        '--no-replaces',
        '--no-enhances',
        ...frontier,
      ],
      { maxBuffer: 16 * 2 ** 20 },
    ).catch((e: Error & { stderr?: string }) => {
      throw new IngotError(
        ErrorCode.Config,
        `apt-cache depends failed: ${e.stderr?.trim() ?? e.message}; run apt-get update`,
      );
    });
    const next: string[] = [];
    let alternative = false;
    for (const line of stdout.split('\n')) {
      const m = /^\s+(\|)?(Depends|PreDepends): (\S+)/.exec(line);
      if (!m) {
        alternative = false;
        continue;
      }
      const skip = alternative; // a later alternative of an "a | b" dependency
      alternative = m[1] === '|';
      const pkg = m[3].replace(/:any$/, '');
      if (skip || pkg.startsWith('<') || seen.has(pkg) || !followable(pkg)) continue;
      seen.add(pkg);
      next.push(pkg);
    }
    frontier = next;
  }
  return [...seen].sort();
}

/** Exact files apt would fetch for `pkgs` (candidate versions), without fetching them. */
export async function resolveDebs(pkgs: readonly string[]): Promise<DebFile[]> {
  const { stdout } = await execFile('apt-get', ['download', '--print-uris', '-q', ...pkgs], {
    maxBuffer: 16 * 2 ** 20,
  }).catch((e: Error & { stderr?: string }) => {
    throw new IngotError(
      ErrorCode.Config,
      `apt-get download --print-uris failed: ${e.stderr?.trim() ?? e.message}`,
    );
  });
  const out: DebFile[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^'([^']+)' (\S+) (\d+) SHA256:([0-9a-f]{64})/.exec(line);
    if (!m) continue;
    out.push({ name: m[2].split('_')[0], file: m[2], url: m[1], size: Number(m[3]), sha256: m[4] });
  }
  if (out.length !== pkgs.length)
    throw new IngotError(
      ErrorCode.Config,
      `apt resolved ${out.length} of ${pkgs.length} packages (${pkgs.filter((p) => !out.some((d) => d.name === p)).join(', ')}); run apt-get update`,
    );
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Downloads the debs missing from `dir` (checked against their SHA-256); returns their paths. */
export async function fetchDebs(
  debs: readonly DebFile[],
  dir: string,
  log: (m: string) => void,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const missing = debs.filter(
    (d) => !existsSync(join(dir, d.file)) || sha256File(join(dir, d.file)) !== d.sha256,
  );
  if (missing.length) {
    log(`fetching ${missing.length} Debian packages (apt-get download)`);
    const tmp = join(dir, `.fetch-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    try {
      // apt-get download names packages by name=version; the file names carry the epoch as %3a.
      const specs = missing.map((d) => {
        const [name, version] = d.file.replace(/\.deb$/, '').split('_');
        return `${name}=${decodeURIComponent(version)}`;
      });
      await execFile('apt-get', ['download', '-q', ...specs], { cwd: tmp, maxBuffer: 16 * 2 ** 20 }).catch(
        (e: Error & { stderr?: string }) => {
          throw new IngotError(ErrorCode.Config, `apt-get download failed: ${e.stderr?.trim() ?? e.message}`);
        },
      );
      for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(dir, f));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    for (const d of missing)
      if (!existsSync(join(dir, d.file)) || sha256File(join(dir, d.file)) !== d.sha256)
        throw new IngotError(
          ErrorCode.Config,
          `${d.file}: downloaded file does not match its SHA-256 from the archive`,
        );
  }
  return debs.map((d) => join(dir, d.file));
}

/** `dpkg-deb -x` each deb into `root` (no maintainer scripts run). */
export async function extractDebs(paths: readonly string[], root: string): Promise<void> {
  mkdirSync(root, { recursive: true });
  for (const p of paths) await execFile('dpkg-deb', ['-x', p, root]);
}
