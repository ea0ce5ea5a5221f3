/**
 * An in-repo agent for tests and benchmarks: each task completes `delayMs` after it was first
 * asked for. Inventory is derived from the machine so tests can check what was stored.
 * `failTasks` makes chosen tasks fail, as a failing SMART test would.
 */
import { AgentTask, type InventoryResult } from '../core/agent-protocol.ts';
import type { Machine } from '../core/machine.ts';
import type { AgentPort, AgentResult } from './agent-port.ts';

export interface FakeAgentOptions {
  /** How long each task takes. @default 0 */
  delayMs?: number;
  /** Tasks that fail, with the reason the agent reports. */
  failTasks?: Partial<Record<AgentTask, string>>;
}

export class FakeAgent implements AgentPort {
  readonly #first = new Map<string, number>();
  readonly options: FakeAgentOptions;
  /** Every task asked for, once per job and task: what tests assert on. */
  readonly started: { machineId: string; jobId: string; task: AgentTask }[] = [];

  constructor(options: FakeAgentOptions = {}) {
    this.options = options;
  }

  async task(machine: Machine, jobId: string, task: AgentTask): Promise<AgentResult> {
    const key = `${jobId}/${task}`;
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
    return { status: 'done' };
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
