/**
 * The store-backed AgentPort: the engine's questions become rows in `agent_tasks` (one per job
 * and task, so asking twice never runs a task twice), the agent in the machine's ephemeral OS
 * long-polls the rack's boot HTTP server for them and reports progress and results there
 * (src/netboot/http/agent-tasks.ts). Nothing here blocks: each ask reads the row.
 *
 * - `hello` is done when this job's boot phoned home (`agent.hello` with the job's id).
 * - `os-booted` is done when the deployed OS phones home (cloud-init phone_home to
 *   `/agent/v1/os-booted/<token>`); the ephemeral agent never sees it.
 * - A started task the agent stops talking about for `silenceMs` (its progress lines are
 *   heartbeats), or a task no agent picks up within `pickupMs`, fails with the last thing the
 *   agent said — a VM killed mid-deploy ends in failed_deploying long before the watchdog.
 */
import {
  AgentTask,
  HELLO_EVENT,
  type ImageSpec,
  type InventoryParams,
  isImageSpec,
  NODE_TASKS,
  type TestsParams,
  type WipeParams,
  type WriteImageParams,
} from '../core/agent-protocol.ts';
import { HARDWARE_TESTS, type HardwareTest, type WipeMode } from '../core/action-params.ts';
import type { Machine } from '../core/machine.ts';
import {
  BOOTSTRAP_ROLES,
  type BootstrapParams,
  type BootstrapRole,
  NODE_HEARTBEAT_JOURNAL,
} from '../core/node-agent-protocol.ts';
import type { AgentTaskRow, Store } from '../store/store.ts';
import type { AgentPort, AgentResult } from './agent-port.ts';
import { notPickedUp, openedResult } from './sealed-result.ts';

/** What the agent does per machine, by pool: tests to run and how to wipe. */
export interface AgentPolicy {
  tests?: HardwareTest[];
  /** CPU stress length. @default 30 */
  cpuSeconds?: number;
  /** MiB read by the disk read check, per disk (0 = the whole disk). @default 256 */
  diskReadMiB?: number;
  /** MiB tested by the memory check. @default 64 */
  memoryMiB?: number;
  /** How long after boot the inventory listens for LLDP (switches send every 30 s). @default 35 */
  lldpSeconds?: number;
  /** quick: signatures plus first/last MiB; secure: blkdiscard, else a full overwrite. @default quick */
  wipe?: WipeMode;
}

export interface AgentTasksPortOptions {
  /** A started task with no word from the agent for this long fails. @default 120 s */
  silenceMs?: number;
  /** A task no agent picked up this long after it was asked for fails. @default 180 s */
  pickupMs?: number;
  policy?: { default?: AgentPolicy; pools?: Record<string, AgentPolicy> };
  /** Resolves a named image (`params.image` as a string) to what the agent streams. */
  resolveImage?: (name: string, machine: Machine) => Promise<ImageSpec | null>;
  now?: () => number;
}

const TEST_TAG = 'agent-test.';

/** The effective policy: job params > machine tags (`agent-test.cpu`, `wipe.secure`) > pool > default. */
export function policyFor(
  machine: Machine,
  params: Record<string, unknown> | undefined,
  o: AgentTasksPortOptions['policy'] = {},
): Required<AgentPolicy> {
  const base: Required<AgentPolicy> = {
    tests: [],
    cpuSeconds: 30,
    diskReadMiB: 256,
    memoryMiB: 64,
    lldpSeconds: 35,
    wipe: 'quick',
    ...o.default,
    ...o.pools?.[machine.pool],
  };
  const tagTests = machine.tags
    .filter((t) => t.startsWith(TEST_TAG))
    .map((t) => t.slice(TEST_TAG.length))
    .filter((t): t is HardwareTest => (HARDWARE_TESTS as readonly string[]).includes(t));
  if (tagTests.length) base.tests = tagTests;
  if (machine.tags.includes('wipe.secure')) base.wipe = 'secure';
  const p = params ?? {};
  if (Array.isArray(p.tests))
    base.tests = p.tests.filter((t): t is HardwareTest => HARDWARE_TESTS.includes(t));
  else if (typeof p.tests === 'string')
    base.tests = p.tests
      .split(',')
      .map((t) => t.trim())
      .filter((t): t is HardwareTest => (HARDWARE_TESTS as readonly string[]).includes(t));
  for (const k of ['cpuSeconds', 'diskReadMiB', 'memoryMiB', 'lldpSeconds'] as const)
    if (typeof p[k] === 'number' && Number.isFinite(p[k]) && (p[k] as number) >= 0) base[k] = p[k] as number;
  if (p.wipe === 'quick' || p.wipe === 'secure') base.wipe = p.wipe;
  return base;
}

export class AgentTasksPort implements AgentPort {
  readonly #store: () => Store;
  readonly #o: AgentTasksPortOptions;

  constructor(store: () => Store, o: AgentTasksPortOptions = {}) {
    this.#store = store;
    this.#o = o;
  }

  /** What the task row carries for the agent: the effective choices, not the raw job params. */
  async #taskParams(
    machine: Machine,
    task: AgentTask,
    params: Record<string, unknown> | undefined,
  ): Promise<Record<string, unknown> | string> {
    const policy = policyFor(machine, params, this.#o.policy);
    switch (task) {
      case AgentTask.Tests:
        return {
          tests: policy.tests,
          cpuSeconds: policy.cpuSeconds,
          diskReadMiB: policy.diskReadMiB,
          memoryMiB: policy.memoryMiB,
        } satisfies TestsParams;
      case AgentTask.Inventory:
        return { lldpSeconds: policy.lldpSeconds } satisfies InventoryParams;
      case AgentTask.Wipe:
        return { mode: policy.wipe } satisfies WipeParams;
      case AgentTask.WriteImage: {
        const img = params?.image;
        let spec: ImageSpec | null = null;
        if (isImageSpec(img)) spec = img;
        else if (typeof img === 'string' && this.#o.resolveImage)
          spec = await this.#o.resolveImage(img, machine);
        if (!spec)
          return typeof img === 'string'
            ? `image "${img}" is unknown to this region; list images with \`ingot image ls\``
            : 'deploy needs params.image: an image name or {artifact|url, sha256, format}';
        // Only the protocol's fields (an inline spec may carry others); undefined ones are not stored.
        const { url, artifact, sha256, format, compression, sizeBytes, imageName } = spec;
        const disk = typeof params?.disk === 'string' ? params.disk : '';
        const networkConfig = typeof params?.networkConfig === 'string' ? params.networkConfig : undefined;
        return {
          url,
          artifact,
          sha256,
          format,
          compression,
          sizeBytes,
          imageName,
          disk,
          networkConfig,
        } satisfies WriteImageParams;
      }
      case AgentTask.Bootstrap: {
        const role = params?.role;
        if (!(BOOTSTRAP_ROLES as readonly unknown[]).includes(role) || typeof params?.script !== 'string')
          return 'bootstrap needs params.role (init, control-plane or worker) and params.script';
        // An empty script only reads how an earlier ask went (the task is keyed by job and
        // machine): with none asked in this job there is nothing to read, and a node agent
        // handed an empty script could only fail with "the task has no bootstrap script".
        if (params.script === '')
          return `no ${role} bootstrap was asked of ${machine.hostname} in this job: nothing to read (ask it with its script first)`;
        return { role: role as BootstrapRole, script: params.script } satisfies BootstrapParams;
      }
      default:
        return {};
    }
  }

  async task(
    machine: Machine,
    jobId: string,
    task: AgentTask,
    params?: Record<string, unknown>,
  ): Promise<AgentResult> {
    const store = this.#store();
    if (task === AgentTask.Hello) {
      const ev = await store.listEvents({ machineId: machine.id, jobId, limit: 1000 });
      return ev.some((e) => e.type === HELLO_EVENT)
        ? { status: 'done' }
        : { status: 'pending', lastMessage: 'waiting for the ephemeral OS to phone home' };
    }
    let row = await store.findAgentTask(jobId, task, machine.id);
    if (!row) {
      const p = await this.#taskParams(machine, task, params);
      if (typeof p === 'string') return { status: 'failed', reason: p };
      row = await store.ensureAgentTask({ machineId: machine.id, jobId, name: task, params: p });
    }
    return this.#answer(row);
  }

  async #answer(row: AgentTaskRow): Promise<AgentResult> {
    if (row.status === 'done') return { status: 'done', result: await openedResult(this.#store(), row) };
    if (row.status === 'failed')
      return { status: 'failed', reason: row.reason ?? 'the agent gave no reason' };
    const now = (this.#o.now ?? Date.now)();
    if (row.name === AgentTask.OsBooted)
      return {
        status: 'pending',
        lastMessage: 'waiting for the deployed OS to phone home (cloud-init phone_home)',
      };
    if (row.status === 'running') {
      const lastWord = row.heartbeatAt ?? row.startedAt ?? row.createdAt;
      const quiet = now - lastWord;
      if (quiet > (this.#o.silenceMs ?? 120_000))
        return { status: 'failed', reason: silenceReason(row, quiet, lastWord) };
      return { status: 'pending', lastMessage: row.lastMessage ?? `${row.name} started` };
    }
    const waited = now - row.createdAt;
    if (waited > (this.#o.pickupMs ?? 180_000))
      return {
        status: 'failed',
        reason: notPickedUp(row.name, Math.round(waited / 1000)),
      };
    return { status: 'pending', lastMessage: `waiting for the agent to pick up ${row.name}` };
  }
}

/**
 * Why a running task failed for silence: how long, since when (the rack's clock), the agent's
 * last words, and where the node's side is (a node agent journals each heartbeat with its error
 * and timings, and writes failed ones to the serial console: src/agent/node/tasks/heartbeat.sh).
 */
export function silenceReason(row: AgentTaskRow, quietMs: number, lastWordAt: number): string {
  const last = row.lastMessage ? `: ${row.lastMessage}` : '';
  const where = NODE_TASKS.includes(row.name as AgentTask)
    ? `; the node journals each heartbeat and its error in ${NODE_HEARTBEAT_JOURNAL} and writes failed ones to its serial console`
    : "; check the machine's console and power";
  return `the agent went silent during ${row.name}: no word for ${Math.round(quietMs / 1000)} s, since ${new Date(lastWordAt).toISOString()}${last}${where}`;
}

/**
 * The agent port of a region: machines on the in-memory `fake://` BMC are simulated end to end
 * (`simulated`; nothing boots), every other machine is driven through its real agent.
 */
export function agentRegionPort(
  store: () => Store,
  simulated: AgentPort,
  options: AgentTasksPortOptions = {},
): AgentPort {
  const real = new AgentTasksPort(store, {
    resolveImage: (name) => registeredImage(store(), name),
    ...options,
  });
  return {
    task(machine, jobId, task, params) {
      const fake = machine.bmc?.address.startsWith('fake://') ?? true;
      return (fake ? simulated : real).task(machine, jobId, task, params);
    },
  };
}

/** A ready image of the region's registry (migration 5) as write-image needs it. */
export async function registeredImage(store: Store, name: string): Promise<ImageSpec | null> {
  const img = await store.getImage(name).catch(() => null);
  if (img?.status !== 'ready' || !img.sha256) return null;
  return {
    imageName: img.name,
    artifact: img.path,
    sha256: img.sha256,
    format: img.format,
    compression: img.compression,
    sizeBytes: img.virtualSize ?? img.size ?? undefined,
  };
}
