/**
 * `ingot image build boot`: the boot image the agent runs in — Debian's kernel and an initramfs
 * built here from Debian packages (busybox-static plus the agent's tools, their shared
 * libraries, kernel modules for virtio and common server NICs and storage controllers) and the
 * agent itself (src/agent/guest). Reproducible: the recipe, the exact package files (by
 * SHA-256) and the agent's files make a key; the archive has sorted entries, mtime 0 and root
 * ownership, so the same key gives the same bytes. Built once per key into
 * `<cache>/boot/<key>/` (vmlinuz, initrd.img, manifest.json).
 */
import { execFile as execFileCb, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { NODE_AGENT_STAGE, nodeAgentFiles } from '../node/files.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { defaultCacheDir } from '../../images/cache-dir.ts';
import { type CpioEntry, cpioNewc } from './cpio.ts';
import { extractDebs, fetchDebs, libraryClosure, resolveDebs } from './debs.ts';
import { elfDeps, isElf } from './elf.ts';
import { selectModules } from './modules.ts';
import { BOOT_RECIPE } from './recipe.ts';

const execFile = promisify(execFileCb);
const GUEST = new URL('../guest/', import.meta.url).pathname;
const SELF = ['build.ts', 'cpio.ts', 'debs.ts', 'elf.ts', 'modules.ts', 'recipe.ts'].map(
  (f) => new URL(`./${f}`, import.meta.url).pathname,
);

export interface BootImage {
  /** `<cache>/boot/<key>`: serve it as an artifacts subdirectory. */
  readonly dir: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly kernelVersion: string;
  readonly key: string;
  /** SHA-256 of vmlinuz and initrd.img. */
  readonly sha256: { kernel: string; initrd: string };
  readonly sizeBytes: number;
}

interface Manifest {
  key: string;
  kernelVersion: string;
  packages: string[];
  sha256: { kernel: string; initrd: string };
  sizeBytes: number;
  modules: number;
  missingModules: string[];
}

export { defaultCacheDir };

async function kernelPackage(): Promise<string> {
  const { stdout } = await execFile('apt-cache', ['depends', 'linux-image-amd64']).catch(() => ({
    stdout: '',
  }));
  const pkg = /Depends: (linux-image-\S+)/.exec(stdout)?.[1];
  if (!pkg)
    throw new IngotError(
      ErrorCode.Config,
      'cannot resolve the kernel package: `apt-cache depends linux-image-amd64` found none; run apt-get update',
    );
  return pkg;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Follows symlinks inside `root` (absolute targets are relative to root, not the host). */
function inRoot(root: string, path: string): string | null {
  let p = join(root, path);
  for (let i = 0; i < 40; i++) {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(p);
    } catch {
      // a parent may be a symlink: resolve component by component
      const parent = dirname(p);
      if (parent === p || !p.startsWith(root)) return null;
      const rp = inRoot(root, relative(root, parent));
      if (!rp || rp === parent) return null;
      p = join(rp, p.slice(parent.length + 1));
      continue;
    }
    if (!st.isSymbolicLink()) return p;
    const t = readlinkSync(p);
    p = t.startsWith('/') ? join(root, t) : join(dirname(p), t);
  }
  return null;
}

/** The agent's files, relative to `dir` and sorted (`init`, `lib/json.sh`, …): all of them key the image. */
function guestFilesOf(dir: string, sub = ''): string[] {
  return readdirSync(join(dir, sub), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? guestFilesOf(dir, join(sub, e.name)) : [join(sub, e.name)]))
    .sort();
}

const LIB_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib', 'usr/lib', 'lib64'];
const BIN_DIRS = ['usr/sbin', 'usr/bin', 'sbin', 'bin'];

export async function buildBootImage(
  o: { cacheDir?: string; log?: (m: string) => void; force?: boolean; debsDir?: string } = {},
): Promise<BootImage> {
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const log = o.log ?? (() => {});
  const kpkg = await kernelPackage();
  const closure = await libraryClosure(BOOT_RECIPE.packages);
  const debs = await resolveDebs([...closure, kpkg]);
  const guestFiles = guestFilesOf(GUEST);
  const h = createHash('sha256').update(JSON.stringify(BOOT_RECIPE));
  for (const d of debs) h.update(`${d.file} ${d.sha256}\n`);
  for (const f of guestFiles) h.update(f).update(readFileSync(join(GUEST, f)));
  for (const f of SELF) h.update(readFileSync(f));
  // The node agent the deploy installs into the OS it writes (write-image's install_node_agent).
  const nodeAgent = Object.entries(nodeAgentFiles()).sort(([a], [b]) => a.localeCompare(b));
  for (const [p, f] of nodeAgent) h.update(`${p} ${f.mode}\n`).update(f.content);
  const key = h.digest('hex').slice(0, 16);
  const dir = join(cacheDir, 'boot', key);
  const out = (m: Manifest): BootImage => ({
    dir,
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    kernelVersion: m.kernelVersion,
    key,
    sha256: m.sha256,
    sizeBytes: m.sizeBytes,
  });
  const manifestPath = join(dir, 'manifest.json');
  if (!o.force && existsSync(manifestPath) && existsSync(join(dir, 'initrd.img')))
    return out(JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest);

  log(`building the boot image ${key} (${debs.length} Debian packages) in ${dir}`);
  const paths = await fetchDebs(debs, o.debsDir ?? join(cacheDir, 'debs'), log);
  mkdirSync(join(cacheDir, 'boot'), { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'boot', '.build-'));
  try {
    const root = join(work, 'root');
    const kroot = join(work, 'kernel');
    const kdeb = paths.find((p) => p.includes(`/${kpkg}_`))!;
    await extractDebs(
      paths.filter((p) => p !== kdeb),
      root,
    );
    await extractDebs([kdeb], kroot);

    const files = new Map<string, CpioEntry>();
    const add = (e: CpioEntry) =>
      files.set(e.path.replace(/^\/+/, ''), { ...e, path: e.path.replace(/^\/+/, '') });

    // programs and their libraries
    const libDirs = LIB_DIRS.map((d) => join(root, d));
    const libs = new Set<string>();
    const copyElf = (src: string, dest: string) => {
      const buf = readFileSync(src);
      add({ kind: 'file', path: dest, data: buf, mode: 0o755 });
      const deps = isElf(buf) ? elfDeps(buf) : null;
      if (!deps) return;
      if (deps.interp && !files.has(deps.interp.slice(1))) {
        const ip = inRoot(root, deps.interp);
        if (!ip)
          throw new IngotError(ErrorCode.Config, `${dest}: interpreter ${deps.interp} not in the packages`);
        add({ kind: 'file', path: deps.interp, data: readFileSync(ip), mode: 0o755 });
      }
      for (const so of deps.needed) {
        if (libs.has(so)) continue;
        libs.add(so);
        const found = [...deps.runpath.map((r) => join(root, r)), ...libDirs]
          .map((d) => inRoot(root, relative(root, join(d, so))))
          .find((p) => p !== null);
        if (!found)
          throw new IngotError(
            ErrorCode.Config,
            `${dest} needs ${so}, which no package of the recipe provides; add its package to BOOT_RECIPE`,
          );
        copyElf(found, `lib/x86_64-linux-gnu/${so}`);
      }
    };
    for (const prog of BOOT_RECIPE.programs) {
      const src = BIN_DIRS.map((d) => inRoot(root, `${d}/${prog}`)).find((p) => p !== null);
      if (!src) throw new IngotError(ErrorCode.Config, `program ${prog} is in none of the recipe's packages`);
      copyElf(src, `usr/bin/${prog}`);
    }
    for (const [link, target] of Object.entries(BOOT_RECIPE.links))
      add({ kind: 'symlink', path: `usr/bin/${link}`, target });
    // The kernel asks /sbin/modprobe for what it loads on demand (crc32c for ext4, codepages for vfat).
    add({ kind: 'symlink', path: 'sbin/modprobe', target: '/usr/bin/kmod' });

    // busybox and its applets (real tools in /usr/bin come first in PATH)
    const busybox = inRoot(root, 'bin/busybox');
    if (!busybox) throw new IngotError(ErrorCode.Config, 'busybox-static did not provide /bin/busybox');
    add({ kind: 'file', path: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 });
    const { stdout: applets } = await execFile(busybox, ['--list']);
    for (const a of applets.split('\n').sort())
      if (a && a !== 'busybox') add({ kind: 'symlink', path: `bin/${a}`, target: 'busybox' });

    // CA certificates: the bundle update-ca-certificates would write, in a fixed order
    const caDir = join(root, 'usr/share/ca-certificates');
    const crts: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.crt')) crts.push(join(d, e.name));
      }
    };
    if (existsSync(caDir)) walk(caDir);
    add({
      kind: 'file',
      path: 'etc/ssl/certs/ca-certificates.crt',
      data: Buffer.concat(crts.map((c) => readFileSync(c))),
    });

    // kernel and modules, with modules.dep & co from the packages' own depmod
    const kver = readdirSync(join(kroot, 'lib/modules'))[0];
    const kmods = join(kroot, 'lib/modules', kver);
    const sel = selectModules(kmods, kver, BOOT_RECIPE.modules);
    const mroot = join(work, 'mods');
    const mdir = join(mroot, 'lib/modules', kver);
    for (const f of sel.files) {
      mkdirSync(dirname(join(mdir, f)), { recursive: true });
      copyFileSync(join(kmods, f), join(mdir, f));
    }
    for (const f of ['modules.builtin', 'modules.builtin.modinfo', 'modules.order'])
      if (existsSync(join(kmods, f))) copyFileSync(join(kmods, f), join(mdir, f));
    const ld = inRoot(root, 'lib64/ld-linux-x86-64.so.2');
    const kmod = inRoot(root, 'bin/kmod') ?? inRoot(root, 'usr/bin/kmod');
    if (!ld || !kmod)
      throw new IngotError(ErrorCode.Config, 'kmod or the dynamic loader is missing from the packages');
    await execFile(ld, ['--library-path', libDirs.join(':'), '--argv0', 'depmod', kmod, '-b', mroot, kver]);
    const modWalk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) modWalk(p);
        else add({ kind: 'file', path: relative(mroot, p), data: readFileSync(p) });
      }
    };
    modWalk(mroot);

    // the agent and the rest of the root
    add({ kind: 'file', path: 'init', data: readFileSync(join(GUEST, 'init')), mode: 0o755 });
    add({
      kind: 'file',
      path: 'usr/bin/ingot-agent',
      data: readFileSync(join(GUEST, 'ingot-agent')),
      mode: 0o755,
    });
    add({
      kind: 'file',
      path: 'usr/share/ingot/udhcpc.script',
      data: readFileSync(join(GUEST, 'udhcpc.script')),
      mode: 0o755,
    });
    // The agent's helpers and tasks, which it sources (src/agent/guest/{lib,tasks}).
    for (const f of guestFiles.filter((x) => x.startsWith('lib/') || x.startsWith('tasks/')))
      add({
        kind: 'file',
        path: `usr/share/ingot/agent/${f}`,
        data: readFileSync(join(GUEST, f)),
        mode: 0o644,
      });
    // The node agent, laid out as on the deployed OS under NODE_AGENT_STAGE: write-image copies
    // it into the OS it wrote (src/agent/node/files.ts), so OS images need not carry it.
    for (const [p, f] of nodeAgent)
      add({
        kind: 'file',
        path: `${NODE_AGENT_STAGE.slice(1)}${p}`,
        data: Buffer.from(f.content),
        mode: f.mode,
      });
    add({ kind: 'file', path: 'etc/ingot/image', data: Buffer.from(`${key}\n`) });
    add({
      kind: 'file',
      path: 'etc/passwd',
      data: Buffer.from('root:x:0:0:root:/root:/bin/sh\ntcpdump:x:100:100:tcpdump:/:/bin/false\n'),
    });
    add({ kind: 'file', path: 'etc/group', data: Buffer.from('root:x:0:\ntcpdump:x:100:\n') });
    add({
      kind: 'file',
      path: 'etc/nsswitch.conf',
      data: Buffer.from('passwd: files\ngroup: files\nhosts: files dns\n'),
    });
    add({ kind: 'file', path: 'etc/hosts', data: Buffer.from('127.0.0.1 localhost\n') });
    add({ kind: 'chardev', path: 'dev/console', major: 5, minor: 1, mode: 0o600 });
    add({ kind: 'chardev', path: 'dev/null', major: 1, minor: 3, mode: 0o666 });
    for (const d of ['proc', 'sys', 'tmp', 'run', 'root', 'var', 'mnt'])
      add({ kind: 'dir', path: d, mode: d === 'tmp' ? 0o1777 : 0o755 });

    // parents first, sorted: the same inputs give the same bytes
    for (const p of [...files.keys()]) {
      let d = posix.dirname(p);
      while (d !== '.' && !files.has(d)) {
        add({ kind: 'dir', path: d });
        d = posix.dirname(d);
      }
    }
    const entries = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    // The recipe's own lz4 (one thread: the same bytes everywhere).
    const lz4 = inRoot(root, 'usr/bin/lz4');
    if (!lz4) throw new IngotError(ErrorCode.Config, 'lz4 is missing from the packages');
    const zr = spawnSync(
      ld,
      [
        '--library-path',
        libDirs.join(':'),
        '--argv0',
        'lz4',
        lz4,
        '-l',
        `-${BOOT_RECIPE.lz4Level}`,
        '-q',
        '-c',
      ],
      { input: cpioNewc(entries), maxBuffer: 512 * 2 ** 20 },
    );
    if (zr.status !== 0)
      throw new IngotError(ErrorCode.Config, `lz4 failed: ${zr.stderr?.toString().trim()}`);
    // Then zeros to a 4-byte boundary plus 4 more: the kernel's lz4 reader stops at a zero chunk
    // size and skips zeros between archives, so another archive (a site's overlay) can be
    // appended to this one.
    const initrd = Buffer.concat([zr.stdout, Buffer.alloc(4 + ((4 - (zr.stdout.length % 4)) % 4))]);
    const vmlinuz = readFileSync(join(kroot, 'boot', `vmlinuz-${kver}`));
    const manifest: Manifest = {
      key,
      kernelVersion: kver,
      packages: debs.map((d) => d.file),
      sha256: { kernel: sha256(vmlinuz), initrd: sha256(initrd) },
      sizeBytes: vmlinuz.length + initrd.length,
      modules: sel.files.length,
      missingModules: sel.missing,
    };
    const stage = join(work, 'out');
    mkdirSync(stage);
    writeFileSync(join(stage, 'initrd.img'), initrd);
    writeFileSync(join(stage, 'vmlinuz'), vmlinuz);
    writeFileSync(join(stage, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(stage, dir);
    log(
      `boot image ${key}: ${(manifest.sizeBytes / 2 ** 20).toFixed(1)} MiB, kernel ${kver}, ${sel.files.length} modules${sel.missing.length ? ` (not in this kernel: ${sel.missing.join(', ')})` : ''}`,
    );
    return out(manifest);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
