/**
 * `ingot image build os`: a Debian 12 raw disk image built with debootstrap from the Debian
 * mirror this machine's apt uses (and nothing else on the network). Needs root (debootstrap,
 * chroot). Output: `<name>.raw` (sparse) + `<name>.raw.sha256` + `manifest.json`.
 *
 * Cached under `<cache>/images/os/<distro>-<recipe hash>-<archive hash>/`: the recipe hash
 * covers the recipe and this builder's code; the archive hash is the Date of each suite's
 * InRelease on the mirror (the archive as of the build). A second build with both unchanged
 * returns the cached image at once. Downloaded packages are kept in `<cache>/images/debs`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { defaultCacheDir } from '../cache-dir.ts';
import { sha256File } from '../hash.ts';
import { archiveDates, type DebianMirrors, debianMirrors } from './apt-sources.ts';
import { runLogged, unmountBelow } from './chroot.ts';
import { cleanStaleBuilds, copyOut, findCached, lock, pruneOldBuilds, readBuilt } from './cache.ts';
import { fatUuid, installBiosGrub, makeEsp, makeRootFs, partition, uuidFrom } from './disk.ts';
import { recipeFor } from './profiles.ts';
import { type OsDistro, type OsProfile, type OsRecipe, recipeHash } from './recipe.ts';
import { bootstrapRoot, finishRoot } from './root.ts';

const HERE = new URL('./', import.meta.url).pathname;
const GiB = 2 ** 30;

export const DEFAULT_OS_IMAGE_SIZE = 1.5 * GiB;

export interface BuildOsImageOptions {
  distro: OsDistro;
  /** @default standard; `kubernetes-node`: containerd, the Kubernetes kernel settings, the node agent */
  profile?: OsProfile;
  /** Raw disk size in bytes (sparse). @default 1.5 GiB */
  sizeBytes?: number;
  /** Also copy the image, its .sha256 and manifest.json here. */
  outDir?: string;
  /** @default $INGOT_CACHE or /var/cache/ingot (root) */
  cacheDir?: string;
  /**
   * `exact` (default): reuse a build of the same recipe and archive date; `recipe`: reuse any
   * build of the same recipe (tests: the archive moving on does not matter to them); `off`:
   * always build.
   */
  cache?: 'exact' | 'recipe' | 'off';
  /** Debian mirror; default: the one /etc/apt/sources.list(.d) names. */
  mirror?: string;
  log?: (line: string) => void;
}

export interface OsImageManifest {
  name: string;
  distro: OsDistro;
  profile: OsProfile;
  /** The kernel command line the image boots with (besides root=). */
  cmdline: string;
  suite: string;
  format: 'raw';
  sizeBytes: number;
  sha256: string;
  kernel: string;
  packages: Record<string, string>;
  inputs: {
    recipeHash: string;
    mirror: string;
    security: string | null;
    archiveDates: Record<string, string> | null;
    debootstrap: string;
    sourceDateEpoch: number;
  };
  layout: {
    diskGuid: string;
    partitions: { index: number; name: string; start: number; size: number; partUuid: string }[];
    rootFsUuid: string;
    rootLabel: string;
    espVolumeId: string;
  };
  builtAt: string;
  buildSeconds: number;
}

export interface BuiltOsImage {
  /** The raw image (in the cache, or in outDir when given). */
  image: string;
  sha256: string;
  manifest: OsImageManifest;
  manifestPath: string;
  /** True when the image came from the cache. */
  cached: boolean;
}

/** The builder's own sources: part of the recipe hash, so a builder change rebuilds. */
function builderSources(): string[] {
  return [
    'recipe.ts',
    'profiles.ts',
    'kubernetes-node.ts',
    'disk.ts',
    'build.ts',
    'root.ts',
    'chroot.ts',
  ].map((f) => readFileSync(join(HERE, f), 'utf8'));
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

export async function buildOsImage(o: BuildOsImageOptions): Promise<BuiltOsImage> {
  const log = o.log ?? (() => {});
  const recipe = recipeFor(o.distro, o.profile);
  const name = recipe.name;
  const sizeBytes = o.sizeBytes ?? DEFAULT_OS_IMAGE_SIZE;
  if (sizeBytes < GiB || sizeBytes % (1024 * 1024) !== 0)
    throw new IngotError(
      ErrorCode.Validation,
      `--size: ${sizeBytes} bytes is too small or not whole MiB; give at least 1G`,
      {
        details: { field: 'size' },
      },
    );
  const mirrors = await debianMirrors(recipe.suite, { mirror: o.mirror });
  const rhash = recipeHash(recipe, sizeBytes, builderSources());
  const suites = [
    { base: mirrors.mirror, suite: recipe.suite },
    { base: mirrors.mirror, suite: `${recipe.suite}-updates` },
    ...(mirrors.security ? [{ base: mirrors.security, suite: `${recipe.suite}-security` }] : []),
  ];
  const dates = await archiveDates(suites);
  const cacheRoot = join(o.cacheDir ?? defaultCacheDir(), 'images');
  const osRoot = join(cacheRoot, 'os');
  const prefix = `${name}-${rhash.slice(0, 12)}-`;
  const key = `${prefix}${dates ? sha(JSON.stringify(dates)).slice(0, 8) : 'offline'}`;
  const mode = o.cache ?? 'exact';
  if (mode !== 'off') {
    const hit = findCached(osRoot, key, prefix, mode === 'recipe' || dates === null, name);
    if (hit) {
      log(`cached: ${hit.image} (built ${hit.manifest.builtAt})`);
      return o.outDir ? copyOut(hit, o.outDir) : hit;
    }
  }
  if (process.getuid?.() !== 0)
    throw new IngotError(
      ErrorCode.Config,
      'building an OS image needs root (debootstrap, chroot, mounts): run `sudo ingot image build os …`',
    );
  mkdirSync(osRoot, { recursive: true });
  const unlock = await lock(join(osRoot, `.lock-${key}`));
  try {
    // Another process may have finished the same build while we waited for the lock.
    const done = mode === 'off' ? null : readBuilt(join(osRoot, key), name);
    if (done) return o.outDir ? copyOut(done, o.outDir) : done;
    await cleanStaleBuilds(osRoot);
    const built = await buildInto(osRoot, key, {
      recipe,
      name,
      sizeBytes,
      rhash,
      mirrors,
      dates,
      debs: join(cacheRoot, 'debs'),
      log,
    });
    return o.outDir ? copyOut(built, o.outDir) : built;
  } finally {
    unlock();
  }
}

interface BuildCtx {
  recipe: OsRecipe;
  name: string;
  sizeBytes: number;
  rhash: string;
  mirrors: DebianMirrors;
  dates: Record<string, string> | null;
  debs: string;
  log: (line: string) => void;
}

async function buildInto(osRoot: string, key: string, c: BuildCtx): Promise<BuiltOsImage> {
  const t0 = Date.now();
  // The PID in the name lets a later build clean this one up if we are killed.
  const workDir = join(osRoot, `.build-${key}-${process.pid}`);
  await unmountBelow(workDir);
  await runLogged('rm', ['-rf', '--one-file-system', workDir]);
  mkdirSync(workDir);
  const buildLog = join(osRoot, `${key}.log`);
  writeFileSync(buildLog, `build ${key} started ${new Date().toISOString()}\n`);
  const step = (m: string) => c.log(`[${Math.round((Date.now() - t0) / 1000)}s] ${m}`);
  const epoch = c.dates?.[c.recipe.suite]
    ? Math.floor(Date.parse(c.dates[c.recipe.suite]) / 1000)
    : Math.floor(Date.now() / 1000);
  const ids = (what: string) => uuidFrom(`${c.rhash}:${what}`, sha);
  const rootDir = join(workDir, 'root');
  const rootUuid = ids('rootfs');
  const espVolumeId = sha(`${c.rhash}:esp`).slice(0, 8);
  try {
    const root = await bootstrapRoot(
      rootDir,
      join(workDir, 'grub'),
      { recipe: c.recipe, mirrors: c.mirrors, debs: c.debs, buildLog, epoch },
      rootUuid,
      step,
    );
    step('configuring the root filesystem');
    finishRoot(rootDir, c, { rootUuid, espVolumeId, kernel: root.kernel });
    // Every file dated at the archive's date: the same inputs give the same bytes.
    await runLogged(
      'find',
      [
        rootDir,
        '-xdev',
        '-newermt',
        `@${epoch}`,
        '-exec',
        'touch',
        '--no-dereference',
        `--date=@${epoch}`,
        '{}',
        '+',
      ],
      { log: buildLog },
    );

    step(`assembling the ${c.sizeBytes / GiB} GiB disk (GPT: BIOS boot, ESP, root)`);
    const out = join(workDir, 'out');
    mkdirSync(out);
    const image = join(out, `${c.name}.raw`);
    const layout = await partition(image, {
      sizeBytes: c.sizeBytes,
      biosMiB: c.recipe.layout.biosMiB,
      espMiB: c.recipe.layout.espMiB,
      ids,
    });
    await makeRootFs(image, layout.root, { rootDir, label: c.recipe.rootLabel, uuid: rootUuid, epoch });
    await makeEsp(image, layout.esp, {
      label: c.recipe.espLabel,
      volumeId: espVolumeId,
      files: { 'EFI/BOOT/BOOTX64.EFI': join(root.grubDir, 'BOOTX64.EFI') },
    });
    installBiosGrub(image, layout.bios, root.bootImg, readFileSync(join(root.grubDir, 'core.img')));
    step('sha256');
    const sha256 = await sha256File(image);
    writeFileSync(join(out, `${c.name}.raw.sha256`), `${sha256}  ${c.name}.raw\n`);
    const manifest: OsImageManifest = {
      name: c.name,
      distro: c.recipe.distro,
      profile: c.recipe.profile,
      cmdline: c.recipe.cmdline,
      suite: c.recipe.suite,
      format: 'raw',
      sizeBytes: c.sizeBytes,
      sha256,
      kernel: root.kernel,
      packages: root.packages,
      inputs: {
        recipeHash: c.rhash,
        mirror: c.mirrors.mirror,
        security: c.mirrors.security,
        archiveDates: c.dates,
        debootstrap: root.debootstrapVersion,
        sourceDateEpoch: epoch,
      },
      layout: {
        diskGuid: layout.diskGuid,
        partitions: [
          { name: 'bios', ...layout.bios },
          { name: 'esp', ...layout.esp },
          { name: 'root', ...layout.root },
        ],
        rootFsUuid: rootUuid,
        rootLabel: c.recipe.rootLabel,
        espVolumeId: fatUuid(espVolumeId),
      },
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - t0) / 1000),
    };
    writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const final = join(osRoot, key);
    rmSync(final, { recursive: true, force: true });
    renameSync(out, final);
    step(
      `done: ${join(final, `${c.name}.raw`)} (${statSync(join(final, `${c.name}.raw`)).blocks * 512} bytes on disk)`,
    );
    pruneOldBuilds(osRoot, c.name, key);
    return { ...readBuilt(final, c.name)!, cached: false };
  } finally {
    await unmountBelow(workDir);
    await runLogged('rm', ['-rf', '--one-file-system', workDir]).catch(() => {});
  }
}
