/**
 * Reading a bundle: from an unpacked tree to the manifest Ingot stores, refusing an
 * inconsistent bundle with every problem named. Which fact comes from where:
 *
 * | fact | from | trusted because |
 * |---|---|---|
 * | version | `ingot-bundle.json` `version`, upstream `*.docker_tag`, `kubernetes/version`; else the kube-* image tags | all given must agree; then every Kubernetes binary must carry that string and every kube-* image must be tagged with it |
 * | architecture | `ingot-bundle.json` `arch`, else the first binary's ELF header | every ELF header and every image config must agree |
 * | image names | the archive (RepoTags / OCI ref.name) | they are what containerd imports; a manifest may only narrow them or add aliases |
 * | image integrity | `skopeo copy` of every layer against its digest | |
 * | file checksums | computed here | a manifest's sha256/size must match them |
 *
 * Binaries are never executed: `--version` would run an uploaded program on the region.
 */
import {
  BUNDLE_API_VERSION,
  BUNDLE_ARCHES,
  BUNDLE_KIND,
  type BundleBinary,
  type BundleCniPlugin,
  type BundleImage,
  type BundleManifest,
  dockerTagOf,
  EXTRA_COMPONENTS,
  type ImageComponent,
  imageComponent,
  KUBE_COMPONENTS,
  NODE_BINARIES,
  parseImageRef,
  REQUIRED_BINARIES,
  withoutArchSuffix,
} from '../core/bundle.ts';
import { type ImageArchive, inspectImageArchive, verifyImageArchive } from './image-archive.ts';
import { checkElf, checkGiven, decideArch, decideVersion } from './evidence.ts';
import { type Candidates, claimMatches, findCandidates } from './layout.ts';
import { Problems } from './problems.ts';
import { type FileScan, scanFile } from './scan.ts';

/** Where each kept file goes in the stored bundle (relative to its directory). */
export interface Placement {
  readonly from: string;
  readonly to: string;
}

export interface ReadBundle {
  readonly manifest: BundleManifest;
  readonly placements: readonly Placement[];
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** Scratch space for skopeo (it unpacks OCI archives there). */
  tmpDir?: string;
  /** What the reader is doing, for the import's status line. */
  progress?: (what: string) => void;
}

/** Components whose images kubeadm pulls; those the bundle lacks are listed as absent. */
const EXPECTED: readonly ImageComponent[] = [...KUBE_COMPONENTS, ...EXTRA_COMPONENTS];

export async function readBundle(root: string, o: ReadOptions = {}): Promise<ReadBundle> {
  const c = await findCandidates(root, o.signal);
  const problems = new Problems();
  const say = o.progress ?? (() => {});

  // 1. Image archives: names, architecture, digests (cheap; layers are checked last).
  const archives: {
    shown: string;
    file: string;
    archive: ImageArchive;
    entry?: Candidates['images'][number]['entry'];
  }[] = [];
  for (const im of c.images) {
    say(`reading ${im.shown}`);
    try {
      archives.push({ ...im, archive: await inspectImageArchive(im.file, im.shown, o) });
    } catch (e) {
      problems.add(im.shown, stripFile(e, im.shown));
    }
  }

  // 2. The version: every claim must agree; without any, the kube-* image tags.
  const version = decideVersion(c, archives, problems);
  problems.throwIfAny();

  // 3. Binaries and CNI plugins: checksum, ELF header, version string.
  const scans = new Map<string, FileScan>();
  for (const f of [...c.binaries, ...c.componentBinaries, ...c.cni]) {
    say(`checking ${f.shown}`);
    scans.set(f.file, await scanFile(f.file, [version.value, dockerTagOf(version.value)]));
  }

  // 4. The architecture: declared, else the first binary's; everything must match it.
  const arch = decideArch(c, archives, scans, problems);
  for (const name of REQUIRED_BINARIES)
    if (!c.binaries.some((b) => b.name === name))
      problems.add(
        name,
        c.layout === 'ingot-manifest'
          ? `the bundle has no ${name}: ingot-bundle.json lists no binary named ${name}`
          : `the bundle has no ${name}: expected kubernetes/server/bin/${name} (upstream layout) or an ingot-bundle.json listing it`,
      );
  for (const b of [...c.binaries, ...c.componentBinaries]) {
    const s = scans.get(b.file)!;
    checkElf(b.shown, s, arch.value, arch.from, problems);
    if (b.name !== 'crictl' && !s.found.has(version.value) && !s.found.has(dockerTagOf(version.value)))
      problems.add(
        b.shown,
        `does not carry the version string ${version.value} (from ${version.from}): it is a ${b.name} of another release, or not an upstream build; every Kubernetes binary of a bundle must be the same release`,
      );
  }
  for (const p of c.cni) checkElf(p.shown, scans.get(p.file)!, arch.value, arch.from, problems);
  const seenCni = new Set<string>();
  for (const p of c.cni) {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(p.name))
      problems.add(p.shown, `"${p.name}" is not a CNI plugin name (lower-case letters, digits, '-', '_')`);
    if (seenCni.has(p.name)) problems.add(p.shown, `is a second CNI plugin named ${p.name}`);
    seenCni.add(p.name);
  }

  // 5. Images: architecture, OS, component versions, names given by a manifest.
  const images: (Omit<BundleImage, 'path' | 'sha256' | 'size'> & { shown: string; file: string })[] = [];
  const refOwner = new Map<string, string>();
  for (const a of archives) {
    a.archive.images.forEach((img, i) => {
      const what = a.archive.images.length > 1 ? `${a.shown} (image ${i})` : a.shown;
      if (img.arch !== arch.value)
        problems.add(what, `is an ${img.arch} image but the bundle is ${arch.value} (from ${arch.from})`);
      if (img.os !== 'linux') problems.add(what, `is a ${img.os} image; nodes run linux`);
      const entry = a.entry;
      if (entry?.format && entry.format !== a.archive.format)
        problems.add(what, `ingot-bundle.json says ${entry.format} but the file is a ${a.archive.format}`);
      if (entry?.configDigest && entry.configDigest !== img.configDigest)
        problems.add(
          what,
          `its config digest is ${img.configDigest}, not ${entry.configDigest} as ingot-bundle.json says`,
        );
      for (const r of entry?.refs ?? [])
        if (!img.refs.includes(r))
          problems.add(
            what,
            `ingot-bundle.json names it ${r}, but the archive names it ${img.refs.join(', ') || 'nothing'}; containerd imports the archive's names`,
          );
      if (img.refs.length === 0)
        problems.add(
          what,
          'names no image (no RepoTags): containerd would import it nameless; save it with a name (docker save NAME:TAG)',
        );
      const parsed = img.refs.map((r) => ({ r, p: parseImageRef(r) }));
      for (const { r, p } of parsed)
        if (!p) problems.add(what, `names its image "${r}", which is not a full image reference`);
      const aliases = new Set<string>();
      for (const al of entry?.aliases ?? []) {
        if (!parseImageRef(al)) problems.add(what, `alias "${al}" is not a full image reference (name:tag)`);
        else aliases.add(al);
      }
      for (const { p } of parsed) {
        const bare = p && BUNDLE_ARCHES.includes(arch.value) ? withoutArchSuffix(p, arch.value) : null;
        if (bare && !img.refs.includes(bare)) aliases.add(bare);
      }
      const names = [...img.refs, ...aliases];
      let component: ImageComponent | null = null;
      for (const n of names) {
        const p = parseImageRef(n);
        const comp = p ? imageComponent(p, arch.value) : null;
        if (comp && !component) component = comp;
        if (
          comp &&
          (KUBE_COMPONENTS as readonly string[]).includes(comp) &&
          p?.tag &&
          !claimMatches(p.tag, version.value)
        )
          problems.add(
            what,
            `is ${n}, but the bundle is ${version.value} (from ${version.from}); the ${comp} image must be the bundle's release`,
          );
      }
      if (entry?.component && component && entry.component !== component)
        problems.add(what, `ingot-bundle.json says it is ${entry.component} but its name says ${component}`);
      component = component ?? entry?.component ?? null;
      for (const n of names) {
        const prev = refOwner.get(n);
        if (prev && prev !== what)
          problems.add(what, `is named ${n}, like ${prev}; each image name may appear once`);
        refOwner.set(n, what);
      }
      images.push({
        shown: a.shown,
        file: a.file,
        format: a.archive.format,
        refs: img.refs,
        aliases: [...aliases].sort(),
        component,
        arch: arch.value,
        os: img.os,
        configDigest: img.configDigest,
        manifestDigest: img.manifestDigest,
      });
    });
  }
  problems.throwIfAny();

  // 6. Layers, last: the slow part, on a bundle that is otherwise sound.
  for (const a of archives) {
    say(`verifying ${a.shown}`);
    try {
      await verifyImageArchive(a.file, a.archive, a.shown, o);
    } catch (e) {
      problems.add(a.shown, stripFile(e, a.shown));
    }
  }
  problems.throwIfAny();

  // 7. The stored manifest and where each file goes.
  const placements: Placement[] = [];
  const binaries: BundleBinary[] = [];
  for (const name of NODE_BINARIES) {
    const b = c.binaries.find((x) => x.name === name);
    if (!b) continue;
    const s = scans.get(b.file)!;
    checkGiven(b.shown, b.entry, s, problems);
    const to = `bin/${name}`;
    placements.push({ from: b.file, to });
    binaries.push({
      name,
      path: to,
      sha256: s.sha256,
      size: s.size,
      version: name === 'crictl' ? null : version.value,
    });
  }
  const cniPlugins: BundleCniPlugin[] = [...c.cni]
    .sort((x, y) => x.name.localeCompare(y.name))
    .map((p) => {
      const s = scans.get(p.file)!;
      checkGiven(p.shown, p.entry, s, problems);
      const to = `cni/${p.name}`;
      placements.push({ from: p.file, to });
      return { name: p.name, path: to, sha256: s.sha256, size: s.size };
    });
  const storedImages: BundleImage[] = [];
  const taken = new Set<string>();
  const byFile = new Map<string, { path: string; sha256: string; size: number }>();
  for (const im of images) {
    let stored = byFile.get(im.file);
    if (!stored) {
      say(`checksumming ${im.shown}`);
      const s = await scanFile(im.file);
      checkGiven(im.shown, archives.find((a) => a.file === im.file)?.entry, s, problems);
      const to = uniqueName(`images/${im.shown.slice(im.shown.lastIndexOf('/') + 1)}`, taken);
      placements.push({ from: im.file, to });
      stored = { path: to, sha256: s.sha256, size: s.size };
      byFile.set(im.file, stored);
    }
    const { shown: _shown, file: _file, ...rest } = im;
    storedImages.push({ ...rest, ...stored });
  }
  problems.throwIfAny();
  const present = new Set(storedImages.map((i) => i.component).filter(Boolean));
  return {
    manifest: {
      apiVersion: BUNDLE_API_VERSION,
      kind: BUNDLE_KIND,
      version: version.value,
      arch: arch.value,
      binaries,
      images: storedImages.sort(
        (x, y) => x.path.localeCompare(y.path) || x.refs.join().localeCompare(y.refs.join()),
      ),
      cniPlugins,
      absentImages: EXPECTED.filter((e) => !present.has(e)),
      provenance: { layout: c.layout, versionFrom: version.from, archFrom: arch.from },
    },
    placements,
  };
}

function stripFile(e: unknown, shown: string): string {
  const msg = (e as Error).message ?? String(e);
  return msg.startsWith(`${shown}: `) ? msg.slice(shown.length + 2) : msg;
}

/** A stored file name: safe in a URL and a shell word (`images/<name>.tar`), unique in the bundle. */
function uniqueName(wanted: string, taken: Set<string>): string {
  const want = wanted.replace(/[^A-Za-z0-9._/-]/g, '_').replace(/\/\.+/g, '/_');
  let name = want;
  for (let i = 2; taken.has(name); i++) name = want.replace(/(\.tar)?$/, `-${i}$1`);
  taken.add(name);
  return name;
}
