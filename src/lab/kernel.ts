/**
 * Debian's kernel for the lab's ephemeral OS, without install hooks: `apt-get download` of the
 * package `linux-image-amd64` depends on, then `dpkg-deb -x`. Debian builds virtio as modules
 * and ships no modules.dep (depmod runs in postinst), so the modules the guest needs are
 * listed here in dependency order. Cached per package name.
 */
import { execFile as execFileCb } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, IngotError } from '../core/errors.ts';

const execFile = promisify(execFileCb);

/** virtio-net and what it needs, in load order (TESTING.md, "Kernel without install hooks"). */
export const GUEST_MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_pci',
  'failover',
  'net_failover',
  'virtio_net',
] as const;

export interface GuestKernel {
  readonly pkg: string;
  readonly version: string;
  readonly vmlinuz: string;
  /** Module files (.ko, uncompressed) in load order; built-in ones are left out. */
  readonly modules: readonly string[];
}

async function resolvePackage(): Promise<string | null> {
  try {
    const { stdout } = await execFile('apt-cache', ['depends', 'linux-image-amd64']);
    return /Depends: (linux-image-\S+)/.exec(stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

function readCached(dir: string, pkg: string): GuestKernel | null {
  const meta = join(dir, 'kernel.json');
  if (!existsSync(meta)) return null;
  const k = JSON.parse(readFileSync(meta, 'utf8')) as GuestKernel;
  return k.pkg === pkg && existsSync(k.vmlinuz) ? k : null;
}

/** The guest kernel, downloaded once into `cacheDir/kernel/<package>/`. */
export async function guestKernel(
  cacheDir: string,
  log: (m: string) => void = () => {},
): Promise<GuestKernel> {
  const base = join(cacheDir, 'kernel');
  const pkg = await resolvePackage();
  if (!pkg) {
    // Offline or no apt lists: any kernel built before will do.
    for (const d of existsSync(base) ? readdirSync(base).sort().reverse() : []) {
      const k = readCached(join(base, d), d);
      if (k) return k;
    }
    throw new IngotError(
      ErrorCode.Config,
      'cannot resolve the kernel package: `apt-cache depends linux-image-amd64` found none; run apt-get update',
    );
  }
  const dir = join(base, pkg);
  const cached = readCached(dir, pkg);
  if (cached) return cached;
  log(`fetching ${pkg} (apt-get download + dpkg-deb -x, no install hooks)`);
  mkdirSync(base, { recursive: true });
  const tmp = mkdtempSync(join(base, '.fetch-'));
  try {
    await execFile('apt-get', ['download', '-q', pkg], { cwd: tmp }).catch(
      (e: Error & { stderr?: string }) => {
        throw new IngotError(
          ErrorCode.Config,
          `apt-get download ${pkg} failed: ${e.stderr?.trim() ?? e.message}`,
        );
      },
    );
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (!deb) throw new IngotError(ErrorCode.Config, `apt-get download ${pkg} left no .deb in ${tmp}`);
    const x = join(tmp, 'x');
    await execFile('dpkg-deb', ['-x', join(tmp, deb), x]);
    const version = readdirSync(join(x, 'lib/modules'))[0];
    const out = join(tmp, 'out');
    mkdirSync(out);
    const modules = await extractModules(join(x, 'lib/modules', version), out);
    renameSync(join(x, 'boot', `vmlinuz-${version}`), join(out, 'vmlinuz'));
    rmSync(dir, { recursive: true, force: true });
    renameSync(out, dir);
    const k: GuestKernel = {
      pkg,
      version,
      vmlinuz: join(dir, 'vmlinuz'),
      modules: modules.map((m) => join(dir, m)),
    };
    writeFileSync(join(dir, 'kernel.json'), `${JSON.stringify(k, null, 2)}\n`);
    return k;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function extractModules(root: string, out: string): Promise<string[]> {
  const { stdout } = await execFile('find', [root, '-name', '*.ko*'], { maxBuffer: 64 * 2 ** 20 });
  const files = stdout.split('\n').filter(Boolean);
  const builtin = existsSync(join(root, 'modules.builtin'))
    ? readFileSync(join(root, 'modules.builtin'), 'utf8')
    : '';
  const names: string[] = [];
  for (const m of GUEST_MODULES) {
    const f = files.find((p) => new RegExp(`/${m}\\.ko(\\.(xz|gz|zst))?$`).test(p));
    const dest = join(out, `${m}.ko`);
    if (f) {
      if (f.endsWith('.ko')) renameSync(f, dest);
      else {
        const tool = f.endsWith('.xz') ? 'xz' : f.endsWith('.gz') ? 'gzip' : 'zstd';
        const { stdout: data } = await execFile(tool, ['-dc', f], {
          encoding: 'buffer',
          maxBuffer: 64 * 2 ** 20,
        });
        writeFileSync(dest, data);
      }
      names.push(`${m}.ko`);
    } else if (!builtin.includes(`/${m}.ko`) && m === 'virtio_net') {
      throw new IngotError(ErrorCode.Config, `virtio_net is neither a module nor built into ${root}`);
    }
  }
  return names;
}
