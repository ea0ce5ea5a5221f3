/**
 * Finding a bundle's files in an unpacked tree. Two layouts:
 *
 * - **Upstream release** (`kubernetes-server-linux-<arch>.tar.gz`, as build/lib/release.sh
 *   writes it): `kubernetes/server/bin/<binary>`, and for each image-wrapped binary
 *   `<binary>.tar` (docker save) with `<binary>.docker_tag` (the version, `+` written `_`).
 *   Also accepted: the same under `server/bin/` or `kubernetes/node/bin/`, the tarballs
 *   themselves (`kubernetes-{server,node}-linux-*.tar.gz`) unpacked in place, and
 *   `kubernetes/version` (the full `kubernetes.tar.gz` has it). Beside it: more image archives
 *   (`*.tar` anywhere: pause, etcd, CoreDNS), CNI plugins (`cni/`, `cni/bin/`, `opt/cni/bin/`,
 *   or a `cni-plugins*.tgz` release tarball) and crictl (`crictl`, `bin/crictl`, or a
 *   `crictl-*.tar.gz`).
 * - **Ingot manifest**: an `ingot-bundle.json` at the root lists every file; nothing else is taken.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  BUNDLE_MANIFEST_FILE,
  dockerTagOf,
  KUBE_COMPONENTS,
  NODE_BINARIES,
  type NodeBinary,
} from '../core/bundle.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { BundleManifestFile } from './manifest-schema.ts';
import { readManifestFile } from './manifest-file.ts';
import { extractTar } from './tar.ts';

/** A file found in the tree: absolute path and how errors name it (relative to the bundle). */
export interface Found {
  readonly file: string;
  readonly shown: string;
}

export interface VersionClaim {
  readonly version: string;
  readonly from: string;
}

export interface Candidates {
  readonly layout: 'upstream-release' | 'ingot-manifest';
  readonly manifest: BundleManifestFile | null;
  /** Where the tree states its version (manifest, .docker_tag files, kubernetes/version). */
  readonly versionClaims: readonly VersionClaim[];
  readonly binaries: readonly (Found & {
    name: NodeBinary;
    entry?: BundleManifestFile['binaries'][number];
  })[];
  /** kube-apiserver & co.: checked for the version string, not stored (nodes run them as images). */
  readonly componentBinaries: readonly (Found & { name: string })[];
  readonly images: readonly (Found & { entry?: BundleManifestFile['images'][number] })[];
  readonly cni: readonly (Found & {
    name: string;
    entry?: NonNullable<BundleManifestFile['cniPlugins']>[number];
  })[];
}

/** At most this many files in a tree: a bundle is dozens of files, not a source tree. */
const MAX_FILES = 20_000;

const bad = (shown: string, msg: string) =>
  new IngotError(ErrorCode.Validation, `${shown}: ${msg}`, { details: { field: shown } });

/** Regular files under `root` (never following symlinks), relative paths with `/`. */
function walk(root: string, dir = root, out: string[] = []): string[] {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, ent.name);
    if (ent.isDirectory()) walk(root, full, out);
    else if (ent.isFile()) out.push(relative(root, full).split(sep).join('/'));
    if (out.length > MAX_FILES)
      throw bad(
        '(bundle)',
        `holds more than ${MAX_FILES} files; give the release tarball or a bundle directory, not a source tree`,
      );
  }
  return out;
}

/** The file at `rel` inside `root`, if it is a regular file there (no symlink anywhere on the way). */
export function regularFile(root: string, rel: string): string | null {
  const parts = rel.split('/');
  let cur = root;
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..') return null;
    cur = join(cur, p);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(cur);
    } catch {
      return null;
    }
    if (st.isSymbolicLink()) return null;
  }
  return lstatSync(cur).isFile() ? cur : null;
}

const base = (rel: string) => rel.slice(rel.lastIndexOf('/') + 1);
const dirOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');

const BIN_DIRS = ['kubernetes/server/bin', 'server/bin', 'kubernetes/node/bin', 'node/bin'];
const CNI_DIRS = ['cni', 'cni/bin', 'opt/cni/bin'];
const NESTED = [
  { re: /^kubernetes-(server|node)-linux-[a-z0-9]+\.tar\.gz$/, what: 'release' },
  { re: /^cni-plugins[a-z0-9._-]*\.(tgz|tar\.gz)$/, what: 'cni' },
  { re: /^crictl-[a-z0-9._-]*\.(tgz|tar\.gz)$/, what: 'crictl' },
] as const;

/**
 * Unpacks release tarballs found at the root (`kubernetes-server-linux-amd64.tar.gz`, a CNI
 * plugins release, a crictl release) into `<root>/.unpacked/<name>/`, so the rest of the
 * reader sees one tree. Returns the directories made, by kind.
 */
async function unpackNested(
  root: string,
  signal?: AbortSignal,
): Promise<{ cni: string[]; crictl: string[] }> {
  const made = { cni: [] as string[], crictl: [] as string[] };
  for (const name of readdirSync(root)) {
    const hit = NESTED.find((n) => n.re.test(name));
    if (!hit || !regularFile(root, name)) continue;
    const rel = `.unpacked/${name}`;
    const dest = join(root, rel);
    mkdirSync(dest, { recursive: true });
    await extractTar(join(root, name), dest, name, signal);
    if (hit.what === 'cni') made.cni.push(rel);
    if (hit.what === 'crictl') made.crictl.push(rel);
  }
  return made;
}

function fromManifest(root: string, m: BundleManifestFile): Candidates {
  const need = (rel: string, field: string): Found => {
    const file = regularFile(root, rel);
    if (!file) throw bad(`${BUNDLE_MANIFEST_FILE}: ${field}`, `${rel} is not a regular file in the bundle`);
    return { file, shown: rel };
  };
  return {
    layout: 'ingot-manifest',
    manifest: m,
    versionClaims: [{ version: m.version, from: `${BUNDLE_MANIFEST_FILE} version` }],
    binaries: m.binaries.map((b, i) => ({ ...need(b.path, `binaries[${i}].path`), name: b.name, entry: b })),
    componentBinaries: [],
    images: m.images.map((im, i) => ({ ...need(im.path, `images[${i}].path`), entry: im })),
    cni: (m.cniPlugins ?? []).map((c, i) => ({
      ...need(c.path, `cniPlugins[${i}].path`),
      name: c.name ?? base(c.path),
      entry: c,
    })),
  };
}

/** Finds the bundle's files in `root` (which the import owns: nested tarballs are unpacked into it). */
export async function findCandidates(root: string, signal?: AbortSignal): Promise<Candidates> {
  const manifestFile = regularFile(root, BUNDLE_MANIFEST_FILE);
  if (manifestFile) {
    const c = fromManifest(root, readManifestFile(manifestFile));
    // .docker_tag files beside a manifest still count as evidence of the version.
    const tags = walk(root).filter((f) => f.endsWith('.docker_tag'));
    return { ...c, versionClaims: [...c.versionClaims, ...tagClaims(root, tags)] };
  }
  const nested = await unpackNested(root, signal);
  const files = walk(root);
  const binDirs = BIN_DIRS.filter((d) => files.some((f) => dirOf(f) === d)).concat(
    [...new Set(files.map(dirOf))].filter((d) =>
      /^\.unpacked\/[^/]+\/(kubernetes\/)?(server|node)\/bin$/.test(d),
    ),
  );
  const inBin = (f: string) => binDirs.includes(dirOf(f));
  const binaries: (Found & { name: NodeBinary })[] = [];
  const seen = new Map<string, string>();
  const addBinary = (name: NodeBinary, rel: string) => {
    const prev = seen.get(name);
    if (prev) throw bad(rel, `is a second ${name} (the first is ${prev}); a bundle holds one of each binary`);
    seen.set(name, rel);
    binaries.push({ name, file: join(root, rel), shown: rel });
  };
  for (const f of files) {
    const b = base(f);
    if (inBin(f) && (NODE_BINARIES as readonly string[]).includes(b)) addBinary(b as NodeBinary, f);
  }
  if (!seen.has('crictl')) {
    const crictl = files.find(
      (f) =>
        base(f) === 'crictl' && (['', 'bin'].includes(dirOf(f)) || nested.crictl.some((d) => dirOf(f) === d)),
    );
    if (crictl) addBinary('crictl', crictl);
  }
  const componentBinaries = files
    .filter((f) => inBin(f) && (KUBE_COMPONENTS as readonly string[]).includes(base(f)))
    .map((f) => ({ name: base(f), file: join(root, f), shown: f }));
  // Every *.tar in the tree is an image archive (upstream's are beside their binaries).
  const images = files.filter((f) => f.endsWith('.tar')).map((f) => ({ file: join(root, f), shown: f }));
  const cniDirs = [...CNI_DIRS, ...nested.cni];
  const cni = files
    .filter(
      (f) =>
        cniDirs.includes(dirOf(f)) && !/^(LICENSE|README|NOTICE)/i.test(base(f)) && !base(f).includes('.'),
    )
    .map((f) => ({ name: base(f), file: join(root, f), shown: f }));
  const tags = files.filter((f) => inBin(f) && f.endsWith('.docker_tag'));
  const versionClaims = tagClaims(root, tags);
  for (const v of ['kubernetes/version', 'version']) {
    const file = regularFile(root, v);
    if (file) {
      const text = readFileSync(file, 'utf8').trim();
      if (text.length > 0 && text.length <= 64) versionClaims.push({ version: text, from: v });
    }
  }
  return {
    layout: 'upstream-release',
    manifest: null,
    versionClaims,
    binaries,
    componentBinaries,
    images,
    cni,
  };
}

/** `.docker_tag` files: upstream writes the version with `+` replaced by `_` (Docker tags cannot hold `+`). */
function tagClaims(root: string, tags: readonly string[]): VersionClaim[] {
  return tags.map((t) => {
    const tag = readFileSync(join(root, t), 'utf8').trim().slice(0, 128);
    return { version: tag, from: t };
  });
}

/** Whether a claimed version (a .docker_tag holds `_` for `+`) is `version`. */
export function claimMatches(claim: string, version: string): boolean {
  return claim === version || claim === dockerTagOf(version);
}
