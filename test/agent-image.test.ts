/**
 * The boot image is reproducible: a rebuild from the same inputs (recipe, package files, agent
 * files) in another cache gives byte-identical kernel and initramfs, within the size budget, with
 * every tool the agent runs, in an lz4 archive another archive can be appended to. Needs apt lists and Debian's registry (or a warm .deb cache).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildBootImage, defaultCacheDir } from '../src/agent/image/build.ts';
import { elfDeps } from '../src/agent/image/elf.ts';
import { skipUnless } from './support/needs.ts';

describe('boot image', {
  skip: skipUnless({ files: { apt: '/usr/bin/apt-get', lz4: '/usr/bin/lz4' } }),
}, () => {
  it('rebuilds byte for byte from the same inputs, under 150 MB, with the agent’s tools and libraries', {
    timeout: 300_000,
  }, async () => {
    const cache = defaultCacheDir();
    const first = await buildBootImage({ cacheDir: cache });
    const other = mkdtempSync(join(tmpdir(), 'ingot-bootimg-'));
    try {
      const again = await buildBootImage({ cacheDir: other, debsDir: join(cache, 'debs'), force: true });
      assert.equal(again.key, first.key);
      assert.deepEqual(again.sha256, first.sha256);
      assert.ok(first.sizeBytes < 150e6, `${first.sizeBytes} bytes`);
      // A site overlay archive appended to the initramfs must be read too: the kernel's lz4
      // reader stops only at a zero chunk size, then skips zeros to the next archive.
      const rd = readFileSync(first.initrd);
      assert.equal(rd.length % 4, 0, 'the initramfs ends on a 4-byte boundary');
      assert.equal(rd.readUInt32LE(rd.length - 4), 0, 'the initramfs ends with a zero lz4 chunk size');
      assert.equal(rd.readUInt32LE(0), 0x184c2102, 'lz4 legacy frame magic');
      // lz4's CLI reports the zero padding as a broken next frame (the kernel stops there);
      // cpio checks the archive itself is whole.
      const list = execFileSync('sh', ['-c', `lz4 -dcq < '${again.initrd}' 2>/dev/null | cpio -it --quiet`], {
        maxBuffer: 64 * 2 ** 20,
      })
        .toString()
        .split('\n');
      for (const p of [
        'init',
        'usr/bin/ingot-agent',
        // the agent's helpers and tasks, sourced by ingot-agent
        'usr/share/ingot/agent/lib/rack.sh',
        'usr/share/ingot/agent/tasks/inventory.sh',
        'usr/share/ingot/agent/tasks/write-image.sh',
        'usr/bin/curl',
        'usr/bin/qemu-img',
        'usr/bin/sgdisk',
        'usr/bin/smartctl',
        'usr/bin/lsblk',
        'usr/bin/wipefs',
        'usr/bin/blkdiscard',
        'usr/bin/dmidecode',
        'usr/bin/ethtool',
        'usr/bin/tcpdump',
        'usr/bin/memtester',
        'usr/bin/ip',
        'bin/busybox',
        'etc/ssl/certs/ca-certificates.crt',
        'lib64/ld-linux-x86-64.so.2',
      ])
        assert.ok(list.includes(p), `${p} missing from the initramfs`);
      assert.ok(
        list.some((p) => /lib\/modules\/[^/]+\/modules\.alias$/.test(p)),
        'modules.alias (depmod)',
      );
      assert.ok(
        list.some((p) => p.endsWith('/virtio_net.ko')),
        'virtio_net',
      );
      assert.ok(
        list.some((p) => p.endsWith('/ixgbe.ko')),
        'a server NIC driver',
      );
      assert.ok(
        list.some((p) => p.endsWith('/megaraid_sas.ko')),
        'a RAID controller driver',
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('reads the interpreter and needed libraries of an ELF program', () => {
    const d = elfDeps(readFileSync(process.execPath));
    assert.ok(d);
    assert.equal(d.interp, '/lib64/ld-linux-x86-64.so.2');
    assert.ok(d.needed.includes('libc.so.6'));
    assert.equal(elfDeps(Buffer.from('#!/bin/sh\n'.padEnd(100))), null);
  });
});
