/**
 * Test-bed nodes as machines behind the virtual Redfish BMC: each node's power target starts
 * and stops that node. Power-off kills every process of the node by PID (its cgroups: init,
 * containerd, the kubelet, shims, containers), as a power cut would; the node's network
 * namespace and its disks (the overlay upper layers in its directory) stay. Power-on boots it
 * again from those disks: containerd with its images, and the kubelet, which rejoins with the
 * certificates kubeadm left. A namespace has no firmware: the boot override is recorded, not
 * followed.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type EmulatedBoot,
  type Emulator,
  type PowerTarget,
  startEmulator,
} from '../../bmc/emulator/index.ts';
import { type BedState, readState, setNodePid } from './bed.ts';
import { bootNode, cgroupPids, killNode } from './node.ts';
import { nodeMac } from './topology.ts';

export interface TestbedPowerTargetOptions {
  /** The bed's root directory (where its state file lives). */
  readonly root: string;
  readonly bed: string;
  readonly node: string;
  /** How long a graceful power-off waits after SIGTERM before killing. @default 5 s */
  readonly gracefulMs?: number;
}

export class TestbedPowerTarget implements PowerTarget {
  readonly o: TestbedPowerTargetOptions;
  /** Every boot in order (the override the BMC resolved), as a record. */
  readonly boots: EmulatedBoot[] = [];

  constructor(o: TestbedPowerTargetOptions) {
    this.o = o;
  }

  #node() {
    const s = readState(this.o.root, this.o.bed);
    const n = s?.nodes.find((x) => x.name === this.o.node);
    if (!n) throw new Error(`test bed ${this.o.bed} has no node ${this.o.node}`);
    return n;
  }

  /** On while any process of the node lives. */
  async isOn(): Promise<boolean> {
    return cgroupPids(this.#node().ns).length > 0;
  }

  /**
   * Power changes one at a time: a node's init joins its cgroup a moment after it is spawned,
   * and until then the node reads as off — a second power-on in that moment (a deploy's, a
   * retry's) booted a second init beside the first: two node agents took every task twice.
   */
  #queue: Promise<unknown> = Promise.resolve();
  #serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(f, f);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  powerOn(boot: EmulatedBoot): Promise<void> {
    return this.#serial(async () => {
      if (await this.isOn()) return;
      const n = this.#node();
      this.boots.push(boot);
      const pid = bootNode(n.ns, join(this.o.root, this.o.bed, n.name));
      setNodePid(this.o.root, this.o.bed, n.name, pid);
      // On once its init is in the node's cgroup (its first line): only then does isOn say so.
      for (const end = Date.now() + 10_000; Date.now() < end && !(await this.isOn()); ) await sleep(20);
    });
  }

  powerOff(graceful: boolean): Promise<void> {
    return this.#serial(() => this.#off(graceful));
  }

  async #off(graceful: boolean): Promise<void> {
    const { ns } = this.#node();
    if (graceful) {
      for (const p of cgroupPids(ns)) {
        try {
          process.kill(p, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      const end = Date.now() + (this.o.gracefulMs ?? 5000);
      while (Date.now() < end && cgroupPids(ns).length > 0) await sleep(100);
    }
    await killNode(ns);
  }

  async restart(boot: EmulatedBoot, graceful: boolean): Promise<void> {
    await this.powerOff(graceful);
    await this.powerOn(boot);
  }
}

export interface BedBmc {
  readonly emulator: Emulator;
  /** One per node, in the bed's order: the node, its Redfish address and its NIC's MAC. */
  readonly machines: readonly { node: string; address: string; mac: string }[];
  readonly targets: ReadonlyMap<string, TestbedPowerTarget>;
}

/**
 * Starts a virtual Redfish BMC on loopback with one system per node of the bed, each switching
 * its node; a region enrols the nodes as machines with these addresses.
 */
export async function bedBmc(
  bed: BedState,
  root: string,
  credentials: { username: string; password: string },
): Promise<BedBmc> {
  const targets = new Map<string, TestbedPowerTarget>();
  const emulator = await startEmulator({
    systems: bed.nodes.length,
    ...credentials,
    powerTarget: (_id, i) => {
      const t = new TestbedPowerTarget({ root, bed: bed.name, node: bed.nodes[i - 1].name });
      targets.set(bed.nodes[i - 1].name, t);
      return t;
    },
  });
  const ids = [...emulator.systems.keys()];
  const machines = bed.nodes.map((n, i) => ({
    node: n.name,
    address: emulator.address(ids[i]),
    mac: nodeMac(i),
  }));
  return { emulator, machines, targets };
}
