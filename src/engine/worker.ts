/**
 * The job worker: claims runnable jobs with a lease within the concurrency limits, runs each
 * (job-run.ts: steps in order, retries, fenced writes, the end with the machine's transition)
 * and heartbeats its leases. Every write after the claim is fenced on the lease, so if this
 * process stalls past its lease and another region takes a job over, this one's writes are
 * refused and it drops the job. After kill -9, the jobs it held are taken over when their
 * leases expire and resume at the first unfinished step.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createBmcDriver } from '../bmc/registry.ts';
import type { Store } from '../store/store.ts';
import type { AgentPort } from './agent-port.ts';
import { DEFAULT_LIMITS, isBootHeavy, KeyedCounter, KeyedSemaphores, type Limits } from './limits.ts';
import { isClusterWorkflow } from '../core/cluster-lifecycle.ts';
import { withDefaults } from '../core/defaults.ts';
import { type ClusterEngineOptions, clusterSubject } from './cluster/subject.ts';
import { type BmcFactory, type EngineHooks, type JobRunDeps, type RetryPolicy, runJob } from './job-run.ts';

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
  /** How cluster jobs reach their clusters' APIs; without it the worker runs no cluster job. */
  cluster?: ClusterEngineOptions;
  /**
   * The per-BMC limit's semaphores, when shared with the region's other BMC callers (the health
   * poller, the sensors route). @default one of its own, sized `limits.perBmc`
   */
  bmcs?: KeyedSemaphores;
}

export class Worker {
  readonly owner: string;
  readonly #o: Required<Omit<WorkerOptions, 'owner' | 'limits' | 'retry' | 'hooks' | 'cluster' | 'bmcs'>> & {
    hooks: EngineHooks;
    clusterSubject?: JobRunDeps['clusterSubject'];
  };
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
      clusterSubject: o.cluster ? clusterSubject(o.cluster) : undefined,
    };
    this.#limits = withDefaults(DEFAULT_LIMITS, o.limits);
    this.#retry = withDefaults({ baseMs: 1000, capMs: 60_000, maxAttempts: 5 }, o.retry);
    this.#bmcs = o.bmcs ?? new KeyedSemaphores(this.#limits.perBmc);
  }

  /** The per-BMC limit every BMC call of this region goes through (limits.ts). */
  get bmcs(): KeyedSemaphores {
    return this.#bmcs;
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
        if (isClusterWorkflow(c.kind) && !this.#o.clusterSubject) return false;
        if (!isBootHeavy(c.kind)) return true;
        if (this.#racks.get(c.rack) + pending.get(c.rack) >= this.#limits.perRack) return false;
        pending.add(c.rack, 1);
        return true;
      },
    });
    for (const job of jobs) {
      const heavy = isBootHeavy(job.kind);
      if (heavy) this.#racks.add(job.rack, 1);
      const p = runJob(job, {
        store: this.#o.store,
        agent: this.#o.agent,
        owner: this.owner,
        retry: this.#retry,
        hooks: this.#o.hooks,
        bmcFactory: this.#o.bmcFactory,
        bmcs: this.#bmcs,
        signal: this.#abort.signal,
        halted: () => this.#halted,
        clusterSubject: this.#o.clusterSubject,
      })
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
}
