/**
 * What goes into the boot image: Debian packages, the programs copied from them, kernel modules,
 * the initramfs compression. build.ts assembles it; changing it changes the key (and so rebuilds).
 */
export const BOOT_RECIPE = {
  packages: [
    'busybox-static',
    'ca-certificates',
    // dd: conv=sparse and status=progress for the image write (busybox's dd has neither)
    'coreutils',
    'curl',
    'dmidecode',
    'e2fsprogs',
    'ethtool',
    'fdisk',
    'gdisk',
    'iproute2',
    'kmod',
    // builds only: compresses the initramfs (its program is not copied into the image)
    'lz4',
    'memtester',
    // sha256 of the image stream: OpenSSL's assembly is several times busybox's C under TCG
    'openssl',
    'qemu-utils',
    'smartmontools',
    // the LLDP reader: lldpd drags in net-snmp, perl and ICU (~40 MB); tcpdump decodes LLDP
    'tcpdump',
    'util-linux',
    'zstd',
  ],
  /** Programs copied to /usr/bin (found in the packages' bin and sbin dirs). */
  programs: [
    'blkdiscard',
    'blockdev',
    'curl',
    'dd',
    'dmidecode',
    'ethtool',
    'ip',
    'kmod',
    'lsblk',
    'memtester',
    'openssl',
    'qemu-img',
    'resize2fs',
    'e2fsck',
    'sfdisk',
    'sgdisk',
    'smartctl',
    'tcpdump',
    'wipefs',
    'zstd',
  ],
  /**
   * The initramfs is compressed with lz4 (legacy frames, what the kernel's unpacker reads) at
   * this level. Under QEMU TCG the kernel unpacks it ~0.7 s faster than zstd's (docs/agent.md,
   * "Numbers") for a third more bytes to fetch: the unpack is on the boot's critical path.
   */
  lz4Level: 12,
  links: { modprobe: 'kmod', insmod: 'kmod', lsmod: 'kmod', modinfo: 'kmod', depmod: 'kmod' } as Record<
    string,
    string
  >,
  modules: [
    // virtio (QEMU, most clouds' bare-metal-like VMs)
    'virtio_pci',
    'virtio_net',
    'virtio_blk',
    'virtio_scsi',
    // NICs common in servers
    'e1000',
    'e1000e',
    'igb',
    'igc',
    'ixgbe',
    'ixgbevf',
    'i40e',
    'ice',
    'bnxt_en',
    'bnx2',
    'bnx2x',
    'tg3',
    'mlx4_en',
    'mlx5_core',
    'r8169',
    'qede',
    'sfc',
    'be2net',
    'vmxnet3',
    'enic',
    'atlantic',
    // storage controllers and disks
    'ahci',
    'ata_piix',
    'nvme',
    'sd_mod',
    'megaraid_sas',
    'mpt3sas',
    'hpsa',
    'smartpqi',
    'aacraid',
    'isci',
    'vmw_pvscsi',
    // what the agent mounts or needs
    'ext4',
    'xfs',
    'vfat',
    'nls_cp437',
    'nls_ascii',
    'crc32c_generic',
    'crc32c_intel',
    'af_packet',
  ],
} as const;
