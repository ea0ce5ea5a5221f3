/**
 * An in-repo agent for tests and benchmarks: each task completes `delayMs` after it was first
 * asked for. Inventory is derived from the machine so tests can check what was stored.
 * `failTasks` makes chosen tasks fail, as a failing SMART test would.
 */
import { AgentTask, type InventoryResult } from '../core/agent-protocol.ts';
import type { BootstrapResult } from '../core/node-agent-protocol.ts';
import type { Machine } from '../core/machine.ts';
import { type FakeKube, fakeKubeconfig } from '../kube/fake.ts';
import type { AgentPort, AgentResult } from './agent-port.ts';

export interface FakeAgentOptions {
  /** How long each task takes. @default 0 */
  delayMs?: number;
  /** Tasks that fail, with the reason the agent reports. */
  failTasks?: Partial<Record<AgentTask, string>>;
  /** Machines (by hostname) whose bootstrap fails, with the reason. */
  failBootstrap?: Record<string, string>;
  /** Where a finished bootstrap registers its node: the simulated cluster's API. */
  kube?: FakeKube;
}

export class FakeAgent implements AgentPort {
  readonly #first = new Map<string, number>();
  readonly options: FakeAgentOptions;
  /** Every task asked for, once per job and task: what tests assert on. */
  readonly started: { machineId: string; jobId: string; task: AgentTask }[] = [];

  constructor(options: FakeAgentOptions = {}) {
    this.options = options;
  }

  async task(
    machine: Machine,
    jobId: string,
    task: AgentTask,
    params?: Record<string, unknown>,
  ): Promise<AgentResult> {
    const key = `${jobId}/${machine.id}/${task}`;
    const now = Date.now();
    if (!this.#first.has(key)) {
      this.#first.set(key, now);
      this.started.push({ machineId: machine.id, jobId, task });
    }
    if (now - this.#first.get(key)! < (this.options.delayMs ?? 0))
      return { status: 'pending', lastMessage: `${task} running` };
    const failure = this.options.failTasks?.[task];
    if (failure) return { status: 'failed', reason: failure };
    if (task === AgentTask.Inventory) return { status: 'done', result: fakeInventory(machine) };
    if (task === AgentTask.Bootstrap) return this.#bootstrap(machine, params);
    if (task === AgentTask.JoinToken) return { status: 'done', result: { token: 'fake01.0123456789abcdef' } };
    return { status: 'done' };
  }

  /** A simulated kubeadm init/join: the node registers (Ready) with its cluster's fake API. */
  #bootstrap(machine: Machine, params: Record<string, unknown> | undefined): AgentResult {
    const failure = this.options.failBootstrap?.[machine.hostname];
    if (failure) return { status: 'failed', reason: failure };
    const kubeconfig = fakeKubeconfig(machine.owner);
    this.options.kube?.register(kubeconfig, machine.hostname);
    const init = params?.role === 'init';
    const result: BootstrapResult = {
      phases: ['packages-installed', init ? 'kubeadm-init-done' : 'kubeadm-join-done', 'bootstrapped'],
      ...(init ? { adminKubeconfig: kubeconfig } : {}),
    };
    return { status: 'done', result };
  }
}

export function fakeInventory(machine: Machine): InventoryResult {
  return {
    cpu: { model: 'Fake CPU @ 2.0GHz', cores: 8, threads: 16 },
    memoryBytes: 32 * 2 ** 30,
    disks: [
      {
        name: 'sda',
        sizeBytes: 480 * 10 ** 9,
        model: 'FAKE SSD',
        serial: `S-${machine.id.slice(-6)}`,
        rotational: false,
      },
    ],
    nics: machine.nics.map((n) => ({ ...n, driver: 'virtio_net', speedMbps: 10_000 })),
  };
}
