import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseFirmware } from '../src/cli/commands/lab.ts';
import { cpioNewc } from '../src/agent/image/cpio.ts';
import { skipUnless } from './support/needs.ts';

describe('lab initramfs writer', () => {
  const archive = cpioNewc([
    { kind: 'dir', path: 'bin' },
    { kind: 'dir', path: 'dev' },
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'init', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
  ]);

  it('writes an archive GNU cpio lists with types, modes and devices', {
    skip: skipUnless({ files: { cpio: '/usr/bin/cpio' } }),
  }, () => {
    const list = execFileSync('cpio', ['-itv', '--quiet'], { input: archive }).toString();
    assert.match(list, /^drwxr-xr-x .* bin$/m);
    assert.match(list, /^crw------- .* 5, +1 .* dev\/console$/m);
    assert.match(list, /^-rwxr-xr-x .* 18 .* init$/m);
    assert.match(list, /^lrwxrwxrwx .* bin\/sh -> busybox$/m);
  });

  it('gives the same bytes for the same inputs (the image cache is keyed by inputs)', () => {
    const again = cpioNewc([
      { kind: 'dir', path: 'bin' },
      { kind: 'dir', path: 'dev' },
      { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
      { kind: 'file', path: 'init', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    ]);
    assert.ok(again.equals(archive));
    assert.equal(archive.length % 4, 0);
  });
});

describe('lab up --firmware', () => {
  it('takes one firmware for all machines or one per machine', () => {
    assert.deepEqual(parseFirmware('uefi', 2), ['uefi', 'uefi']);
    assert.deepEqual(parseFirmware('bios,uefi', 2), ['bios', 'uefi']);
  });

  it('refuses an unknown firmware and a list of the wrong length, naming the flag', () => {
    assert.throws(() => parseFirmware('coreboot', 1), /--firmware: "coreboot" must be bios or uefi/);
    assert.throws(() => parseFirmware('bios,uefi', 1), /--firmware: give one firmware for all machines/);
  });
});
