/**
 * Boot storm (root): N simulated iPXE clients at once (default 500) against Ingot's rack
 * services — DHCP DORA through a relay address, the per-machine iPXE script, then the real
 * ephemeral kernel (8 MB) and initrd (2.4 MB). Server and clients run in two namespaces of
 * their own joined by a veth; every client is an enrolled machine in `commissioning`, so each
 * script mints and stores a boot token and every step is written to the timeline, as in a
 * real storm. Reports how many were served and the time to the last byte.
 *
 *   node bench/boot-storm.ts [--clients 500]
 */
import { execFile as execFileCb } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { buildEphemeralImage } from '../src/lab/ephemeral-image.ts';
import { run } from '../src/host/process.ts';
import { removeNetwork } from '../src/lab/netns.ts';
import { startRackChild } from '../src/lab/rack-child.ts';
import { openStore } from '../src/store/open.ts';

const execFile = promisify(execFileCb);
const { values } = parseArgs({ options: { clients: { type: 'string', default: '500' } } });
const clients = Number(values.clients);
const ns = { provNs: `ingot-st${process.pid % 100000}-srv`, rackNs: `ingot-st${process.pid % 100000}-cli` };
const dir = mkdtempSync(join(tmpdir(), 'ingot-storm-'));
const SERVER = '10.78.0.1';
const RELAY = '10.78.0.2';
const macPrefix = '52:54:77:00';

const store = await openStore({ dataDir: join(dir, 'data') });
let rackPid: number | undefined;
try {
  await run('ip', ['netns', 'add', ns.provNs]);
  await run('ip', ['netns', 'add', ns.rackNs]);
  await run('ip', ['-n', ns.provNs, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', ns.rackNs, 'link', 'set', 'lo', 'up']);
  await run('ip', [
    '-n',
    ns.provNs,
    'link',
    'add',
    'srv0',
    'type',
    'veth',
    'peer',
    'name',
    'cli0',
    'netns',
    ns.rackNs,
  ]);
  await run('ip', ['-n', ns.provNs, 'addr', 'add', `${SERVER}/16`, 'dev', 'srv0']);
  await run('ip', ['-n', ns.rackNs, 'addr', 'add', `${RELAY}/16`, 'dev', 'cli0']);
  await run('ip', ['-n', ns.provNs, 'link', 'set', 'srv0', 'up']);
  await run('ip', ['-n', ns.rackNs, 'link', 'set', 'cli0', 'up']);

  await store.createSubnet(
    {
      name: 'storm',
      cidr: '10.78.0.0/16',
      gateway: null,
      dns: [],
      vlan: null,
      dhcpMode: 'full',
      autoEnlist: false,
      ranges: [{ kind: 'dynamic', start: '10.78.1.0', end: '10.78.7.255' }],
    },
    'bench',
  );
  const t = Date.now();
  for (let i = 1; i <= clients; i++) {
    const mac = `${macPrefix}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const m = await store.createMachine(
      {
        hostname: `storm-${i}`,
        arch: 'amd64',
        bmc: null,
        nics: [{ mac, boot: true }],
        tags: [],
        zone: 'z',
        rack: 'r',
        pool: 'p',
      },
      'bench',
    );
    await store.transition({
      machineId: m.id,
      from: 'new',
      to: 'commissioning',
      reason: 'storm',
      actor: 'bench',
    });
  }
  console.error(`enrolled ${clients} machines in ${Date.now() - t} ms`);
  const image = await buildEphemeralImage();
  const artifacts = join(dir, 'artifacts');
  mkdirSync(artifacts);
  symlinkSync(image.dir, join(artifacts, 'ephemeral'));
  const rack = await startRackChild(dir, ns.provNs, {
    dataDir: join(dir, 'data'),
    provisioningIp: SERVER,
    httpPort: 8081,
    artifactsDir: artifacts,
    logLevel: 'warn',
  });
  rackPid = rack.child.pid;
  const { stdout } = await execFile(
    'ip',
    [
      'netns',
      'exec',
      ns.rackNs,
      process.execPath,
      new URL('./boot-storm-client.ts', import.meta.url).pathname,
      RELAY,
      SERVER,
      String(clients),
      macPrefix,
    ],
    { maxBuffer: 16 * 2 ** 20 },
  );
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
  await new Promise((r) => setTimeout(r, 500)); // the rack batches timeline writes (≤ 50 ms)
  const events = await store.listEvents({ limit: 100_000 });
  const count = (t: string) => events.filter((e) => e.type === t).length;
  console.log(
    `host: ${cpus().length} CPUs, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `| ${r.clients} | ${r.served} | ${(r.lastByteMs / 1000).toFixed(2)} s | ${r.dhcpP50} / ${r.dhcpMax} ms | ${(r.doneP50 / 1000).toFixed(2)} / ${(r.doneP95 / 1000).toFixed(2)} s | ${r.gib.toFixed(2)} GiB | ${count('dhcp.ack')} / ${count('http.script')} / ${count('http.artifact')} | ${r.retransmits} |`,
  );
  if (r.errors.length) console.log(`errors: ${r.errors.join('; ')}`);
} finally {
  if (rackPid) process.kill(rackPid, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await removeNetwork(ns).catch(() => undefined);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
