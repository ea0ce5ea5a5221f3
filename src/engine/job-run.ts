/**
 * One job, run by the worker that holds its lease — a machine's workflow or a cluster's (its
 * RunSubject binds the steps and says how the end moves it): its steps in order, each retried with capped
 * exponential backoff when it throws a retryable error, polled again while it waits (for the
 * agent), timed out past its step's limit. After each step the progress, its events and what
 * the step learned about the machine are written fenced on the lease; the job's end is
 * committed with the machine's transition. A write the lease no longer allows ends the run.
 */
import type { BmcDriver } from '../bmc/driver.ts';
import type { NewEvent } from '../core/event.ts';
import { ErrorCode, IngotError, toIngotError } from '../core/errors.ts';
import { backoffMs, type Job, type JobStep } from '../core/job.ts';
import type { MachineState, WorkflowKind } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { JobFinish, MachineChanges, Store } from '../store/store.ts';
import type { AgentPort } from './agent-port.ts';
import { jobEnd } from './job-end.ts';
import type { KeyedSemaphores } from './limits.ts';
import { type StepContext, type StepOutcome, stepDef } from './steps.ts';
import { machineJobEnded, sleepOrWake } from './wake.ts';

export interface RetryPolicy {
  /** @default 1000 */
  baseMs: number;
  /** @default 60000 */
  capMs: number;
  /** Attempts per step before the job fails. @default 5 */
  maxAttempts: number;
}

export interface EngineHooks {
  /** Called after a transition was committed. */
  transition?(from: MachineState, to: MachineState): void;
  step?(name: string, outcome: 'done' | 'retry' | 'failed', ms: number): void;
  jobFinished?(kind: string, status: 'done' | 'failed'): void;
}

export type BmcFactory = (machine: Machine, password: string) => BmcDriver;

/** What a job run needs from its worker. */
export interface JobRunDeps {
  store: Store;
  agent: AgentPort;
  /** The worker's lease owner id. */
  owner: string;
  retry: RetryPolicy;
  hooks: EngineHooks;
  bmcFactory: BmcFactory;
  /** Per-BMC-host concurrency slots, shared by the worker's jobs. */
  bmcs: KeyedSemaphores;
  /** Aborted when the worker stops: the run ends at the next step. */
  signal: AbortSignal;
  /** The worker was halted (a simulated crash): write nothing more. */
  halted(): boolean;
  /** Binds a cluster job to its cluster (src/engine/cluster); without it cluster jobs are not run. */
  clusterSubject?: (job: Job, d: JobRunDeps) => RunSubject;
}

const nowIso = () => new Date().toISOString();

export async function runJob(job: Job, d: JobRunDeps): Promise<void> {
  const { hooks } = d;
  const signal = d.signal;
  const actor = `engine:${d.owner}`;
  const steps: JobStep[] = job.steps.map((s) => ({ ...s }));
  let idx = job.stepIndex;
  const scratch = { ...job.scratch };
  const ev = (e: Omit<NewEvent, 'actor' | 'machineId' | 'jobId'>): NewEvent => ({
    ...e,
    actor,
    machineId: job.machineId,
    clusterId: job.clusterId,
    jobId: job.id,
  });
  const pendingEvents: NewEvent[] = [];
  if (idx < steps.length && steps[idx].startedAt !== null) {
    pendingEvents.push(
      ev({
        type: 'job.resumed',
        level: 'warning',
        message: `${job.kind} resumed at step ${steps[idx].name} by ${d.owner}`,
      }),
    );
  }
  const subject = job.clusterId !== null ? d.clusterSubject?.(job, d) : machineSubject(job, d);
  if (!subject)
    throw new IngotError(ErrorCode.Internal, `job ${job.id} (${job.kind}) has no subject this worker runs`);
  try {
    while (idx < steps.length) {
      if (signal.aborted) return;
      const step = steps[idx];
      const def = await subject.step(step.name);
      if (step.startedAt === null) {
        step.startedAt = nowIso();
        pendingEvents.push(
          ev({
            type: 'step.started',
            message: `${step.name} started`,
            data: { step: step.name, index: idx },
          }),
        );
      }
      step.attempts++;
      const t0 = Date.now();
      let outcome: StepOutcome;
      let error: IngotError | null = null;
      try {
        outcome = def.usesBmc ? await d.bmcs.run(job.bmcHost, () => def.run()) : await def.run();
      } catch (e) {
        error = toIngotError(e);
        outcome = error.retryable ? { kind: 'wait', ms: 0 } : { kind: 'fail', reason: error.message };
      }

      for (const e of outcome.events ?? [])
        pendingEvents.push({ ...ev(e), machineId: e.machineId ?? job.machineId });

      if (error?.retryable) {
        hooks.step?.(step.name, 'retry', Date.now() - t0);
        if (step.attempts >= d.retry.maxAttempts) {
          outcome = { kind: 'fail', reason: `${error.message} (gave up after ${step.attempts} attempts)` };
        } else {
          const delay = backoffMs(step.attempts, d.retry.baseMs, d.retry.capMs, Math.random());
          step.error = error.message;
          pendingEvents.push(
            ev({
              type: 'step.retry',
              level: 'warning',
              message: `${step.name} attempt ${step.attempts}/${d.retry.maxAttempts} failed: ${error.message}; retrying in ${Math.round(delay / 100) / 10} s`,
              data: { step: step.name, attempt: step.attempts, code: error.code },
            }),
          );
          if (!(await save(d, job, idx, steps, Date.now() + delay, scratch, pendingEvents))) return;
          await sleepOrWake(delay, signal);
          continue;
        }
      }

      if (outcome.kind === 'wait') {
        step.attempts--; // waiting for the agent is not a failed attempt
        const waited = Date.now() - Date.parse(step.startedAt);
        if (def.timeoutMs !== undefined && waited > def.timeoutMs) {
          outcome = {
            kind: 'fail',
            reason: `${step.name} timed out after ${Math.round(waited / 1000)} s${outcome.message ? ` (last: ${outcome.message})` : ''}; check the boot steps on the timeline and the console`,
          };
        } else {
          if (outcome.message && outcome.message !== scratch.lastMessage) {
            scratch.lastMessage = outcome.message;
            pendingEvents.push(
              ev({
                type: 'step.progress',
                message: `${step.name}: ${outcome.message}`,
                data: { step: step.name },
              }),
            );
          }
          if (
            pendingEvents.length > 0 &&
            !(await save(d, job, idx, steps, Date.now() + outcome.ms, scratch, pendingEvents))
          )
            return;
          await sleepOrWake(outcome.ms, signal, outcome.wakeOn);
          continue;
        }
      }

      if (outcome.kind === 'done') {
        // The step's end, what it learned about the machine and the next step's start: one
        // write under the lease. Machine changes the store refuses (a MAC another machine
        // has) fail the step instead; nothing of it is written.
        const next = idx + 1;
        const at = nowIso();
        const written = [
          ...pendingEvents,
          ev({
            type: 'step.completed',
            message: `${step.name} done${outcome.message ? `: ${outcome.message}` : ''}`,
            data: { step: step.name, ms: Date.parse(at) - Date.parse(step.startedAt) },
          }),
        ];
        if (next < steps.length)
          written.push(
            ev({
              type: 'step.started',
              message: `${steps[next].name} started`,
              data: { step: steps[next].name, index: next },
            }),
          );
        const ended = steps.map((x, i) =>
          i === idx ? { ...x, endedAt: at, error: null } : i === next ? { ...x, startedAt: at } : x,
        );
        delete scratch.lastMessage;
        try {
          if (next === steps.length) {
            await finish(d, job, subject, 'done', null, ended, next, written, outcome.machine);
            hooks.step?.(step.name, 'done', Date.now() - t0);
            return;
          }
          if (!(await save(d, job, next, ended, Date.now(), scratch, written, outcome.machine))) return;
        } catch (e) {
          error = toIngotError(e);
          if (!outcome.machine || error.retryable || error.code === ErrorCode.Internal) throw e;
          outcome = { kind: 'fail', reason: `the store refused what ${step.name} found: ${error.message}` };
        }
        if (outcome.kind === 'done') {
          hooks.step?.(step.name, 'done', Date.now() - t0);
          steps.splice(0, steps.length, ...ended);
          pendingEvents.length = 0;
          idx = next;
          continue;
        }
      }

      // fail
      hooks.step?.(step.name, 'failed', Date.now() - t0);
      step.error = outcome.reason;
      step.endedAt = nowIso();
      pendingEvents.push(
        ev({
          type: 'step.failed',
          level: 'error',
          message: `${step.name} failed: ${outcome.reason}`,
          data: { step: step.name, code: error?.code },
        }),
      );
      await finish(d, job, subject, 'failed', outcome.reason, steps, idx, pendingEvents);
      return;
    }
  } finally {
    await subject.close();
  }
}

/** A step bound to its subject as it is now (the machine re-read before each attempt). */
export interface BoundStep {
  /** Holds a per-BMC concurrency slot while it runs. */
  readonly usesBmc: boolean;
  /** For steps that wait: how long before the wait is a failure. */
  readonly timeoutMs?: number;
  run(): Promise<StepOutcome>;
}

/**
 * What a job's subject — a machine, a cluster — gives the run: each step bound to it, and how
 * the job's end moves it (committed with the end, compare-and-set on its running state).
 */
export interface RunSubject {
  step(name: string): Promise<BoundStep>;
  end(
    status: 'done' | 'failed',
    error: string | null,
    actor: string,
    now: string,
  ): Promise<Pick<JobFinish, 'transition' | 'cluster'> & { event: NewEvent }>;
  close(): Promise<void>;
}

/** A machine job's subject: its steps from steps.ts, its end from the lifecycle table. */
function machineSubject(job: Job, d: JobRunDeps): RunSubject {
  const machineId = job.machineId!;
  let driver: BmcDriver | null = null;
  let machine: Machine | null = null;
  return {
    async step(name) {
      const def = stepDef(name);
      const m = await d.store.getMachine(machineId);
      machine = m;
      const ctx: StepContext = {
        machine: m,
        job,
        agent: d.agent,
        bmc: async () => {
          if (!driver) driver = d.bmcFactory(m, await d.store.bmcPassword(m));
          return driver;
        },
      };
      return { usesBmc: def.usesBmc, timeoutMs: def.timeoutMs, run: () => def.run(ctx) };
    },
    async end(status, error, actor, now) {
      const m = machine ?? (await d.store.getMachine(machineId));
      return jobEnd({ ...job, kind: job.kind as WorkflowKind }, m, status, error, actor, now);
    },
    async close() {
      await (driver as BmcDriver | null)?.close().catch(() => undefined);
    },
  };
}

/** Persists progress with the events gathered so far; false means the lease is gone. */
async function save(
  d: JobRunDeps,
  job: Job,
  idx: number,
  steps: JobStep[],
  runAfter: number,
  scratch: Record<string, unknown>,
  events: NewEvent[],
  machine?: MachineChanges,
): Promise<boolean> {
  if (d.halted()) return false;
  return d.store.saveJobProgress(
    job.id,
    d.owner,
    { stepIndex: idx, steps, runAfter, scratch, machine },
    events.splice(0),
  );
}

async function finish(
  d: JobRunDeps,
  job: Job,
  subject: RunSubject,
  status: 'done' | 'failed',
  error: string | null,
  steps: JobStep[],
  idx: number,
  events: NewEvent[],
  changes?: MachineChanges,
): Promise<void> {
  if (d.halted()) return;
  const { transition, cluster, event } = await subject.end(status, error, `engine:${d.owner}`, nowIso());
  events.push(event);
  const ok = await d.store.finishJob(job.id, d.owner, {
    status,
    error,
    steps,
    stepIndex: idx,
    transition,
    cluster,
    machine: changes,
    events,
  });
  if (ok) {
    d.hooks.jobFinished?.(job.kind, status);
    if (transition) d.hooks.transition?.(transition.from, transition.to);
    // A step of this region waiting on this machine's job (a cluster's deploy-nodes) goes on now.
    machineJobEnded(job.machineId);
  }
}
