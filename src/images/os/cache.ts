/**
 * The OS image build cache: finished builds under `<cache>/images/os/<key>/`, one build per key
 * at a time across processes, leftovers of killed builds removed, old builds pruned.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { alive } from '../../host/process.ts';
import type { BuiltOsImage, OsImageManifest } from './build.ts';
import { runLogged, unmountBelow } from './chroot.ts';

export function readBuilt(dir: string, name: string): BuiltOsImage | null {
  const image = join(dir, `${name}.raw`);
  const mf = join(dir, 'manifest.json');
  if (!existsSync(image) || !existsSync(mf)) return null;
  const manifest = JSON.parse(readFileSync(mf, 'utf8')) as OsImageManifest;
  return { image, sha256: manifest.sha256, manifest, manifestPath: mf, cached: true };
}

export function findCached(
  root: string,
  key: string,
  prefix: string,
  anyArchive: boolean,
  name: string,
): BuiltOsImage | null {
  const exact = readBuilt(join(root, key), name);
  if (exact || !anyArchive || !existsSync(root)) return exact;
  const candidates = readdirSync(root)
    .filter((d) => d.startsWith(prefix))
    .map((d) => readBuilt(join(root, d), name))
    .filter((b): b is BuiltOsImage => b !== null)
    .sort((a, b) => b.manifest.builtAt.localeCompare(a.manifest.builtAt));
  return candidates[0] ?? null;
}

export function copyOut(b: BuiltOsImage, outDir: string): BuiltOsImage {
  mkdirSync(outDir, { recursive: true });
  const name = b.manifest.name;
  const image = join(outDir, `${name}.raw`);
  // cpSync keeps holes only via copy_file_range/reflink where the filesystem allows; fine either way.
  copyFileSync(b.image, image);
  writeFileSync(join(outDir, `${name}.raw.sha256`), `${b.sha256}  ${name}.raw\n`);
  const manifestPath = join(outDir, `${name}.manifest.json`);
  copyFileSync(b.manifestPath, manifestPath);
  return { ...b, image, manifestPath };
}

/** One build per cache key at a time across processes (mkdir lock holding the owner's PID). */
export async function lock(dir: string): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch {
      let pid = 0;
      try {
        pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {
        // being created
      }
      if (pid && !alive(pid)) rmSync(dir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Removes build directories of builds that died (their PID is gone), unmounting first. */
export async function cleanStaleBuilds(root: string): Promise<void> {
  if (!existsSync(root)) return;
  for (const d of readdirSync(root)) {
    const m = /^\.build-.*-(\d+)$/.exec(d);
    if (!m || alive(Number(m[1]))) continue;
    const dir = join(root, d);
    await unmountBelow(dir);
    await runLogged('rm', ['-rf', '--one-file-system', dir]);
  }
}

/** Keeps the new build and the newest other one of the distro; older builds (≈ 0.9 GB each) go. */
export function pruneOldBuilds(osRoot: string, name: string, keep: string): void {
  const others = readdirSync(osRoot)
    .filter((d) => d.startsWith(`${name}-`) && d !== keep && !d.endsWith('.log'))
    .map((d) => ({ d, b: readBuilt(join(osRoot, d), name) }))
    .sort((x, y) => (y.b?.manifest.builtAt ?? '').localeCompare(x.b?.manifest.builtAt ?? ''));
  for (const { d } of others.slice(1)) {
    rmSync(join(osRoot, d), { recursive: true, force: true });
    rmSync(join(osRoot, `${d}.log`), { force: true });
  }
}
