/**
 * What goes into a Debian 12 OS image: packages, configuration files and the disk layout.
 * Everything here feeds the build cache key (recipeHash): change a line, get a new image.
 *
 * Layout (GPT, boots under BIOS and UEFI):
 *   p1  BIOS boot  1 MiB   GRUB's core.img (BIOS)
 *   p2  ESP        63 MiB  FAT, EFI/BOOT/BOOTX64.EFI (the removable path: OVMF and real firmware
 *                          boot it without NVRAM entries)
 *   p3  root       rest    ext4 `debian-root`; last, so growpart can extend it to the disk's end
 */
import { createHash } from 'node:crypto';

export const OS_DISTROS = ['debian-12'] as const;
export type OsDistro = (typeof OS_DISTROS)[number];

/** `standard`: a general-purpose server; `kubernetes-node`: one that runs kubeadm's nodes (kubernetes-node.ts). */
export const OS_PROFILES = ['standard', 'kubernetes-node'] as const;
export type OsProfile = (typeof OS_PROFILES)[number];

export interface OsRecipe {
  readonly distro: OsDistro;
  readonly profile: OsProfile;
  /** The image's name (files, manifest, the registry's default name). */
  readonly name: string;
  readonly suite: string;
  readonly packages: readonly string[];
  /** Partition sizes in MiB (root takes the rest). */
  readonly layout: { readonly biosMiB: number; readonly espMiB: number };
  readonly rootLabel: string;
  readonly espLabel: string;
  /** The kernel command line (besides root=). */
  readonly cmdline: string;
  /** Files written into the root filesystem (path → content), before the packages. */
  readonly files: Readonly<Record<string, string>>;
  /** File modes other than 0644, by path. */
  readonly modes?: Readonly<Record<string, number>>;
  /** Commands run in the chroot after the packages (enable units, links). */
  readonly commands?: readonly (readonly string[])[];
}

const CLOUD_CFG = `# Written by Ingot's image builder (src/images/os/recipe.ts).
# NoCloud finds its seed on a volume labelled cidata/CIDATA, in /var/lib/cloud/seed/nocloud(-net)/,
# or through ds=nocloud;s=http://…/ on the kernel line or in the SMBIOS serial. A seed whose
# meta-data says seedfrom: http://…/ is fetched once the network is up (NoCloud-net).
datasource_list: [ NoCloud, None ]
# The root partition is the disk's last; grow it and its filesystem at first boot.
growpart:
  mode: auto
  devices: ['/']
resize_rootfs: true
`;

const CONSOLE_ARGS = 'console=tty0 console=ttyS0,115200';

/**
 * /etc/default/grub: update-grub on the deployed machine (a kernel upgrade) rebuilds the menu
 * from it, so it carries the same kernel arguments as the image's own grub.cfg.
 */
export function defaultGrub(extraArgs = ''): string {
  return `# Written by Ingot's image builder. update-grub reads this on the deployed machine.
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="${[CONSOLE_ARGS, extraArgs].filter(Boolean).join(' ')}"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_DISABLE_OS_PROBER=true
`;
}

const INITRAMFS_CONF = `# Written by Ingot's image builder: every storage driver (the image runs on any machine), zstd.
MODULES=most
COMPRESS=zstd
`;

export const DEBIAN_12: OsRecipe = {
  distro: 'debian-12',
  profile: 'standard',
  name: 'debian-12',
  suite: 'bookworm',
  packages: [
    'linux-image-amd64',
    'initramfs-tools',
    'zstd',
    'grub-pc-bin',
    'grub-efi-amd64-bin',
    'grub2-common',
    'systemd-sysv',
    'systemd-timesyncd',
    'udev',
    'kmod',
    'dbus',
    'cloud-init',
    'cloud-guest-utils',
    'openssh-server',
    'sudo',
    // cloud-init renders a deploy's network-config with its ENI renderer (ifupdown): bonds need
    // ifenslave, VLANs vlan, and its routes (the default route too) net-tools' \`route\`.
    'ifupdown',
    'ifenslave',
    'vlan',
    'net-tools',
    'isc-dhcp-client',
    'netbase',
    'iproute2',
    'fdisk',
    'gdisk',
    'e2fsprogs',
    'dosfstools',
    'ca-certificates',
    'curl',
    'locales',
  ],
  layout: { biosMiB: 1, espMiB: 63 },
  rootLabel: 'debian-root',
  espLabel: 'EFI',
  cmdline: `ro ${CONSOLE_ARGS}`,
  files: {
    '/etc/cloud/cloud.cfg.d/90-ingot.cfg': CLOUD_CFG,
    '/etc/default/grub': defaultGrub(),
    '/etc/initramfs-tools/conf.d/ingot.conf': INITRAMFS_CONF,
    '/etc/hostname': 'debian\n',
    '/etc/hosts': '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n',
    '/etc/network/interfaces':
      '# cloud-init writes the interfaces it configures to /etc/network/interfaces.d/\nsource /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n',
    '/etc/locale.gen': 'en_US.UTF-8 UTF-8\n',
    '/etc/default/locale': 'LANG=C.UTF-8\n',
  },
};

/** The recipe and the builder's own code: what decides the image's content. */
export function recipeHash(recipe: OsRecipe, sizeBytes: number, builderSources: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify({ recipe, sizeBytes }))
    .update(builderSources.join('\0'))
    .digest('hex');
}

/** GRUB's menu, written as /boot/grub/grub.cfg (update-grub rewrites it on the deployed machine). */
export function grubCfg(o: { rootUuid: string; kernelVersion: string; cmdline: string }): string {
  return `# Written by Ingot's image builder; update-grub on the machine replaces it.
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
set default=0
set timeout=1
insmod part_gpt
insmod ext2
# A video driver under UEFI too (else GRUB complains "no suitable video mode" on the console).
insmod all_video
search --no-floppy --fs-uuid --set=root ${o.rootUuid}
menuentry 'Debian GNU/Linux' {
  insmod gzio
  linux /boot/vmlinuz-${o.kernelVersion} root=UUID=${o.rootUuid} ${o.cmdline}
  initrd /boot/initrd.img-${o.kernelVersion}
}
`;
}

/** Embedded in core.img and BOOTX64.EFI: find the root filesystem, read the menu from it. */
export function grubEarlyCfg(rootUuid: string): string {
  return `search.fs_uuid ${rootUuid} root\nset prefix=($root)/boot/grub\n`;
}
