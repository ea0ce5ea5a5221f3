/**
 * The OS image's root filesystem, in a work directory: debootstrap, the recipe's packages
 * installed in a chroot, one initramfs, the GRUB images, then what must not be shared between
 * machines removed. build.ts turns the result into a disk.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { DebianMirrors } from './apt-sources.ts';
import { type Chroot, runLogged, withChroot } from './chroot.ts';
import { fatUuid } from './disk.ts';
import { grubCfg, grubEarlyCfg, type OsRecipe } from './recipe.ts';

export interface RootInputs {
  recipe: OsRecipe;
  mirrors: DebianMirrors;
  /** Where downloaded packages are kept between builds. */
  debs: string;
  /** The build's log file (every command's output). */
  buildLog: string;
  /** SOURCE_DATE_EPOCH of the build: the archive's date. */
  epoch: number;
}

export interface BuiltRoot {
  kernel: string;
  /** Installed packages and their versions. */
  packages: Record<string, string>;
  debootstrapVersion: string;
  /** GRUB's BIOS core.img, UEFI BOOTX64.EFI and the early config, outside the root. */
  grubDir: string;
  /** GRUB's boot.img (the MBR boot code). */
  bootImg: Buffer;
}

/** debootstrap, then the recipe's packages, initramfs and GRUB images in a chroot. */
export async function bootstrapRoot(
  rootDir: string,
  grubDir: string,
  c: RootInputs,
  rootUuid: string,
  step: (m: string) => void,
): Promise<BuiltRoot> {
  const env: Record<string, string> = c.mirrors.proxy ? { http_proxy: c.mirrors.proxy } : {};
  step(`debootstrap ${c.recipe.suite} from ${c.mirrors.mirror} (log: ${c.buildLog})`);
  mkdirSync(c.debs, { recursive: true });
  await runLogged(
    'debootstrap',
    [
      '--variant=minbase',
      '--arch=amd64',
      '--components=main',
      `--cache-dir=${c.debs}`,
      c.recipe.suite,
      rootDir,
      c.mirrors.mirror,
    ],
    { log: c.buildLog, env },
  );
  const debootstrapVersion = (await runLogged('debootstrap', ['--version'])).trim();
  let kernel = '';
  let packages: Record<string, string> = {};
  await withChroot(rootDir, { log: c.buildLog, aptCache: c.debs, env }, async (ch) => {
    step(`installing ${c.recipe.packages.length} packages (apt-get in the chroot)`);
    await configureApt(ch, c);
    // One initramfs at the end instead of one per trigger.
    await ch.run(['dpkg-divert', '--local', '--rename', '--add', '/usr/sbin/update-initramfs']);
    writeFileSync(join(rootDir, 'usr/sbin/update-initramfs'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    for (const [path, content] of Object.entries(c.recipe.files)) {
      mkdirSync(dirname(join(rootDir, path)), { recursive: true });
      writeFileSync(join(rootDir, path), content, { mode: c.recipe.modes?.[path] ?? 0o644 });
    }
    await ch.run([
      'apt-get',
      'install',
      '-y',
      '-q',
      '--no-install-recommends',
      '-o',
      'Dpkg::Options::=--force-confold',
      ...c.recipe.packages,
    ]);
    for (const cmd of c.recipe.commands ?? []) await ch.run([...cmd]);
    unlinkSync(join(rootDir, 'usr/sbin/update-initramfs'));
    await ch.run(['dpkg-divert', '--local', '--rename', '--remove', '/usr/sbin/update-initramfs']);
    kernel = readdirSync(join(rootDir, 'lib/modules')).sort().at(-1) ?? '';
    if (!kernel)
      throw new IngotError(
        ErrorCode.Internal,
        'no kernel in /lib/modules after installing linux-image-amd64',
      );
    step(`initramfs for ${kernel}, locales`);
    await ch.run(['locale-gen']);
    await ch.run(['update-initramfs', '-c', '-k', kernel], { SOURCE_DATE_EPOCH: String(c.epoch) });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
    const q = await ch.run(['dpkg-query', '-W', '-f', '${Package}\t${Version}\n']);
    packages = Object.fromEntries(
      q
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t') as [string, string]),
    );
    step('GRUB images (BIOS core.img, UEFI BOOTX64.EFI)');
    await grubImages(ch, rootUuid);
  });
  mkdirSync(grubDir);
  for (const f of ['core.img', 'BOOTX64.EFI', 'early.cfg'])
    renameSync(join(rootDir, 'tmp', f), join(grubDir, f));
  return {
    kernel,
    packages,
    debootstrapVersion,
    grubDir,
    bootImg: readFileSync(join(rootDir, 'usr/lib/grub/i386-pc/boot.img')),
  };
}

/** GRUB's BIOS core.img and UEFI BOOTX64.EFI, each finding the root by its UUID; in the chroot's /tmp. */
async function grubImages(ch: Chroot, rootUuid: string): Promise<void> {
  writeFileSync(join(ch.root, 'tmp/early.cfg'), grubEarlyCfg(rootUuid));
  await ch.run([
    'grub-mkimage',
    '-O',
    'i386-pc',
    '-d',
    '/usr/lib/grub/i386-pc',
    '-o',
    '/tmp/core.img',
    '-c',
    '/tmp/early.cfg',
    '-p',
    '/boot/grub',
    'biosdisk',
    'part_gpt',
    'ext2',
    'search_fs_uuid',
  ]);
  await ch.run([
    'grub-mkimage',
    '-O',
    'x86_64-efi',
    '-d',
    '/usr/lib/grub/x86_64-efi',
    '-o',
    '/tmp/BOOTX64.EFI',
    '-c',
    '/tmp/early.cfg',
    '-p',
    '/boot/grub',
    'part_gpt',
    'ext2',
    'fat',
    'search_fs_uuid',
  ]);
}

async function configureApt(ch: Chroot, c: Pick<RootInputs, 'recipe' | 'mirrors'>): Promise<void> {
  const root = ch.root;
  writeFileSync(
    join(root, 'usr/sbin/policy-rc.d'),
    '#!/bin/sh\n# no daemons start in the image build\nexit 101\n',
    {
      mode: 0o755,
    },
  );
  rmSync(join(root, 'etc/apt/sources.list'), { force: true });
  writeFileSync(join(root, 'etc/apt/sources.list.d/debian.sources'), aptSources(c));
  // Packages stay in the bind-mounted cache, not in the image.
  writeFileSync(join(root, 'etc/apt/apt.conf.d/90ingot-build'), 'APT::Keep-Downloaded-Packages "true";\n');
  await ch.run(['apt-get', 'update', '-q']);
}

function aptSources(c: Pick<RootInputs, 'recipe' | 'mirrors'>): string {
  const s = c.recipe.suite;
  const stanzas = [
    `Types: deb\nURIs: ${c.mirrors.mirror}\nSuites: ${s} ${s}-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
  ];
  if (c.mirrors.security)
    stanzas.push(
      `Types: deb\nURIs: ${c.mirrors.security}\nSuites: ${s}-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
    );
  return stanzas.join('\n');
}

/** Everything after the packages: fstab, GRUB files, and what must not be shared between machines. */
export function finishRoot(
  root: string,
  c: Pick<RootInputs, 'recipe'>,
  o: { rootUuid: string; espVolumeId: string; kernel: string },
): void {
  writeFileSync(
    join(root, 'etc/fstab'),
    `# Written by Ingot's image builder.\nUUID=${o.rootUuid} / ext4 errors=remount-ro 0 1\nUUID=${fatUuid(o.espVolumeId)} /boot/efi vfat umask=0077,nofail 0 2\n`,
  );
  mkdirSync(join(root, 'boot/efi'), { recursive: true });
  for (const platform of ['i386-pc', 'x86_64-efi']) {
    const dest = join(root, 'boot/grub', platform);
    mkdirSync(dest, { recursive: true });
    const src = join(root, 'usr/lib/grub', platform);
    for (const f of readdirSync(src))
      if (/\.(mod|lst)$/.test(f) || f === 'modinfo.sh') copyFileSync(join(src, f), join(dest, f));
  }
  writeFileSync(
    join(root, 'boot/grub/grub.cfg'),
    grubCfg({ rootUuid: o.rootUuid, kernelVersion: o.kernel, cmdline: c.recipe.cmdline }),
  );
  // Per-machine identity is made at first boot: machine-id (systemd), SSH host keys (cloud-init).
  writeFileSync(join(root, 'etc/machine-id'), '');
  rmSync(join(root, 'var/lib/dbus/machine-id'), { force: true });
  for (const f of readdirSync(join(root, 'etc/ssh')))
    if (f.startsWith('ssh_host_')) rmSync(join(root, 'etc/ssh', f));
  writeFileSync(join(root, 'etc/resolv.conf'), '');
  rmSync(join(root, 'usr/sbin/policy-rc.d'), { force: true });
  rmSync(join(root, 'etc/apt/apt.conf.d/90ingot-build'), { force: true });
  // Package lists, caches, temp files and the build's logs are not part of the image (log
  // directories stay: journald and others expect them).
  for (const d of ['var/lib/apt/lists', 'var/cache/apt', 'tmp', 'var/tmp'])
    for (const f of existsSync(join(root, d)) ? readdirSync(join(root, d)) : [])
      if (f !== 'partial' && f !== 'lock') rmSync(join(root, d, f), { recursive: true, force: true });
  mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  removeFilesBelow(join(root, 'var/log'));
}

function removeFilesBelow(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) removeFilesBelow(p);
    else rmSync(p, { force: true });
  }
}
