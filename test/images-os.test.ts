/**
 * The Debian 12 OS image, as root: built with debootstrap from this machine's apt mirror
 * (cached by recipe: CI's second run reuses it), then booted in QEMU (TCG) under BIOS and UEFI.
 * One build serves every check: the kubernetes-node profile is the standard image plus the
 * container runtime and the Kubernetes kernel settings (src/images/os/
 * kubernetes-node.ts; test/node-os-recipe.test.ts checks both recipes without building), and
 * test/deploy-e2e.test.ts deploys this same build.
 *  - BIOS: the NoCloud volume holds only `seedfrom: http://10.0.2.2:PORT/seed/`, so cloud-init
 *    fetches meta-data and user-data from a loopback metadata server (NoCloud-net, as from the
 *    rack's /metadata/<token>/), phones home there, grows the root partition to the disk, and
 *    the SSH key from the user-data logs in as `debian`; there containerd answers `ctr version`,
 *    the cgroup hierarchy is v1 (kubelet 1.20) and bridged traffic goes through iptables (the
 *    node agent is not in the image: the deploy installs it, test/agent-write.test.ts).
 *  - UEFI (OVMF, no NVRAM entries): boots from EFI/BOOT/BOOTX64.EFI; user-data on the volume.
 * Cold build ≈ 3.5 min on 2 cores (197 s measured 2026-12-02, packages downloaded); each boot
 * ≈ 1.5 min under TCG; both boots run at once.
 */
import assert from 'node:assert/strict';
import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { bootCheck } from '../src/images/boot-check.ts';
import { sha256File } from '../src/images/hash.ts';
import { type BuiltOsImage, buildOsImage } from '../src/images/os/build.ts';
import { GPT_TYPE } from '../src/images/os/disk.ts';
import { recipeFor } from '../src/images/os/profiles.ts';
import { writeSeedImage } from '../src/images/seed.ts';
import { holdQemuTests } from './support/qemu-tests.ts';
import { skipUnless } from './support/needs.ts';

const execFile = promisify(execFileCb);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('Debian 12 OS image (kubernetes-node profile)', {
  skip: skipUnless({
    root: true,
    files: {
      debootstrap: '/usr/sbin/debootstrap',
      'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
      ovmf: '/usr/share/OVMF/OVMF_CODE_4M.fd',
      mtools: '/usr/bin/mcopy',
      'openssh-client': '/usr/bin/ssh',
    },
  }),
}, () => {
  let built: BuiltOsImage;
  let dir: string;

  let releaseQemu: () => void = () => undefined;
  before(async () => {
    releaseQemu = await holdQemuTests('images-os');
    dir = mkdtempSync(join(tmpdir(), 'ingot-os-image-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ingot-test', '-f', join(dir, 'key')]);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    releaseQemu();
  });

  it('builds the image once; a second build of the same recipe comes from the cache', async () => {
    const t0 = Date.now();
    // `recipe`: reuse any build of this recipe, whatever the archive's date (CI's second run).
    built = await buildOsImage({
      distro: 'debian-12',
      profile: 'kubernetes-node',
      cache: 'recipe',
      log: (m) => process.stderr.write(`# ${m}\n`),
    });
    process.stderr.write(
      `# image ${built.cached ? 'from the cache' : 'built'} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    const again = await buildOsImage({ distro: 'debian-12', profile: 'kubernetes-node', cache: 'recipe' });
    assert.equal(again.cached, true);
    assert.equal(again.sha256, built.sha256);

    const m = built.manifest;
    assert.equal(await sha256File(built.image), m.sha256, 'the manifest’s checksum is the file’s');
    assert.equal(readFileSync(`${built.image}.sha256`, 'utf8').split(' ')[0], m.sha256);
    assert.match(m.kernel, /^6\.1\.\d+-\d+-amd64$/);
    for (const p of [
      'linux-image-amd64',
      'cloud-init',
      'openssh-server',
      'grub-pc-bin',
      'grub-efi-amd64-bin',
      'cloud-guest-utils',
      'containerd',
      'runc',
      'containernetworking-plugins',
      'conntrack',
      'socat',
      'ebtables',
      'ipset',
      'chrony',
    ])
      assert.ok(m.packages[p], `${p} is installed`);
    assert.equal(m.profile, 'kubernetes-node');
    assert.match(m.cmdline, /systemd\.unified_cgroup_hierarchy=0/);
    assert.ok(m.inputs.mirror.startsWith('http'), 'built from the apt mirror');
    const st = statSync(built.image);
    assert.equal(st.size, m.sizeBytes);
    assert.ok(st.blocks * 512 < st.size, 'the raw image is sparse');
    const table = JSON.parse(execFileSync('sfdisk', ['--json', built.image], { encoding: 'utf8' })) as {
      partitiontable: { label: string; partitions: { type: string }[] };
    };
    assert.equal(table.partitiontable.label, 'gpt');
    assert.deepEqual(
      table.partitiontable.partitions.map((p) => p.type.toUpperCase()),
      [GPT_TYPE.biosBoot, GPT_TYPE.esp, GPT_TYPE.rootX64],
    );
    // systemd of the image itself checks containerd's unit in its root.
    const root = (
      JSON.parse(execFileSync('sfdisk', ['--json', built.image], { encoding: 'utf8' })) as {
        partitiontable: { partitions: { start: number; size: number }[] };
      }
    ).partitiontable.partitions[2];
    const mnt = join(dir, 'root');
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', [
      '-o',
      `ro,loop,offset=${root.start * 512},sizelimit=${root.size * 512}`,
      built.image,
      mnt,
    ]);
    try {
      execFileSync('systemd-analyze', ['verify', `--root=${mnt}`, 'containerd.service']);
      assert.equal(
        readFileSync(join(mnt, 'etc/containerd/config.toml'), 'utf8'),
        recipeFor('debian-12', 'kubernetes-node').files['/etc/containerd/config.toml'],
        'dpkg kept the profile’s containerd config',
      );
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  describe('boots in QEMU', { concurrency: 2 }, () => {
    it('under BIOS: user-data from the metadata URL, phone-home, root grown, SSH key logs in', async () => {
      assert.ok(built, 'the build test ran first');
      const pub = readFileSync(join(dir, 'key.pub'), 'utf8').trim();
      const phoned: Record<string, string>[] = [];
      const fetched: string[] = [];
      const meta: Server = createServer((req, res) => {
        fetched.push(req.url ?? '');
        if (req.method === 'POST' && req.url === '/phone-home') {
          let body = '';
          req.on('data', (c) => {
            body += c;
          });
          req.on('end', () => {
            phoned.push(Object.fromEntries(new URLSearchParams(body)));
            res.end('ok');
          });
          return;
        }
        const docs: Record<string, string> = {
          '/seed/meta-data': 'instance-id: "m-bios-1"\nlocal-hostname: "node-bios"\n',
          '/seed/user-data': [
            '#cloud-config',
            'ssh_authorized_keys:',
            `  - ${JSON.stringify(pub)}`,
            'phone_home:',
            `  url: "http://10.0.2.2:${(meta.address() as { port: number }).port}/phone-home"`,
            '  post: [instance_id, hostname]',
            '  tries: 3',
            'runcmd:',
            '  - [ sh, -c, "echo INGOT-MARKER-BIOS > /dev/ttyS0" ]',
            '',
          ].join('\n'),
          '/seed/vendor-data': '',
        };
        const body = docs[req.url ?? ''];
        if (body === undefined) res.writeHead(404).end();
        else res.end(body);
      });
      await new Promise<void>((r) => meta.listen(0, '127.0.0.1', r));
      const port = (meta.address() as { port: number }).port;
      const seed = join(dir, 'seed-bios.img');
      await writeSeedImage(seed, {
        metaData: `instance-id: "m-bios-1"\nseedfrom: "http://10.0.2.2:${port}/seed/"\n`,
        userData: '',
      });
      const sshPort = await freePort();
      const ssh = (cmd: string) =>
        execFile('ssh', [
          '-i',
          join(dir, 'key'),
          '-p',
          String(sshPort),
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'ConnectTimeout=20',
          '-o',
          'BatchMode=yes',
          'debian@127.0.0.1',
          cmd,
        ]);
      let facts = '';
      try {
        const r = await bootCheck({
          image: built.image,
          format: 'raw',
          firmware: 'bios',
          seed,
          marker: 'INGOT-MARKER-BIOS',
          consoleLog: join(dir, 'console-bios.log'),
          diskBytes: 4 * 2 ** 30,
          sshPort,
          timeoutMs: 480_000,
          whileRunning: async () => {
            const { stdout } = await ssh(
              'cloud-init status --wait >/dev/null; cloud-init status; hostname; findmnt -bno SIZE /; sudo -n true && echo sudo-ok; ' +
                'sudo -n ctr version | grep -c "^Server:"; systemctl is-active containerd; stat -fc %T /sys/fs/cgroup; ' +
                'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables; ' +
                'ls /opt/cni/bin/bridge',
            );
            facts = stdout;
          },
        });
        process.stderr.write(`# BIOS marker after ${r.seconds.toFixed(1)} s\n`);
      } finally {
        await new Promise((r) => meta.close(r));
      }
      assert.ok(
        fetched.includes('/seed/user-data'),
        `user-data came from the metadata URL (${fetched.join(' ')})`,
      );
      assert.equal(phoned.length >= 1, true, 'the machine phoned home');
      assert.equal(phoned[0].instance_id, 'm-bios-1');
      const [status, hostname, rootBytes, sudo, ctr, containerd, cgroupFs, forward, bridged, cni] = facts
        .trim()
        .split('\n');
      assert.equal(status, 'status: done');
      assert.equal(hostname, 'node-bios');
      assert.ok(Number(rootBytes) > 3.5 * 2 ** 30, `root grew to the 4 GiB disk (${rootBytes} bytes)`);
      assert.equal(sudo, 'sudo-ok');
      assert.equal(ctr, '1', `containerd answers ctr version (${facts})`);
      assert.equal(containerd, 'active');
      assert.equal(cgroupFs, 'tmpfs', 'the legacy (v1) cgroup hierarchy kubelet 1.20 needs, not cgroup2fs');
      assert.deepEqual([forward, bridged], ['1', '1'], 'forwarding on, bridged traffic through iptables');
      assert.equal(cni, '/opt/cni/bin/bridge');
    });

    it('under UEFI (OVMF, no boot entries): boots from the removable path with a cidata seed', async () => {
      assert.ok(built, 'the build test ran first');
      const seed = join(dir, 'seed-uefi.img');
      await writeSeedImage(seed, {
        metaData: 'instance-id: "m-uefi-1"\nlocal-hostname: "node-uefi"\n',
        userData:
          '#cloud-config\nruncmd:\n  - [ sh, -c, "echo INGOT-MARKER-UEFI $(hostname) > /dev/ttyS0" ]\n',
      });
      const r = await bootCheck({
        image: built.image,
        format: 'raw',
        firmware: 'uefi',
        seed,
        marker: 'INGOT-MARKER-UEFI node-uefi',
        consoleLog: join(dir, 'console-uefi.log'),
        timeoutMs: 480_000,
      });
      process.stderr.write(`# UEFI marker after ${r.seconds.toFixed(1)} s\n`);
      assert.match(r.console, /BdsDxe: starting Boot\d+/);
      assert.doesNotMatch(r.console, /no suitable video mode/);
    });
  });
});
