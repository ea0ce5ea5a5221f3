/**
 * End to end, as root: one lab VM from power-off through commissioning with Ingot's boot image
 * and agent (inventory checked against the VM's QEMU flags, hardware tests), a region restart in
 * the middle of the commission, a deploy of a corrupt image (fails on the checksum, never
 * `deployed`), a deploy killed mid-write (the agent's silence fails it). The deploy that boots
 * is test/lab-cluster.test.ts's (the kubernetes-node image under `ingot cluster create`); SSH
 * with the deploy's key and the secure release are test/readme-lab.test.ts's, the README's
 * walk-through. Images are
 * cached between runs ($INGOT_CACHE or /var/cache/ingot). Phase times go to stdout (docs/agent.md).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildBootImage, defaultCacheDir } from '../src/agent/image/build.ts';
import type { IngotEvent } from '../src/core/event.ts';
import { readTail } from '../src/host/console-log.ts';
import { type Lab, startLab } from '../src/lab/lab.ts';
import { labNetwork, removeNetwork } from '../src/lab/netns.ts';
import { apiRegion } from '../src/lab/region-client.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';
import { holdQemuTests } from './support/qemu-tests.ts';
import { compressedOsImage, registerImage } from './support/os-image.ts';
import { skipUnless } from './support/needs.ts';

const MEMORY_MIB = 1024;
const LLDP_SENDER = new URL('./support/lldp-sender.py', import.meta.url).pathname;
const DISK_GIB = 4;
const t0 = Date.now();
const phase = (what: string) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);

describe('deploy end to end: commission, deploy, release with the real agent', {
  skip: skipUnless({
    root: true,
    files: {
      'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
      'openssh-client': '/usr/bin/ssh',
      zstd: '/usr/bin/zstd',
      debootstrap: '/usr/sbin/debootstrap',
    },
  }),
}, () => {
  const name = `d${process.pid % 100000}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-deploy-e2e-'));
  const work = mkdtempSync(join(tmpdir(), 'ingot-deploy-e2e-work-'));
  let region: TestRegion | null = null;
  let lab: Lab | null = null;
  let os: { file: string; sha256: string; rawSize: number };
  let machineId = '';
  let lldp: ChildProcess | null = null;
  const regionOpts = {
    dataDir,
    agentPollMs: 500,
    agentTasks: { silenceMs: 40_000, pickupMs: 120_000 },
  };
  const store = () => region!.region.store;

  const events = async (type?: string): Promise<IngotEvent[]> =>
    (await store().listEvents({ machineId, limit: 5000 })).filter((e) => !type || e.type === type);
  const action = async (act: string, params: Record<string, unknown> = {}) => {
    const r = await region!.api('POST', `/api/v1/machines/${machineId}/actions/${act}`, { params });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  };
  const waitState = async (want: string, ms: number, bad: string[] = []) =>
    eventually(
      async () => {
        const m = await store().getMachine(machineId);
        if (bad.includes(m.state)) throw new Error(`machine is ${m.state}: ${m.stateReason}`);
        return m.state === want ? m : null;
      },
      ms,
      `machine to become ${want}`,
    ).catch((e: Error) => {
      const log = lab?.state.machines[0].consoleLog;
      const tail = log && existsSync(log) ? readTail(log, 3000).text : '(no console)';
      throw new Error(`${e.message}\nconsole:\n${tail}`);
    });

  /** Phase times of the machine's latest job of `kind`, from power-on (the `boot` step's end). */
  const printPhases = async (kind: string) => {
    const jobs = await store().listJobs({ machineId }, 20);
    const job = jobs.find((j) => j.kind === kind);
    if (!job) return;
    const ev = (await events()).filter(
      (e) => e.jobId === job.id || (e.jobId === null && e.at >= job.createdAt),
    );
    const on = ev.find((e) => e.type === 'step.completed' && e.data.step === 'boot');
    if (!on) return;
    const rel = (e: IngotEvent) => ((Date.parse(e.at) - Date.parse(on.at)) / 1000).toFixed(1);
    const want = [
      'dhcp.ack',
      'http.script',
      'http.artifact',
      'agent.hello',
      'agent.inventory',
      'agent.tests',
      'agent.write-image.written',
      'agent.write-image',
      'agent.wipe',
      'metadata.fetch',
      'agent.os-booted',
      'machine.transition',
    ];
    const seen = new Set<string>();
    for (const e of ev) {
      if (Date.parse(e.at) < Date.parse(on.at) || !want.includes(e.type)) continue;
      const k = `${e.type}:${e.type === 'http.artifact' || e.type === 'metadata.fetch' ? e.data.path : ''}`;
      if (seen.has(k)) continue;
      seen.add(k);
      console.log(`# ${kind} +${rel(e)} s ${e.type}: ${e.message}`);
    }
  };

  let releaseQemu: () => void = () => undefined;
  before(async () => {
    releaseQemu = await holdQemuTests('deploy-e2e');
    const cache = defaultCacheDir();
    const tb = Date.now();
    const boot = await buildBootImage({ cacheDir: cache, log: phase });
    phase(
      `boot image ${boot.key} ready (${((Date.now() - tb) / 1000).toFixed(1)} s, ${(boot.sizeBytes / 2 ** 20).toFixed(1)} MiB)`,
    );
    const to = Date.now();
    os = await compressedOsImage(cache, phase);
    phase(`OS image ready (${((Date.now() - to) / 1000).toFixed(1)} s)`);
    region = await startTestRegion(regionOpts);
    lab = await startLab({
      name,
      dataDir,
      region: apiRegion(region.url, region.adminToken, region.fingerprint),
      machines: 1,
      firmware: 'bios',
      memoryMiB: MEMORY_MIB,
      diskGiB: DISK_GIB,
      cacheDir: cache,
      // Short leases: the agent must renew during a deploy (T1 = 30 s).
      leaseSeconds: 60,
    });
    machineId = lab.state.machines[0].machineId;
    await registerImage(store(), dataDir, 'debian-12', os.file, {
      sha256: os.sha256,
      compression: 'zst',
      virtualSize: os.rawSize,
    });
    const corrupt = join(work, 'corrupt.raw');
    writeFileSync(corrupt, randomBytes(8 * 2 ** 20));
    await registerImage(store(), dataDir, 'corrupt', corrupt, {
      sha256: createHash('sha256').update('not this image').digest('hex'),
      compression: 'none',
      virtualSize: 8 * 2 ** 20,
    });
    phase('region and lab up');
  });

  after(async () => {
    lldp?.kill();
    await lab?.close().catch(() => undefined);
    await removeNetwork(labNetwork(name)).catch(() => undefined);
    await region?.stop();
    if (process.env.INGOT_KEEP_E2E) console.log(`# kept ${dataDir} and ${work}`);
    else {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
    releaseQemu();
  });

  it('commissions: the inventory matches the VM, tests pass, a region restart mid-commission is survived', {
    timeout: 240_000,
  }, async () => {
    // A switch port on the lab's bridge: LLDP every second, as a ToR switch would (every 30 s).
    lldp = spawn(
      'ip',
      [
        'netns',
        'exec',
        labNetwork(name).rackNs,
        'python3',
        LLDP_SENDER,
        'br0',
        'ingot-lab-switch',
        'swp7',
        '42',
      ],
      { stdio: 'ignore' },
    );
    await action('commission', {
      tests: ['smart', 'disk-read', 'memory', 'cpu'],
      cpuSeconds: 2,
      memoryMiB: 4,
      diskReadMiB: 16,
      lldpSeconds: 6,
    });
    await eventually(
      async () => (await events('agent.hello')).length > 0,
      120_000,
      'the agent to phone home',
    );
    phase('commission: agent hello');
    // The region goes away and comes back on the same store; the agent and the rack carry on.
    await region!.stop();
    await new Promise((r) => setTimeout(r, 3000));
    region = await startTestRegion(regionOpts);
    phase('commission: region restarted');
    const m = await waitState('ready', 180_000, ['failed_commissioning']);
    phase('commission: ready');
    await printPhases('commission');
    const vm = lab!.state.machines[0];
    assert.equal(m.memoryBytes, MEMORY_MIB * 2 ** 20, 'memory from the DIMMs = QEMU -m');
    assert.equal(m.cpu?.cores, 1, 'cores = QEMU -smp 1');
    assert.equal(m.disks.length, 1);
    assert.equal(m.disks[0].sizeBytes, DISK_GIB * 2 ** 30, 'disk size = the qcow2 size');
    assert.deepEqual(
      m.nics.map((n) => [n.mac, n.driver, n.boot]),
      [[vm.mac, 'virtio_net', true]],
    );
    const inv = await store().getMachineInventory(machineId);
    const details = inv?.details as { dmi: Record<string, string>; smart: unknown[] };
    assert.equal(details.dmi.sys_vendor, 'QEMU');
    // Each disk's SMART verdict; smartctl's own JSON rides along for the health history.
    assert.deepEqual(
      (details.smart as { disk: string; health: string }[]).map(({ disk, health }) => ({ disk, health })),
      [{ disk: 'vda', health: 'unsupported' }],
    );
    lldp?.kill();
    const [neighbour] = (details as unknown as { lldp: Record<string, string>[] }).lldp ?? [];
    assert.deepEqual(
      {
        chassisId: neighbour?.chassisId,
        portId: neighbour?.portId,
        systemName: neighbour?.systemName,
        vlan: neighbour?.vlan,
      },
      { chassisId: '02:a0:c9:00:00:01', portId: 'swp7', systemName: 'ingot-lab-switch', vlan: '42' },
      'the LLDP neighbour on the VM’s NIC',
    );
    const types = (await events()).map((e) => e.type);
    for (const t of [
      'agent.inventory',
      'agent.test.cpu',
      'agent.test.memory',
      'agent.test.disk-read',
      'agent.tests',
    ])
      assert.ok(types.includes(t), `${t} missing from ${types.join(', ')}`);
    assert.ok(types.includes('job.resumed'), 'the new region resumed the commission');
  });

  it('fails a deploy of a corrupt image on the checksum, before the machine is deployed', {
    timeout: 180_000,
  }, async () => {
    await action('deploy', { image: 'corrupt' });
    const m = await waitState('failed_deploying', 150_000, ['deployed']);
    assert.match(m.stateReason, /checksum mismatch/);
    phase('corrupt image: failed_deploying');
  });

  it('fails a deploy whose VM dies mid-write (agent silence)', {
    timeout: 600_000,
  }, async () => {
    // This deploy's progress only: the corrupt image's deploy wrote to /dev/vda too.
    const since = Date.now();
    await action('deploy', { image: 'debian-12' });
    await eventually(
      async () =>
        (await events('agent.write-image.progress')).some(
          (e) => Date.parse(e.at) >= since && /writing \/dev\/vda: [1-9]/.test(e.message),
        ),
      150_000,
      'the image write to start',
    );
    // The agent keeps its lease while it writes (the lab's 60 s lease: a renewal ~30 s in).
    await eventually(
      async () =>
        (await events('dhcp.ack')).some((e) => e.data.renewal === true && Date.parse(e.at) >= since),
      150_000,
      'a lease renewal during the write',
    );
    assert.ok(
      (await events('agent.write-image')).every((e) => Date.parse(e.at) < since),
      'the renewal came while the image was still being written',
    );
    const pid = lab!.state.machines[0].qemuPid;
    assert.ok(pid, 'QEMU is running');
    process.kill(pid, 'SIGKILL');
    phase('deploy: VM killed mid-write');
    const failed = await waitState('failed_deploying', 120_000, ['deployed']);
    assert.match(failed.stateReason, /went silent during write-image/);
    phase('deploy: failed_deploying after the agent went silent');
  });
  // The deploy that boots (the kubernetes-node image with user-data from the metadata service,
  // the node agent's check-in) is test/lab-cluster.test.ts's
  // `ingot cluster create`; SSH with the deploy's key and the secure release are the README's
  // lab (test/readme-lab.test.ts).
});
