/**
 * A virtual lab: QEMU machines on a private L2 network, each behind the virtual Redfish BMC,
 * network-booted by Ingot's own rack services, enrolled in the region as `new` machines so the
 * normal commission flow applies. Everything network-side lives in two namespaces the lab
 * creates (netns.ts); nothing touches the host's root namespace but the BMC on 127.0.0.1.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startEmulator, type Emulator } from '../bmc/emulator/index.ts';
import { invalid } from '../core/errors.ts';
import { consoleLogPath } from '../host/console-log.ts';
import { buildEphemeralImage, defaultCacheDir } from './ephemeral-image.ts';
import { stopPid } from '../host/process.ts';
import { createNetwork, labNetwork, removeNetwork, tapName } from './netns.ts';
import { prepareMachineFiles, probeAccel, type Firmware, type QemuMachine } from './qemu.ts';
import { QemuPowerTarget } from './qemu-power-target.ts';
import { startRackChild } from './rack-child.ts';
import type { LabRegion } from './region-client.ts';
import { cleanupStale } from './cleanup.ts';
import { type LabState, labDirFor, writeState } from './state.ts';

export interface LabOptions {
  /** Lab name: `[a-z0-9]{1,12}`; namespaces are `ingot-<name>-prov|rack`. */
  readonly name: string;
  /** The region's data dir: the rack services open its store; the lab lives in `labs/<name>`. */
  readonly dataDir: string;
  readonly database?: string;
  readonly secretKeyFile?: string;
  readonly region: LabRegion;
  readonly machines: number;
  /** One firmware for all, or one per machine. */
  readonly firmware: Firmware | readonly Firmware[];
  /** @default 512 */
  readonly memoryMiB?: number;
  /** @default 8 */
  readonly diskGiB?: number;
  /** vCPUs per VM (a kubeadm control plane needs 2). @default 1 */
  readonly cpus?: number;
  /** @default 10.77.0.0/24 */
  readonly cidr?: string;
  /** Boot HTTP port inside the lab. @default 8081 */
  readonly httpPort?: number;
  readonly cacheDir?: string;
  /** Kernel arguments appended for the ephemeral OS (e.g. `ingot.after=wait`). */
  readonly kernelArgs?: string;
  /** DHCP lease time, seconds. @default 3600 */
  readonly leaseSeconds?: number;
  readonly log?: (msg: string) => void;
}

export interface Lab {
  readonly state: LabState;
  readonly bmc: Emulator;
  readonly targets: ReadonlyMap<string, QemuPowerTarget>;
  close(): Promise<void>;
}

export const MAX_LAB_MACHINES = 2;

export async function startLab(o: LabOptions): Promise<Lab> {
  if (!/^[a-z0-9]{1,12}$/.test(o.name))
    throw invalid('name', `"${o.name}" must be 1-12 lower-case letters or digits`);
  if (!Number.isInteger(o.machines) || o.machines < 1 || o.machines > MAX_LAB_MACHINES)
    throw invalid(
      '--machines',
      `${o.machines}: a lab runs 1 to ${MAX_LAB_MACHINES} VMs (TCG on 2 cores: more than 2 at once slow each boot ~3x)`,
    );
  const log = o.log ?? (() => {});
  const labDir = labDirFor(o.dataDir, o.name);
  const net = labNetwork(o.name, o.cidr);
  await cleanupStale(labDir, net, log);
  mkdirSync(labDir, { recursive: true, mode: 0o700 });
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const image = await buildEphemeralImage(cacheDir, log);
  const accel = await probeAccel(image.kernel, cacheDir);
  log(`accelerator: ${accel}${accel === 'tcg' ? ' (KVM probe failed or no /dev/kvm)' : ''}`);
  const memoryMiB = o.memoryMiB ?? 512;
  const diskGiB = o.diskGiB ?? 8;
  const firmwareOf = (i: number): Firmware =>
    typeof o.firmware === 'string' ? o.firmware : (o.firmware[i] ?? o.firmware[0]);

  let emulator: Emulator | null = null;
  let rack: ChildProcess | null = null;
  const cleanup = async () => {
    await emulator?.close().catch(() => undefined);
    await stopPid(rack?.pid ?? null);
    await removeNetwork(net).catch(() => undefined);
  };
  try {
    await createNetwork(net, o.machines);
    const artifacts = join(labDir, 'artifacts');
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    symlinkSync(image.dir, join(artifacts, 'ephemeral'));
    // OS images of the region's registry (src/images: <data>/artifacts/images) for deploys.
    const images = join(o.dataDir, 'artifacts', 'images');
    mkdirSync(images, { recursive: true });
    symlinkSync(images, join(artifacts, 'images'));
    // Kubernetes bundles of the region's registry (src/bundles: <data>/artifacts/bundles), which
    // the rack serves to deployed nodes (docs/bundles.md).
    const bundles = join(o.dataDir, 'artifacts', 'bundles');
    mkdirSync(bundles, { recursive: true });
    symlinkSync(bundles, join(artifacts, 'bundles'));

    const password = randomBytes(12).toString('base64url');
    const targets = new Map<string, QemuPowerTarget>();
    const qemu = new Map<string, QemuMachine>();
    emulator = await startEmulator({
      host: '127.0.0.1',
      systems: o.machines,
      username: 'admin',
      password,
      powerTarget: (id, index) => {
        const m: QemuMachine = {
          name: `${o.name}-vm${index}`,
          firmware: firmwareOf(index - 1),
          mac: '', // set below from the emulated system (the BMC reports the same MAC)
          memoryMiB,
          cpus: o.cpus ?? 1,
          tap: tapName(index - 1),
          disk: join(labDir, `vm${index}.qcow2`),
          vars: join(labDir, `vm${index}.vars.fd`),
          consoleLog: '', // set below from the machine's id (src/host/console-log.ts)
          qmpSocket: join(labDir, `vm${index}.qmp`),
          pidFile: join(labDir, `vm${index}.pid`),
          accel,
        };
        qemu.set(id, m);
        const t = new QemuPowerTarget({
          machine: m,
          rackNs: net.rackNs,
          qemuLog: join(labDir, `vm${index}.qemu.log`),
          onStart: (pid) => setQemuPid(id, pid),
          onExit: () => setQemuPid(id, null),
        });
        targets.set(id, t);
        return t;
      },
    });
    const bmc = emulator;
    const [a, b, c] = net.serverIp.split('.');
    const cidr = o.cidr ?? '10.77.0.0/24';
    await o.region.ensureSubnet({
      name: `lab-${o.name}`,
      cidr,
      rangeStart: `${a}.${b}.${c}.100`,
      rangeEnd: `${a}.${b}.${c}.199`,
      // The rack's own address and room for lab services (a cluster's API load balancer):
      // a cluster's planned node addresses never take them.
      reservedStart: `${a}.${b}.${c}.1`,
      reservedEnd: `${a}.${b}.${c}.9`,
    });
    const machines: LabState['machines'] = [];
    for (const [id, sys] of bmc.systems) {
      const m = qemu.get(id)!;
      const hostname = `${o.name}-vm${sys.index}`;
      const machineId = await o.region.enrol({
        hostname,
        mac: sys.macs[0],
        tags: ['lab', `lab.${o.name}`, `firmware.${m.firmware}`],
        bmc: { address: bmc.address(id), username: 'admin', password },
      });
      const fixed: QemuMachine = { ...m, mac: sys.macs[0], consoleLog: consoleLogPath(o.dataDir, machineId) };
      qemu.set(id, fixed);
      targets.get(id)!.o.machine = fixed;
      await prepareMachineFiles(fixed, diskGiB);
      machines.push({
        index: sys.index,
        systemId: id,
        machineId,
        hostname,
        mac: fixed.mac,
        firmware: fixed.firmware,
        bmcAddress: bmc.address(id),
        consoleLog: fixed.consoleLog,
        qemuPid: null,
      });
    }
    const started = await startRackChild(labDir, net.provNs, {
      dataDir: o.dataDir,
      database: o.database,
      secretKeyFile: o.secretKeyFile,
      provisioningIp: net.serverIp,
      httpPort: o.httpPort ?? 8081,
      artifactsDir: artifacts,
      kernelArgs: o.kernelArgs,
      raInterface: 'prov0',
      leaseSeconds: o.leaseSeconds,
    });
    rack = started.child;
    const state: LabState = {
      name: o.name,
      labDir,
      status: 'up',
      startedAt: new Date().toISOString(),
      ownerPid: process.pid,
      rackPid: rack.pid ?? null,
      namespaces: { prov: net.provNs, rack: net.rackNs },
      network: { cidr, serverIp: net.serverIp },
      rackHttp: started.http,
      bmc: { url: bmc.url, username: 'admin', password },
      accel,
      memoryMiB,
      diskGiB,
      machines,
    };
    writeState(state);
    function setQemuPid(id: string, pid: number | null): void {
      const m = state?.machines.find((x) => x.systemId === id);
      if (!m) return;
      m.qemuPid = pid;
      writeState(state);
    }
    let closed = false;
    return {
      state,
      bmc,
      targets,
      async close() {
        if (closed) return;
        closed = true;
        state.status = 'stopping';
        writeState(state);
        await cleanup();
        rmSync(join(labDir, 'state.json'), { force: true });
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
