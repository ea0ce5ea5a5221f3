/**
 * Prometheus metrics of a region. Counters fire only after the write they count succeeded
 * (engine hooks); the machine gauge is read from the store at scrape time.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { MACHINE_STATES } from '../core/lifecycle.ts';
import type { EngineHooks } from '../engine/job-run.ts';
import type { Store } from '../store/store.ts';

export interface RegionMetrics {
  readonly registry: Registry;
  readonly hooks: EngineHooks;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** What /metrics answers: the registry's metrics, then each appended writer's, in order. */
  text(): Promise<string>;
  /** Adds metric families written outside the registry (src/health's per-machine gauges). */
  append(write: () => Promise<string>): void;
}

export function createMetrics(store: Store): RegionMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ingot_process_' });
  const transitions = new Counter({
    name: 'ingot_machine_transitions_total',
    help: 'Machine lifecycle transitions committed',
    labelNames: ['from', 'to'],
    registers: [registry],
  });
  const steps = new Histogram({
    name: 'ingot_workflow_step_seconds',
    help: 'Duration of workflow step attempts',
    labelNames: ['step', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'ingot_jobs_finished_total',
    help: 'Jobs finished',
    labelNames: ['kind', 'status'],
    registers: [registry],
  });
  new Gauge({
    name: 'ingot_machines',
    help: 'Machines by lifecycle state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await store.countMachinesByState();
      for (const s of MACHINE_STATES) this.set({ state: s }, counts[s] ?? 0);
    },
  });
  const httpDuration = new Histogram({
    name: 'ingot_http_request_seconds',
    help: 'API request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const writers: (() => Promise<string>)[] = [];
  return {
    registry,
    httpDuration,
    async text() {
      const parts = await Promise.all([registry.metrics(), ...writers.map((w) => w())]);
      return parts.join('\n');
    },
    append: (write) => {
      writers.push(write);
    },
    hooks: {
      transition: (from, to) => transitions.inc({ from, to }),
      step: (name, outcome, ms) => steps.observe({ step: name, outcome }, ms / 1000),
      jobFinished: (kind, status) => jobs.inc({ kind, status }),
    },
  };
}
