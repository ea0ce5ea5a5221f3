import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseActionParams } from './action-params.ts';
import { ErrorCode, IngotError } from './errors.ts';
import { checkImageName } from './image.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx1y2z3 me@laptop';

function rejects(fn: () => unknown, field: string, message: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IngotError);
    assert.equal(e.code, ErrorCode.Validation);
    assert.equal(e.details.field, field);
    assert.match(e.message, message);
    return true;
  });
}

describe('action parameters', () => {
  it('normalises the CLI’s strings: numbers, comma lists, newline-separated keys', () => {
    assert.deepEqual(normaliseActionParams('commission', { tests: 'cpu, memory,cpu', cpuSeconds: '5' }), {
      tests: ['cpu', 'memory'],
      cpuSeconds: 5,
    });
    assert.deepEqual(
      normaliseActionParams('deploy', { image: 'debian-12', sshKeys: `${KEY}\n\n${KEY} \n` }),
      {
        image: 'debian-12',
        sshKeys: [KEY, KEY],
      },
    );
    assert.deepEqual(normaliseActionParams('release', { wipe: 'secure' }), { wipe: 'secure' });
    assert.deepEqual(normaliseActionParams('abort', undefined), {});
  });

  it('takes exactly the image names the registry takes', () => {
    for (const name of ['Debian-12', 'a..b', '-x', 'x'.repeat(64)]) {
      assert.throws(() => checkImageName(name));
      rejects(() => normaliseActionParams('deploy', { image: name }), 'params.image', /not an image name/);
    }
    for (const name of ['debian-12', 'ubuntu-24.04', 'img-01jd0000000000000000000000'])
      assert.equal(normaliseActionParams('deploy', { image: checkImageName(name) }).image, name);
  });

  it('names the field and what to do for every kind of bad value', () => {
    rejects(
      () => normaliseActionParams('deploy', { imag: 'x' }),
      'params.imag',
      /not a parameter of deploy; it takes image, userData, sshKeys, disk, networkConfig/,
    );
    rejects(() => normaliseActionParams('rescue', { x: 1 }), 'params.x', /rescue takes no parameters/);
    rejects(
      () => normaliseActionParams('commission', { tests: ['cpu', 'gpu'] }),
      'params.tests[1]',
      /unknown test "gpu"; the tests are smart, disk-read, memory, cpu/,
    );
    rejects(
      () => normaliseActionParams('commission', { cpuSeconds: -1 }),
      'params.cpuSeconds',
      /whole number from 0 to 86400/,
    );
    rejects(
      () => normaliseActionParams('commission', { memoryMiB: '12x' }),
      'params.memoryMiB',
      /whole number/,
    );
    rejects(() => normaliseActionParams('release', { wipe: 'shred' }), 'params.wipe', /one of quick, secure/);
    rejects(
      () => normaliseActionParams('deploy', { sshKeys: ['ssh-ed25519 AAAA', 'not a key'] }),
      'params.sshKeys[1]',
      /OpenSSH public key/,
    );
    rejects(
      () => normaliseActionParams('deploy', { userData: 'x'.repeat(256 * 1024 + 1) }),
      'params.userData',
      /at most 262144/,
    );
    rejects(
      () =>
        normaliseActionParams('deploy', {
          networkConfig: `network:\n  version: 2\n#${'x'.repeat(64 * 1024)}`,
        }),
      'params.networkConfig',
      /at most 65536/,
    );
    rejects(
      () => normaliseActionParams('deploy', { networkConfig: 'network:\n  version: 2\nruncmd: [reboot]\n' }),
      'params.networkConfig',
      /only top-level key is network: .*found network, runcmd/,
    );
    rejects(
      () => normaliseActionParams('deploy', { networkConfig: 'network:\n  version: 1\n  config: []\n' }),
      'params.networkConfig',
      /network.version must be 2/,
    );
    rejects(
      () => normaliseActionParams('deploy', { image: '../etc' }),
      'params.image',
      /not an image name; list images with `ingot image ls`/,
    );
    rejects(
      () => normaliseActionParams('deploy', { image: { url: 'http://x/y', format: 'raw' } }),
      'params.image.sha256',
      /64 lowercase hex/,
    );
    rejects(
      () =>
        normaliseActionParams('deploy', { image: { url: 'ftp://x', sha256: 'a'.repeat(64), format: 'raw' } }),
      'params.image.url',
      /http/,
    );
    rejects(
      () =>
        normaliseActionParams('deploy', {
          image: { url: 'http://x/y', sha256: 'a'.repeat(64), format: 'vmdk' },
        }),
      'params.image.format',
      /raw, qcow2/,
    );
    rejects(() => normaliseActionParams('deploy', { disk: 'sda; rm -rf /' }), 'params.disk', /disk name/);
  });

  it('keeps only the known fields of an image spec and refuses artifact paths that leave the artifacts dir', () => {
    const sha256 = 'a'.repeat(64);
    assert.deepEqual(
      normaliseActionParams('deploy', { image: { artifact: 'images/debian-12.raw', sha256, format: 'raw' } }),
      { image: { artifact: 'images/debian-12.raw', sha256, format: 'raw' } },
    );
    rejects(
      () =>
        normaliseActionParams('deploy', { image: { artifact: 'x', sha256, format: 'raw', junk: { a: 1 } } }),
      'params.image.junk',
      /not a field of an image spec/,
    );
    for (const artifact of [
      '../../../../etc/shadow',
      'images/../../secret.key',
      '/etc/shadow',
      'images/.incoming/m-1',
      'images/%2e%2e/x',
      'images\\..\\x',
      'images//x',
      `images/${'a'.repeat(2000)}`,
    ])
      rejects(
        () => normaliseActionParams('deploy', { image: { artifact, sha256, format: 'raw' } }),
        'params.image.artifact',
        /relative path under the rack’s artifacts/,
      );
    rejects(
      () =>
        normaliseActionParams('deploy', {
          image: { artifact: 'a.raw', url: 'http://x/a.raw', sha256, format: 'raw' },
        }),
      'params.image.url',
      /either url or artifact/,
    );
  });

  it('keeps a netplan v2 network-config as written, comments and document markers included', () => {
    const nc = '# bond\n---\nnetwork:\n  version: 2\n  ethernets:\n    eth0: {dhcp4: true}\n';
    assert.equal(normaliseActionParams('deploy', { networkConfig: nc }).networkConfig, nc);
  });

  it('cuts a huge bad value short in its message', () => {
    assert.throws(
      () => normaliseActionParams('deploy', { disk: 'x'.repeat(100_000) }),
      (e: unknown) => e instanceof IngotError && e.message.length < 300,
    );
  });
});
