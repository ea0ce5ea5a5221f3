/**
 * The step handlers. A handler never writes to the store: it returns an outcome (done, wait and
 * ask again, fail) with what it learned about the machine (power, hardware), and the worker
 * persists both under the job's lease — the metal3 habit.
 * Handlers must be idempotent: after a crash the step that was running runs again.
 * Throwing an IngotError with `retryable: true` (BMC unreachable, 5xx) means "retry with backoff".
 */
import type { WakeOn } from './wake.ts';
import { type DiskHealth, DiskHealthSource } from '../core/health.ts';
import { parseSmartctl } from '../core/smartctl.ts';
import type { BmcDriver } from '../bmc/driver.ts';
import { waitForPower } from '../bmc/power-wait.ts';
import { AgentTask, checkInventory } from '../core/agent-protocol.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { NewEvent } from '../core/event.ts';
import type { Job } from '../core/job.ts';
import { STEP_NAMES, type StepName } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { MachineChanges } from '../store/store.ts';
import type { AgentPort } from './agent-port.ts';

/** An event a step wants on a timeline besides its own (a cluster step's note on a member machine). */
export type StepEvent = Omit<NewEvent, 'actor' | 'jobId' | 'clusterId'>;

export type StepOutcome = (
  | { kind: 'done'; message?: string; machine?: MachineChanges }
  | {
      kind: 'wait';
      ms: number;
      message?: string;
      /** Wake before `ms` once this many of these machines' jobs ended in this process (wake.ts). */
      wakeOn?: WakeOn;
    }
  | { kind: 'fail'; reason: string }
) & {
  /** Written by the runner with the step's progress, under the lease. */
  events?: StepEvent[];
};

export interface StepContext {
  readonly machine: Machine;
  readonly job: Job;
  readonly agent: AgentPort;
  bmc(): Promise<BmcDriver>;
}

export interface StepDef {
  /** Holds a per-BMC concurrency slot while it runs. */
  readonly usesBmc: boolean;
  /** For steps that wait: how long before the wait is a failure. */
  readonly timeoutMs?: number;
  run(ctx: StepContext): Promise<StepOutcome>;
}

/**
 * How often a waiting step asks again, and how long a BMC has to report the power state a
 * power step asked for. Overridable for tests and benchmarks.
 */
export const POLL = { agentMs: 2_000, powerMs: 250, powerSettleMs: 30_000 };

/** Reads the power state until it is `want` or `POLL.powerSettleMs` have passed; whether it got there. */
async function settles(bmc: BmcDriver, want: 'on' | 'off'): Promise<boolean> {
  return (await waitForPower(bmc, want, { timeoutMs: POLL.powerSettleMs, intervalMs: POLL.powerMs })).reached;
}

/**
 * A power cycle that returns once the BMC reports the machine on again. BMCs cycle
 * asynchronously (ipmi_sim reads off for about a second, real BMCs for their power-cycle
 * interval): a step that read the power in that window saw "off", so a power-off right after a
 * quick commissioning was skipped and the BMC then powered the machine back on. A BMC still
 * reporting off after `POLL.powerSettleMs` is powered on explicitly. Returns the step's message.
 */
async function cycleUntilOn(bmc: BmcDriver, cycled: string): Promise<string> {
  await bmc.power('cycle');
  if (await settles(bmc, 'on')) return cycled;
  await bmc.power('on');
  return `${cycled}; still off ${POLL.powerSettleMs / 1000} s after the cycle, so powered on`;
}

function agentStep(
  task: AgentTask,
  timeoutMs: number,
  onDone?: (ctx: StepContext, result: unknown) => { message: string; machine: MachineChanges },
): StepDef {
  return {
    usesBmc: false,
    timeoutMs,
    async run(ctx) {
      const r = await ctx.agent.task(ctx.machine, ctx.job.id, task, ctx.job.params);
      if (r.status === 'pending') return { kind: 'wait', ms: POLL.agentMs, message: r.lastMessage };
      if (r.status === 'failed') return { kind: 'fail', reason: `agent ${task} failed: ${r.reason}` };
      return { kind: 'done', ...onDone?.(ctx, r.result) };
    },
  };
}

const min = 60_000;

/**
 * The SMART reports in an inventory (`details.smart[].smartctl`, smartctl's JSON per disk) as
 * disk health records. A report that cannot be kept (no serial: a disk behind a RAID
 * controller) is counted in the step's message, never a failed commissioning.
 */
function diskHealthOf(
  machineId: string,
  details: Record<string, unknown> | undefined,
): { disks: DiskHealth[]; note: string } {
  const entries = Array.isArray(details?.smart) ? (details.smart as unknown[]) : [];
  const disks: DiskHealth[] = [];
  let skipped = 0;
  const at = Date.now();
  for (const e of entries) {
    const json = (e as { smartctl?: unknown } | null)?.smartctl;
    if (json === undefined || json === null) continue;
    try {
      disks.push(parseSmartctl(json, { machineId, at, source: DiskHealthSource.Agent }));
    } catch {
      skipped++;
    }
  }
  const note =
    disks.length || skipped
      ? `, SMART kept for ${disks.length}${skipped ? ` (${skipped} without a serial, not kept)` : ''}`
      : '';
  return { disks, note };
}

export const STEPS: Readonly<Record<StepName, StepDef>> = {
  'set-boot-disk': {
    usesBmc: true,
    async run(ctx) {
      await (await ctx.bmc()).setBootDevice({ device: 'disk', persistent: true });
      return { kind: 'done', message: 'boot device: disk (persistent)' };
    },
  },
  /**
   * Network-boot: the one-time network override, then power on, or reset a machine that is
   * already on. The only step that sets the override, and it sets it on every attempt: a BMC may
   * have used it up on an earlier attempt whose answer never came (timeout, region crash), and a
   * retried power-on must still boot the network, not the disk.
   */
  boot: {
    usesBmc: true,
    async run(ctx) {
      const bmc = await ctx.bmc();
      await bmc.setBootDevice({ device: 'network', persistent: false });
      if ((await bmc.powerState()) !== 'on') {
        await bmc.power('on');
        return { kind: 'done', message: 'powered on', machine: { powerState: 'on' } };
      }
      const message = await cycleUntilOn(bmc, 'was on: power-cycled');
      return { kind: 'done', message, machine: { powerState: 'on' } };
    },
  },
  'power-on': {
    usesBmc: true,
    async run(ctx) {
      const bmc = await ctx.bmc();
      if ((await bmc.powerState()) !== 'on') await bmc.power('on');
      return { kind: 'done', message: 'powered on', machine: { powerState: 'on' } };
    },
  },
  'power-off': {
    usesBmc: true,
    async run(ctx) {
      const bmc = await ctx.bmc();
      if ((await bmc.powerState()) !== 'off') await bmc.power('force-off');
      // Done once the BMC says so: a BMC that accepts a force-off may report it seconds later,
      // and the next step (a network boot) would read "on" and cycle a machine going down.
      if (!(await settles(bmc, 'off')))
        throw new IngotError(
          ErrorCode.BmcError,
          `${bmc.target} does not report power off ${POLL.powerSettleMs / 1000} s after a force-off; check the BMC and the machine's power supply`,
          { retryable: true },
        );
      return { kind: 'done', message: 'powered off', machine: { powerState: 'off' } };
    },
  },
  'power-cycle': {
    usesBmc: true,
    async run(ctx) {
      const bmc = await ctx.bmc();
      if ((await bmc.powerState()) !== 'on') {
        await bmc.power('on');
        return { kind: 'done', message: 'was off: powered on', machine: { powerState: 'on' } };
      }
      const message = await cycleUntilOn(bmc, 'power-cycled');
      return { kind: 'done', message, machine: { powerState: 'on' } };
    },
  },
  'wait-agent': agentStep(AgentTask.Hello, 15 * min),
  inventory: agentStep(AgentTask.Inventory, 10 * min, (ctx, result) => {
    const inv = checkInventory(result);
    // Keep the operator's boot-NIC choice; take everything else the hardware says.
    const boot = new Set(ctx.machine.nics.filter((n) => n.boot).map((n) => n.mac));
    const nics = inv.nics.map((n) => ({ ...n, boot: boot.has(n.mac) }));
    const smart = diskHealthOf(ctx.machine.id, inv.details);
    return {
      message: `${inv.cpu.cores} cores, ${Math.round(inv.memoryBytes / 2 ** 30)} GiB, ${inv.disks.length} disks, ${inv.nics.length} NICs${smart.note}`,
      machine: {
        cpu: inv.cpu,
        memoryBytes: inv.memoryBytes,
        disks: inv.disks,
        nics,
        inventory: { ...inv },
        diskHealth: smart.disks,
      },
    };
  }),
  'hardware-tests': agentStep(AgentTask.Tests, 60 * min),
  'write-image': agentStep(AgentTask.WriteImage, 30 * min),
  'wipe-disks': agentStep(AgentTask.Wipe, 60 * min),
  'wait-os': agentStep(AgentTask.OsBooted, 20 * min),
};

/** The step of a stored job (its names are checked here: a job row is data from the store). */
export function stepDef(name: string): StepDef {
  const d = (STEP_NAMES as readonly string[]).includes(name) ? STEPS[name as StepName] : undefined;
  if (!d) throw new IngotError(ErrorCode.Internal, `unknown workflow step "${name}"`);
  return d;
}
