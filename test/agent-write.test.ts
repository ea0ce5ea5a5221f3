/**
 * The real agent in the real boot image (QEMU, booted straight from kernel + initrd), driven by
 * the real rack endpoints and the engine's AgentTasksPort: the write-image paths the lab deploy
 * does not take. A zstd-compressed qcow2 is fetched, verified, converted to the disk, its GPT root
 * partition grown to the end of the disk and the cloud-init seed written with the OS's own token
 * (read back from the disk here); a secure wipe zero-fills the whole disk; a qcow2 larger than
 * the disk fails with that reason. The initramfs carries an appended site overlay archive.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildBootImage } from '../src/agent/image/build.ts';
import { cpioNewc } from '../src/agent/image/cpio.ts';
import { NODE_AGENT_UNIT, nodeAgentFiles } from '../src/agent/node/files.ts';
import { type DirectVm, HOST_FROM_GUEST, startDirectVm } from '../src/agent/image/direct-vm.ts';
import type { Machine } from '../src/core/machine.ts';
import { checkInventory, type InventoryResult } from '../src/core/agent-protocol.ts';
import { parseSmartctl } from '../src/core/smartctl.ts';
import { AgentTasksPort } from '../src/engine/agent-tasks-port.ts';
import { healthMetrics } from '../src/health/metrics.ts';
import { qmpCommand } from '../src/lab/qmp.ts';
import { AGENT_POLL } from '../src/netboot/http/agent-tasks.ts';
import { hashBootToken, newBootToken } from '../src/netboot/http/tokens.ts';
import { type Harness, leaseLoopback, machine, startHarness } from './support/boot-http.ts';
import { diskSeries, replay, testRules } from './support/promtool.ts';
import { holdQemuTests } from './support/qemu-tests.ts';
import { eventually } from './support/region.ts';
import { skipUnless } from './support/needs.ts';

const DISK_GIB = 1;
/** A planned node network: two NICs in an active-backup bond carrying the static address. */
const BOND_CONFIG = `network:
  version: 2
  ethernets:
    nic0:
      match: {macaddress: "52:54:00:12:34:01"}
      set-name: nic0
    nic1:
      match: {macaddress: "52:54:00:12:34:02"}
      set-name: nic1
  bonds:
    bond0:
      interfaces: [nic0, nic1]
      parameters: {mode: active-backup, mii-monitor-interval: 100}
      addresses: [10.77.0.21/24]
      routes: [{to: 0.0.0.0/0, via: 10.77.0.1}]
`;
const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('agent write-image and wipe in the boot image: qcow2 + zstd, GPT root grown, seed, secure wipe, too-large image', {
  skip: skipUnless({
    root: true,
    programs: ['qemu-system-x86_64', 'qemu-img', 'sfdisk', 'mkfs.ext4', 'debugfs', 'zstd', 'promtool'],
  }),
}, () => {
  const work = mkdtempSync(join(tmpdir(), 'ingot-agent-write-'));
  let h: Harness;
  let vm: DirectVm | null = null;
  let port: AgentTasksPort;
  let m: Machine;
  let releaseQemu: () => void = () => undefined;
  const consoleLines: string[] = [];
  const qmp = join(work, 'qmp.sock');
  /** The NVMe's smartctl JSON from the first inventory (healthy). */
  let healthyNvme: unknown = null;

  before(async () => {
    releaseQemu = await holdQemuTests('agent-write');
    AGENT_POLL.ms = 100;
    h = await startHarness();
    // Pickup: the VM boots in ~10 s idle, minutes on a host loaded with test beds (seen: > 120 s at load 26).
    port = new AgentTasksPort(() => h.store, { silenceMs: 60_000, pickupMs: 300_000 });
    // A 64 MiB GPT disk whose one partition (1..61 MiB) holds an ext4 "OS" (etc/os-release).
    const root = join(work, 'root');
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    writeFileSync(join(root, 'etc/os-release'), 'PRETTY_NAME="Ingot Test OS"\nID=ingottest\n');
    sh(`mkfs.ext4 -q -F -L root -d ${root} ${work}/root.ext4 60M`);
    sh(`truncate -s 64M ${work}/os.raw`);
    sh(`printf 'label: gpt\\nstart=2048, size=122880, type=L, name=root\\n' | sfdisk -q ${work}/os.raw`);
    sh(`dd if=${work}/root.ext4 of=${work}/os.raw bs=1M seek=1 conv=notrunc status=none`);
    mkdirSync(join(h.artifacts, 'images'), { recursive: true });
    sh(`qemu-img convert -f raw -O qcow2 ${work}/os.raw ${h.artifacts}/images/os.qcow2`);
    sh(`zstd -q --rm ${h.artifacts}/images/os.qcow2 -o ${h.artifacts}/images/os.qcow2.zst`);
    sh(`qemu-img create -q -f qcow2 ${h.artifacts}/images/big.qcow2 ${DISK_GIB * 2}G`);
    // Raw images streamed: the OS with random bytes after its root (61–63 MiB), then the OS alone
    // (zeros there) — what the second write must leave zero on a disk that held the first.
    sh(`cp ${work}/os.raw ${work}/junk.raw`);
    sh(`dd if=/dev/urandom of=${work}/junk.raw bs=1M seek=61 count=2 conv=notrunc status=none`);
    sh(`zstd -q ${work}/junk.raw -o ${h.artifacts}/images/junk.raw.zst`);
    sh(`zstd -q ${work}/os.raw -o ${h.artifacts}/images/os.raw.zst`);

    m = await h.store.createMachine(machine(), 'test');
    // The guest's connections reach the rack from 127.0.0.1 (QEMU's user network): its lease, so
    // the rack hands it its OS images (token + leased address, as on a real network).
    await leaseLoopback(h.store, m.id);
    const token = newBootToken();
    await h.store.setMachineBootToken(m.id, hashBootToken(token), Date.now() + 3600_000);
    sh(`qemu-img create -q -f qcow2 ${work}/nvme.qcow2 256M`);
    const boot = await buildBootImage({ log: (l) => process.stderr.write(`# ${l}\n`) });
    // HTTPS, pinned by the public key on the kernel line, as the rack's iPXE script boots it.
    const rack = `https://${HOST_FROM_GUEST}:${h.http.securePort}`;
    // A site overlay appended to the image's initramfs (the kernel reads both archives): its
    // etc/ingot/image replaces the image's, and /init prints it.
    const overlay = cpioNewc([
      { kind: 'dir', path: 'etc' },
      { kind: 'dir', path: 'etc/ingot' },
      { kind: 'file', path: 'etc/ingot/image', data: Buffer.from('site-overlay\n') },
    ]);
    writeFileSync(join(work, 'initrd.img'), Buffer.concat([readFileSync(boot.initrd), overlay]));
    vm = await startDirectVm({
      kernel: boot.kernel,
      initrd: join(work, 'initrd.img'),
      append: `quiet ingot.url=${rack} ingot.pin=${h.pin} ingot.token=${token}`,
      disk: join(work, 'disk.qcow2'),
      diskGiB: DISK_GIB,
      memoryMiB: 768,
      // A second disk on an NVMe controller: SMART health, a model and a serial to inventory.
      extraArgs: [
        '-drive',
        `file=${work}/nvme.qcow2,if=none,id=n0,format=qcow2,discard=unmap,detect-zeroes=unmap`,
        '-device',
        'nvme,id=nvme0,drive=n0,serial=INGOTNVME01',
        // QMP: a test sets the NVMe's SMART critical warning while the agent runs.
        '-qmp',
        `unix:${qmp},server=on,wait=off`,
      ],
      onLine: (l) => consoleLines.push(l),
    });
  });

  after(async () => {
    await vm?.stop();
    await h?.close();
    rmSync(work, { recursive: true, force: true });
    releaseQemu();
  });

  /**
   * A job of its own for the next task (the agent takes only the active job's tasks): queuing
   * it cancels the previous one, as a new workflow does.
   */
  async function newJob(kind: 'deploy' | 'release' | 'commission') {
    return h.store.enqueueJob(
      m.id,
      { kind, steps: [kind === 'deploy' ? 'write-image' : 'wipe-disks'] },
      'test',
    );
  }

  /** Runs one write-image task in a job of its own until the agent ends it. */
  async function writeImage(spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const job = await newJob('deploy');
    const url = `https://${HOST_FROM_GUEST}:${h.http.securePort}`;
    const params = { image: { ...spec, url: `${url}/artifacts/${spec.artifact}` }, disk: 'vda', ...extra };
    return eventually(
      async () => {
        const r = await port.task(m, job.id, 'write-image', params);
        return r.status === 'pending' ? null : r;
      },
      240_000,
      `write-image of ${spec.artifact} (console: ${consoleLines.slice(-5).join(' | ')})`,
    );
  }

  /** Runs one agent task in a job of its own until the agent ends it. */
  async function run(
    kind: 'commission' | 'release',
    task: 'inventory' | 'tests' | 'wipe',
    params: Record<string, unknown>,
  ) {
    const job = await newJob(kind);
    return eventually(
      async () => {
        const t = await port.task(m, job.id, task, params);
        return t.status === 'pending' ? null : t;
      },
      240_000,
      `${task} (console: ${consoleLines.slice(-5).join(' | ')})`,
    );
  }

  it('inventories an NVMe disk (model, serial, SMART health); its SMART test says it runs no self-test', {
    timeout: 300_000,
  }, async () => {
    // Queued before the agent's first poll: it arrives while the storage drivers may still be
    // loading in the background, and the inventory must wait for them.
    const inv = await run('commission', 'inventory', { lldpSeconds: 0 });
    assert.equal(inv.status, 'done', inv.status === 'failed' ? inv.reason : '');
    assert.ok(
      consoleLines.some((l) => /ingot-init: boot image site-overlay,/.test(l)),
      `the appended overlay's etc/ingot/image: ${consoleLines.filter((l) => l.includes('ingot-init')).join(' | ')}`,
    );
    // What the agent reported, checked as the engine's inventory step checks it before storing.
    const stored = checkInventory(inv.result) as InventoryResult & {
      details: { smart: { disk: string; health: string; smartctl?: unknown }[] };
    };
    const nvme = stored.disks.find((d) => d.name === 'nvme0n1');
    assert.ok(nvme, `an nvme0n1 disk: ${JSON.stringify(stored.disks)}`);
    assert.equal(nvme.serial, 'INGOTNVME01');
    assert.match(nvme.model ?? '', /QEMU NVMe/);
    assert.equal(nvme.sizeBytes, 256 * 2 ** 20);
    assert.deepEqual(
      stored.details.smart
        .map(({ disk, health }) => ({ disk, health }))
        .sort((a, b) => a.disk.localeCompare(b.disk)),
      [
        { disk: 'nvme0n1', health: 'passed' },
        { disk: 'vda', health: 'unsupported' },
      ],
    );
    // Real smartctl JSON from QEMU's NVMe health log, as the region keeps it per disk serial.
    const nvmeSmart = stored.details.smart.find((s) => s.disk === 'nvme0n1')?.smartctl;
    healthyNvme = nvmeSmart;
    const health = parseSmartctl(nvmeSmart, { machineId: m.id, at: 0, source: 'agent' });
    assert.deepEqual(
      [health.serial, health.protocol, health.passed, health.mediaErrors, health.reallocatedSectors],
      ['INGOTNVME01', 'nvme', true, 0, null],
    );
    assert.equal(typeof health.percentageUsed, 'number');
    assert.equal(typeof health.temperatureCelsius, 'number');
    const tests = await run('commission', 'tests', { tests: ['smart'] });
    assert.equal(tests.status, 'done', tests.status === 'failed' ? tests.reason : '');
    const smart = (await h.store.listEvents({ machineId: m.id, limit: 500 })).filter(
      (e) => e.type === 'agent.test.smart',
    );
    assert.equal(smart.at(-1)?.data.result, 'passed');
    assert.equal(smart.at(-1)?.data.selfTest, 'unsupported', smart.at(-1)?.message);
    assert.match(smart.at(-1)?.message ?? '', /nvme0n1: health PASSED; the device runs no self-test/);
  });

  it('a failing SMART on the VM’s NVMe (QEMU’s critical warning) becomes metrics that fire IngotDiskFailurePredicted (promtool)', {
    timeout: 300_000,
  }, async () => {
    assert.ok(healthyNvme, 'the first inventory reported the NVMe’s smartctl JSON');
    // QEMU's NVMe sets the critical warning in its SMART log (bit 2: NVM subsystem reliability
    // degraded), as a drive about to fail does; smartctl then fails its self-assessment.
    await qmpCommand(qmp, 'qom-set', 5000, {
      path: '/machine/peripheral/nvme0',
      property: 'smart_critical_warning',
      value: 4,
    });
    const inv = await run('commission', 'inventory', { lldpSeconds: 0 });
    assert.equal(inv.status, 'done', inv.status === 'failed' ? inv.reason : '');
    const stored = checkInventory(inv.result) as InventoryResult & {
      details: { smart: { disk: string; health: string; smartctl?: unknown }[] };
    };
    const failing = stored.details.smart.find((s) => s.disk === 'nvme0n1');
    assert.equal(failing?.health, 'failed', 'smartctl -H on the VM says FAILED');
    // Both reports stored as the engine keeps them (per serial), each scraped from the region's gauges.
    const metrics = healthMetrics(h.store, { reuseMs: 0 });
    const ctx = (at: number) => ({ machineId: m.id, at, source: 'agent' as const });
    await h.store.recordDiskHealth([parseSmartctl(healthyNvme, ctx(Date.now() - 1000))]);
    const first = diskSeries(await metrics.exposition());
    const report = parseSmartctl(failing?.smartctl, ctx(Date.now()));
    assert.deepEqual([report.serial, report.passed, report.device], ['INGOTNVME01', false, '/dev/nvme0n1']);
    await h.store.recordDiskHealth([report]);
    const second = diskSeries(await metrics.exposition());
    const passed = [...second].filter(([k]) => k.startsWith('ingot_disk_smart_passed{'));
    assert.equal(passed.length, 1, `one disk series: ${passed.map(([k]) => k).join(', ')}`);
    const [series, value] = passed[0];
    assert.equal(value, 0);
    assert.equal(first.get(series), 1, 'the first scrape: the NVMe passed');
    const labels = Object.fromEntries(
      [...series.matchAll(/(\w+)="([^"]*)"/g)].filter(([, , v]) => v !== '').map(([, k, v]) => [k, v]),
    );
    assert.deepEqual(
      [labels.machine, labels.hostname, labels.rack, labels.serial, labels.device],
      [m.id, m.hostname, 'r1', 'INGOTNVME01', '/dev/nvme0n1'],
    );
    const out = await testRules(work, {
      rule_files: ['alerts.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: replay(first, second),
          alert_rule_test: [
            { eval_time: '5m', alertname: 'IngotDiskFailurePredicted', exp_alerts: [] },
            {
              eval_time: '15m',
              alertname: 'IngotDiskFailurePredicted',
              exp_alerts: [
                {
                  exp_labels: { ...labels, severity: 'critical', ingot_hardware: 'true' },
                  exp_annotations: {
                    summary: 'Disk predicts its own failure',
                    description: `Disk INGOTNVME01 (/dev/nvme0n1) of ${m.hostname} in rack r1 fails its SMART self-assessment: replace it.`,
                  },
                },
              ],
            },
            // QEMU's NVMe reports no wear: its endurance alert stays quiet.
            { eval_time: '15m', alertname: 'IngotNvmeWearOut', exp_alerts: [] },
          ],
        },
      ],
    });
    assert.match(out, /SUCCESS/);
  });

  it('writes a zstd qcow2, grows the GPT root to the disk’s end, writes the seed with the OS token and the network-config', {
    timeout: 300_000,
  }, async () => {
    const r = await writeImage(
      {
        artifact: 'images/os.qcow2.zst',
        sha256: sha256(join(h.artifacts, 'images/os.qcow2.zst')),
        format: 'qcow2',
        compression: 'zst',
      },
      { networkConfig: BOND_CONFIG },
    );
    assert.equal(r.status, 'done', r.status === 'failed' ? r.reason : '');
    const result = r.status === 'done' ? (r.result as { root: string }) : { root: '' };
    assert.match(result.root, /^\/dev\/vda1 \(Ingot Test OS\)$/);

    // Read the disk back (the VM still runs: -U shares it).
    const raw = join(work, 'written.raw');
    sh(`qemu-img convert -U -f qcow2 -O raw ${work}/disk.qcow2 ${raw}`);
    const table = JSON.parse(sh(`sfdisk -J ${raw}`)).partitiontable as {
      label: string;
      lastlba: number;
      partitions: { start: number; size: number; name?: string }[];
    };
    assert.equal(table.label, 'gpt');
    const [p] = table.partitions;
    assert.equal(p.start, 2048);
    assert.equal(p.name, 'root', 'the partition keeps its name');
    assert.equal(p.start + p.size - 1, table.lastlba, 'the root partition ends at the end of the disk');
    assert.ok(table.lastlba > (DISK_GIB * 2 ** 30) / 512 - 100, 'the GPT was moved to the disk’s end');

    sh(`dd if=${raw} of=${work}/p1.ext4 bs=512 skip=2048 count=122880 status=none`);
    assert.match(sh(`debugfs -R 'cat /etc/os-release' ${work}/p1.ext4 2>/dev/null`), /Ingot Test OS/);
    const seed = sh(`debugfs -R 'cat /etc/cloud/cloud.cfg.d/95-ingot-agent.cfg' ${work}/p1.ext4 2>/dev/null`);
    const token = /seedfrom: https:\/\/[^/]+\/metadata\/([A-Za-z0-9_-]+)\//.exec(seed)?.[1];
    assert.ok(token, `a seedfrom URL in the seed: ${seed}`);
    assert.equal((await h.store.findMachineByOsToken(hashBootToken(token)))?.id, m.id, 'the OS token');
    assert.match(seed, new RegExp(`url: https://[^\\s]+/agent/v1/os-booted/${token}`));
    // The deployed OS trusts the rack's HTTPS: its certificate is in the OS's CA bundle.
    const cat = (f: string) => sh(`debugfs -R 'cat ${f}' ${work}/p1.ext4 2>/dev/null`);
    assert.equal(cat('/usr/local/share/ca-certificates/ingot-rack.crt'), h.certPem);
    assert.ok(cat('/etc/ssl/certs/ca-certificates.crt').includes(h.certPem!), 'the rack in the CA bundle');
    assert.match(
      sh(`debugfs -R 'stat /etc/cloud/cloud.cfg.d/95-ingot-agent.cfg' ${work}/p1.ext4 2>/dev/null`),
      /Mode: +0600/,
    );
    // The OS runs systemd: the deploy installed the node agent the boot image carries, enabled.
    for (const [path, f] of Object.entries(nodeAgentFiles())) {
      assert.equal(cat(path), f.content, `${path} on the deployed OS`);
      const mode = /Mode: +(0[0-7]+)/.exec(sh(`debugfs -R 'stat ${path}' ${work}/p1.ext4 2>/dev/null`))?.[1];
      assert.equal(Number.parseInt(mode ?? '', 8), f.mode, `${path} has mode ${f.mode.toString(8)}`);
    }
    assert.match(
      sh(
        `debugfs -R 'stat /etc/systemd/system/multi-user.target.wants/${NODE_AGENT_UNIT}' ${work}/p1.ext4 2>/dev/null`,
      ),
      new RegExp(`Fast link dest: "/etc/systemd/system/${NODE_AGENT_UNIT}"`),
      'the node agent is enabled',
    );
  });

  it('the network-config on the written disk renders with netplan and with cloud-init’s Debian renderer', {
    skip: skipUnless({ programs: ['netplan', 'cloud-init'] }),
  }, () => {
    // p1.ext4: the root the test above wrote and read back.
    const cfg = sh(
      `debugfs -R 'cat /etc/cloud/cloud.cfg.d/96-ingot-network.cfg' ${work}/p1.ext4 2>/dev/null`,
    );
    assert.ok(
      cfg.trimEnd().endsWith(BOND_CONFIG.trimEnd()),
      `the network-config as the deploy gave it: ${cfg}`,
    );
    assert.match(
      sh(`debugfs -R 'stat /etc/cloud/cloud.cfg.d/96-ingot-network.cfg' ${work}/p1.ext4 2>/dev/null`),
      /Mode: +0600/,
    );
    const np = join(work, 'netplan-root');
    mkdirSync(join(np, 'etc/netplan'), { recursive: true });
    writeFileSync(join(np, 'etc/netplan/50-cloud-init.yaml'), cfg, { mode: 0o600 });
    sh(`netplan generate --root-dir ${np}`);
    const netdev = readFileSync(join(np, 'run/systemd/network/10-netplan-bond0.netdev'), 'utf8');
    assert.match(netdev, /Kind=bond/);
    assert.match(netdev, /Mode=active-backup/);
    assert.match(
      readFileSync(join(np, 'run/systemd/network/10-netplan-bond0.network'), 'utf8'),
      /Address=10\.77\.0\.21\/24/,
    );
    // What the deployed Debian image runs at first boot: cloud-init's ENI renderer + ifenslave.
    const eni = join(work, 'eni');
    sh(
      `cloud-init devel net-convert -p ${join(np, 'etc/netplan/50-cloud-init.yaml')} -k yaml -O eni -D debian -d ${eni} 2>/dev/null`,
    );
    const ifaces = readFileSync(join(eni, 'etc/network/interfaces.d/50-cloud-init'), 'utf8');
    assert.match(
      ifaces,
      /iface bond0 inet static\n\s+address 10\.77\.0\.21\/24[\s\S]*bond-mode active-backup/,
    );
    assert.match(ifaces, /iface nic1 inet manual\n\s+bond-master bond0/);
    assert.match(ifaces, /route add default gw 10\.77\.0\.1/);
  });

  it('streams a zstd raw image sparsely over old data: zeros come from the disk, the disk reads back the image', {
    timeout: 400_000,
  }, async () => {
    const raw = (artifact: string) => ({
      artifact,
      sha256: sha256(join(h.artifacts, artifact)),
      format: 'raw',
      compression: 'zst',
      sizeBytes: 64 * 2 ** 20,
    });
    const junk = await writeImage(raw('images/junk.raw.zst'));
    assert.equal(junk.status, 'done', junk.status === 'failed' ? junk.reason : '');
    const r = await writeImage(raw('images/os.raw.zst'));
    assert.equal(r.status, 'done', r.status === 'failed' ? r.reason : '');
    const written = (await h.store.listEvents({ machineId: m.id, limit: 500 }))
      .filter((e) => e.type === 'agent.write-image.written')
      .at(-1);
    assert.equal(written?.data.bytes, 64 * 2 ** 20, 'dd went through the whole image');
    assert.ok(
      Number(written?.data.dataBytes) < 40 * 2 ** 20,
      `only the image's non-zero blocks were written: ${written?.message}`,
    );
    const back = join(work, 'sparse.raw');
    sh(`qemu-img convert -U -f qcow2 -O raw ${work}/disk.qcow2 ${back}`);
    const region = (f: string) =>
      createHash('sha256')
        .update(readFileSync(f).subarray(61 * 2 ** 20, 63 * 2 ** 20))
        .digest('hex');
    assert.equal(region(back), region(join(work, 'os.raw')), 'the old random bytes are zero now');
    // The root partition as the image has it, but for the seed write_seed added: fsck is clean.
    sh(`dd if=${back} of=${work}/sparse-p1.ext4 bs=1M skip=1 count=60 status=none`);
    sh(`e2fsck -fn ${work}/sparse-p1.ext4`);
  });

  it('securely wipes: the device zero-fills the whole disk (util-linux blkdiscard, not busybox’s)', {
    timeout: 300_000,
  }, async () => {
    const r = await run('release', 'wipe', { wipe: 'secure' });
    assert.equal(r.status, 'done', r.status === 'failed' ? r.reason : '');
    const ev = (await h.store.listEvents({ machineId: m.id, limit: 500 })).filter(
      (e) => e.type === 'agent.wipe.disk',
    );
    const byDisk = Object.fromEntries(ev.map((e) => [String(e.data.disk), String(e.data.how)]));
    assert.deepEqual(byDisk, { nvme0n1: 'zero-fill', vda: 'zero-fill' }, 'every disk, zero-filled');
    sh(`qemu-img create -q -f qcow2 ${work}/blank.qcow2 ${DISK_GIB}G`);
    // Exit 0: identical to a blank disk of the same size, every byte.
    sh(`qemu-img compare -U -f qcow2 -F qcow2 ${work}/disk.qcow2 ${work}/blank.qcow2`);
  });

  it('fails a qcow2 larger than the disk, naming both sizes', { timeout: 300_000 }, async () => {
    const r = await writeImage({
      artifact: 'images/big.qcow2',
      sha256: sha256(join(h.artifacts, 'images/big.qcow2')),
      format: 'qcow2',
    });
    assert.equal(r.status, 'failed');
    assert.match(
      r.status === 'failed' ? r.reason : '',
      new RegExp(
        `the image \\(${DISK_GIB * 2 * 2 ** 30} bytes\\) is larger than /dev/vda \\(${DISK_GIB * 2 ** 30} bytes\\)`,
      ),
    );
  });
});
