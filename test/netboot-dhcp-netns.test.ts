/**
 * The DHCP server against real clients, in two network namespaces this test creates (veth,
 * 10.241.0.0/16; nothing in the root namespace): busybox udhcpc as PXE firmware and as iPXE,
 * ISC dhclient, perfdhcp in relay mode, radvd's router advertisements, and a storm of
 * relayed clients during which the server is killed with SIGKILL and restarted.
 * Needs root and Debian's busybox-static, isc-dhcp-client, kea-admin (perfdhcp) and radvd.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../src/store/open.ts';
import { ipxeScriptUrl } from '../src/netboot/urls.ts';

const NODE = process.execPath;
const ROOT = new URL('..', import.meta.url).pathname;
const S = `ndhs${process.pid}`;
const C = `ndhc${process.pid}`;
const SRV = '10.241.0.1';
const CLI = '10.241.0.2';
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' }).toString();
const inC = (cmd: string, args: string[], timeout = 20_000) =>
  execFileSync('ip', ['netns', 'exec', C, cmd, ...args], { timeout, stdio: 'pipe' }).toString();

let work: string;
let server: ChildProcess | null = null;

function startServer(extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', S, NODE, join(ROOT, 'bench/dhcp-server.ts')], {
    env: {
      ...process.env,
      SRV_ADDR: SRV,
      SUBNET: '10.241.0.0/16',
      POOL_START: '10.241.1.0',
      POOL_END: '10.241.255.254',
      VALID_LIFETIME: '3600',
      WORKDIR: join(work, 'store'),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(t);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess | null, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'ingot-dhcp-netns-'));
  ip('netns', 'add', S);
  ip('netns', 'add', C);
  ip('-n', S, 'link', 'add', 'srv0', 'type', 'veth', 'peer', 'name', 'cli0', 'netns', C);
  ip('-n', S, 'addr', 'add', `${SRV}/16`, 'dev', 'srv0');
  ip('-n', C, 'addr', 'add', `${CLI}/16`, 'dev', 'cli0');
  for (const ns of [S, C]) ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', S, 'link', 'set', 'srv0', 'up');
  ip('-n', C, 'link', 'set', 'cli0', 'up');
  const script = join(work, 'udhcpc.sh');
  writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && env > "${work}/udhcpc.env"\nexit 0\n`);
  chmodSync(script, 0o755);
});

after(async () => {
  await stop(server, 'SIGKILL');
  for (const ns of [C, S]) {
    for (const pid of ip('netns', 'pids', ns).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    try {
      ip('netns', 'del', ns);
    } catch {}
  }
  rmSync(work, { recursive: true, force: true });
});

function udhcpc(mac: string, args: string[]): Record<string, string> {
  ip('-n', C, 'link', 'set', 'cli0', 'address', mac);
  rmSync(join(work, 'udhcpc.env'), { force: true });
  inC('busybox', [
    'udhcpc',
    '-i',
    'cli0',
    '-n',
    '-q',
    '-f',
    '-t',
    '4',
    '-T',
    '1',
    '-s',
    join(work, 'udhcpc.sh'),
    ...args,
  ]);
  const env = readFileSync(join(work, 'udhcpc.env'), 'utf8');
  return Object.fromEntries(
    env.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('DHCP server with real clients', { timeout: 120_000 }, () => {
  it('answers busybox udhcpc as BIOS PXE firmware with undionly.kpxe from our TFTP', async () => {
    server = await startServer({ RA_IF: 'srv0' });
    const env = udhcpc('52:54:00:0d:00:01', ['-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '93:0000']);
    assert.match(env.ip, /^10\.241\.\d+\.\d+$/);
    assert.equal(env.boot_file, 'undionly.kpxe');
    assert.equal(env.siaddr, SRV);
    assert.equal(env.serverid, SRV);
  });

  it('answers busybox udhcpc as iPXE (option 175) with its script URL and 175.176 = 1', () => {
    const mac = '52:54:00:0d:00:02';
    const env = udhcpc(mac, ['-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '175:130101', '-O', '175']);
    assert.equal(env.boot_file, ipxeScriptUrl(`http://${SRV}:8081`, mac));
    assert.match(env.opt175 ?? '', /b00101/);
  });

  it('leases an address to ISC dhclient', async () => {
    ip('-n', C, 'link', 'set', 'cli0', 'address', '52:54:00:0d:00:03');
    const lf = join(work, 'dhclient.leases');
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        C,
        'dhclient',
        '-4',
        '-d',
        '-1',
        '-sf',
        '/bin/true',
        '-lf',
        lf,
        '-pf',
        join(work, 'dhclient.pid'),
        'cli0',
      ],
      { stdio: 'ignore' },
    );
    try {
      let lease = '';
      for (let i = 0; i < 100 && !lease.includes('fixed-address'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        try {
          lease = readFileSync(lf, 'utf8');
        } catch {}
      }
      assert.match(lease, /fixed-address 10\.241\.\d+\.\d+;/);
      assert.match(lease, /option dhcp-server-identifier 10\.241\.0\.1;/);
    } finally {
      await stop(child, 'SIGKILL');
    }
  });

  it('sends IPv6 router advertisements on the segment (radvd) so iPXE does not wait for IPv6', async () => {
    let ras = 0;
    for (let i = 0; i < 100 && ras === 0; i++) {
      ras = Number(/Icmp6InRouterAdvertisements\s+(\d+)/.exec(inC('cat', ['/proc/net/snmp6']))?.[1]);
      if (ras === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ras > 0, 'the client namespace received router advertisements');
    // Its config's temporary directory is gone once radvd runs: a kill -9 leaves nothing behind.
    const pids = ip('netns', 'pids', S).split(/\s+/).filter(Boolean);
    const args = pids
      .map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'))
      .find((a) => a[0].endsWith('radvd'));
    assert.ok(args, 'radvd runs in the server namespace');
    const conf = args[args.indexOf('-C') + 1];
    assert.match(conf, /ingot-radvd-/);
    assert.equal(existsSync(dirname(conf)), false, `${dirname(conf)} is left in the temporary directory`);
  });

  it('serves a perfdhcp burst in relay mode with almost no drops', () => {
    let out = '';
    try {
      out = inC('perfdhcp', ['-4', '-l', CLI, '-r', '300', '-R', '200', '-p', '3', '-g', 'single', SRV]);
    } catch (e) {
      out = String((e as { stdout?: Buffer }).stdout ?? ''); // exit 3: some exchanges incomplete
    }
    const drops = [...out.matchAll(/drops ratio: ([\d.]+)/g)].map((m) => Number(m[1]));
    assert.equal(drops.length, 2, out);
    assert.ok(
      drops.every((d) => d < 5),
      `drops ${drops} %`,
    );
  });

  it('never hands one address to two MACs, and keeps every ACKed lease, across a kill -9 mid-storm', async () => {
    const storm = spawn(
      'ip',
      [
        'netns',
        'exec',
        C,
        NODE,
        join(ROOT, 'bench/dhcp-storm.ts'),
        '--server',
        SRV,
        '--giaddr',
        CLI,
        '--clients',
        '1500',
        '--rate',
        '1000',
        '--deadline-s',
        '50',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    let killed = false;
    let ackedAtKill = 0;
    const finished = new Promise<void>((resolve) => storm.once('exit', () => resolve()));
    storm.stdout?.on('data', (d) => {
      out += d;
      if (!killed && out.split('\n').length > 300) {
        killed = true;
        ackedAtKill = out.split('\n').length;
        void (async () => {
          await stop(server, 'SIGKILL');
          server = await startServer();
        })();
      }
    });
    await finished;
    assert.ok(killed && ackedAtKill < 1000, `the server was killed mid-storm (after ${ackedAtKill} ACKs)`);
    assert.match(out, /done 1500\/1500/);
    const acks = [...out.matchAll(/^ack (\S+) (\S+)$/gm)].map((m) => ({ mac: m[1], ip: m[2] }));
    const owner = new Map<string, string>();
    for (const a of acks) {
      assert.ok(
        !owner.has(a.ip) || owner.get(a.ip) === a.mac,
        `${a.ip} went to ${owner.get(a.ip)} and ${a.mac}`,
      );
      owner.set(a.ip, a.mac);
    }
    await stop(server);
    server = null;
    const store = await openStore({ dataDir: join(work, 'store') });
    try {
      const rows = await store.listIps('bench');
      const inStore = new Set(rows.map((r) => `${r.mac} ${r.ip}`));
      const lost = acks.filter((a) => !inStore.has(`${a.mac} ${a.ip}`));
      assert.deepEqual(lost, [], 'every ACKed lease is in the store');
    } finally {
      await store.close();
    }
  });
});
