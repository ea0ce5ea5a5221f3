/**
 * The job worker: claims runnable jobs with a lease, runs their steps in order, heartbeats
 * its leases, retries failed steps with capped exponential backoff, and commits each job's
 * end together with the machine's transition. Every write after the claim is fenced on the
 * lease, so if this process stalls past its lease and another region takes a job over, this
 * one's writes are refused and it drops the job. After kill -9, the jobs it held are taken
 * over when their leases expire and resume at the first unfinished step.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { BmcDriver } from '../bmc/driver.ts';
import { createBmcDriver } from '../bmc/registry.ts';
import type { NewEvent } from '../core/event.ts';
import { ErrorCode, type IngotError, toIngotError } from '../core/errors.ts';
import { backoffMs, type Job, type JobStep } from '../core/job.ts';
import type { MachineState } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { MachineChanges, Store } from '../store/store.ts';
import type { AgentPort } from './agent-port.ts';
import { jobEnd } from './job-end.ts';
import { DEFAULT_LIMITS, isBootHeavy, KeyedCounter, KeyedSemaphores, type Limits } from './limits.ts';
import { type StepContext, type StepOutcome, stepDef } from './steps.ts';

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

export interface WorkerOptions {
  store: Store;
  agent: AgentPort;
  /** Lease owner id; unique per process. @default host:pid:random */
  owner?: string;
  /** @default 30 seconds */
  leaseMs?: number;
  /** How often to look for new work when idle. @default 500 ms */
  pollMs?: number;
  limits?: Partial<Limits>;
  retry?: Partial<RetryPolicy>;
  bmcFactory?: BmcFactory;
  hooks?: EngineHooks;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

const nowIso = () => new Date().toISOString();

export class Worker {
  readonly owner: string;
  readonly #o: Required<Omit<WorkerOptions, 'owner' | 'limits' | 'retry' | 'hooks'>> & { hooks: EngineHooks };
  readonly #limits: Limits;
  readonly #retry: RetryPolicy;
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #racks = new KeyedCounter();
  readonly #bmcs: KeyedSemaphores;
  #abort = new AbortController();
  #halted = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(o: WorkerOptions) {
    this.owner = o.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.#o = {
      store: o.store,
      agent: o.agent,
      leaseMs: o.leaseMs ?? 30_000,
      pollMs: o.pollMs ?? 500,
      bmcFactory:
        o.bmcFactory ??
        ((m, password) => createBmcDriver({ address: m.bmc!.address, username: m.bmc!.username, password })),
      hooks: o.hooks ?? {},
    };
    this.#limits = { ...DEFAULT_LIMITS, ...o.limits };
    this.#retry = { baseMs: 1000, capMs: 60_000, maxAttempts: 5, ...o.retry };
    this.#bmcs = new KeyedSemaphores(this.#limits.perBmc);
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#loop = this.#run();
    this.#heartbeat = setInterval(
      () => {
        this.#o.store.heartbeat(this.owner, this.#o.leaseMs).catch(() => undefined);
      },
      Math.max(50, Math.floor(this.#o.leaseMs / 3)),
    );
  }

  /** Looks for work now instead of at the next poll (called after a job was queued). */
  nudge(): void {
    this.#wake?.();
  }

  /**
   * Stops dead, as a crash would: no more writes, leases left to expire (tests and chaos
   * drills; a region shuts down with stop()).
   */
  async halt(): Promise<void> {
    this.#halted = true;
    this.#abort.abort();
    this.#wake?.();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    await this.#loop;
    this.#loop = null;
    await Promise.allSettled([...this.#inflight.values()]);
  }

  /** Stops claiming, gives back held leases so another region continues at once, waits for steps to stop. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    await this.#loop;
    this.#loop = null;
    await Promise.allSettled([...this.#inflight.values()]);
    await this.#o.store.releaseLeases(this.owner).catch(() => undefined);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let claimed = 0;
      try {
        claimed = await this.#claim();
      } catch {
        // Store unreachable: try again at the next poll; held jobs keep running on their own.
      }
      if (signal.aborted) break;
      if (claimed > 0 && this.#inflight.size < this.#limits.global) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.#o.pollMs);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  async #claim(): Promise<number> {
    const room = this.#limits.global - this.#inflight.size;
    if (room <= 0) return 0;
    const pending = new KeyedCounter();
    const jobs = await this.#o.store.claimJobs({
      owner: this.owner,
      leaseMs: this.#o.leaseMs,
      limit: Math.min(room, 200),
      accept: (c) => {
        if (this.#inflight.has(c.id)) return false;
        if (!isBootHeavy(c.kind)) return true;
        if (this.#racks.get(c.rack) + pending.get(c.rack) >= this.#limits.perRack) return false;
        pending.add(c.rack, 1);
        return true;
      },
    });
    for (const job of jobs) {
      const heavy = isBootHeavy(job.kind);
      if (heavy) this.#racks.add(job.rack, 1);
      const p = this.#runJob(job)
        .catch(() => undefined)
        .finally(() => {
          this.#inflight.delete(job.id);
          if (heavy) this.#racks.add(job.rack, -1);
          this.nudge();
        });
      this.#inflight.set(job.id, p);
    }
    return jobs.length;
  }

  async #runJob(job: Job): Promise<void> {
    const { store, hooks } = this.#o;
    const signal = this.#abort.signal;
    const actor = `engine:${this.owner}`;
    const steps: JobStep[] = job.steps.map((s) => ({ ...s }));
    let idx = job.stepIndex;
    const scratch = { ...job.scratch };
    const ev = (e: Omit<NewEvent, 'actor' | 'machineId' | 'jobId'>): NewEvent => ({
      ...e,
      actor,
      machineId: job.machineId,
      jobId: job.id,
    });
    const pendingEvents: NewEvent[] = [];
    if (idx < steps.length && steps[idx].startedAt !== null) {
      pendingEvents.push(
        ev({
          type: 'job.resumed',
          level: 'warning',
          message: `${job.kind} resumed at step ${steps[idx].name} by ${this.owner}`,
        }),
      );
    }
    let driver: BmcDriver | null = null;
    try {
      while (idx < steps.length) {
        if (signal.aborted) return;
        const machine = await store.getMachine(job.machineId);
        const step = steps[idx];
        const def = stepDef(step.name);
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
        const ctx: StepContext = {
          machine,
          job,
          agent: this.#o.agent,
          bmc: async () => {
            if (!driver) driver = this.#o.bmcFactory(machine, await store.bmcPassword(machine));
            return driver;
          },
        };
        const t0 = Date.now();
        let outcome: StepOutcome;
        let error: IngotError | null = null;
        try {
          outcome = def.usesBmc ? await this.#bmcs.run(job.bmcHost, () => def.run(ctx)) : await def.run(ctx);
        } catch (e) {
          error = toIngotError(e);
          outcome = error.retryable ? { kind: 'wait', ms: 0 } : { kind: 'fail', reason: error.message };
        }

        if (error?.retryable) {
          hooks.step?.(step.name, 'retry', Date.now() - t0);
          if (step.attempts >= this.#retry.maxAttempts) {
            outcome = { kind: 'fail', reason: `${error.message} (gave up after ${step.attempts} attempts)` };
          } else {
            const delay = backoffMs(step.attempts, this.#retry.baseMs, this.#retry.capMs, Math.random());
            step.error = error.message;
            pendingEvents.push(
              ev({
                type: 'step.retry',
                level: 'warning',
                message: `${step.name} attempt ${step.attempts}/${this.#retry.maxAttempts} failed: ${error.message}; retrying in ${Math.round(delay / 100) / 10} s`,
                data: { step: step.name, attempt: step.attempts, code: error.code },
              }),
            );
            if (!(await this.#save(job, idx, steps, Date.now() + delay, scratch, pendingEvents))) return;
            await sleep(delay, signal);
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
              !(await this.#save(job, idx, steps, Date.now() + outcome.ms, scratch, pendingEvents))
            )
              return;
            await sleep(outcome.ms, signal);
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
              await this.#finish(job, machine, 'done', null, ended, next, written, outcome.machine);
              hooks.step?.(step.name, 'done', Date.now() - t0);
              return;
            }
            if (!(await this.#save(job, next, ended, Date.now(), scratch, written, outcome.machine))) return;
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
        await this.#finish(job, machine, 'failed', outcome.reason, steps, idx, pendingEvents);
        return;
      }
    } finally {
      await (driver as BmcDriver | null)?.close().catch(() => undefined);
    }
  }

  /** Persists progress with the events gathered so far; false means the lease is gone. */
  async #save(
    job: Job,
    idx: number,
    steps: JobStep[],
    runAfter: number,
    scratch: Record<string, unknown>,
    events: NewEvent[],
    machine?: MachineChanges,
  ): Promise<boolean> {
    if (this.#halted) return false;
    return this.#o.store.saveJobProgress(
      job.id,
      this.owner,
      { stepIndex: idx, steps, runAfter, scratch, machine },
      events.splice(0),
    );
  }

  async #finish(
    job: Job,
    machine: Machine,
    status: 'done' | 'failed',
    error: string | null,
    steps: JobStep[],
    idx: number,
    events: NewEvent[],
    changes?: MachineChanges,
  ): Promise<void> {
    if (this.#halted) return;
    const { transition, event } = jobEnd(job, machine, status, error, `engine:${this.owner}`, nowIso());
    events.push(event);
    const ok = await this.#o.store.finishJob(job.id, this.owner, {
      status,
      error,
      steps,
      stepIndex: idx,
      transition,
      machine: changes,
      events,
    });
    if (ok) {
      this.#o.hooks.jobFinished?.(job.kind, status);
      if (transition) this.#o.hooks.transition?.(transition.from, transition.to);
    }
  }
}
