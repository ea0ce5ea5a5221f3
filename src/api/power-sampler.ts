/**
 * Samples every machine's BMC sensors on a timer so the cost model's average watts rest on
 * regular readings, not only on when someone opened a machine page. It reads through the
 * sensors route's reader and cache (one BMC read serves both; each fresh read records the
 * system's power, one a minute per machine at most). A BMC that cannot report sensors
 * (`fake://`), or does not answer, is skipped until the next round.
 */
import type { FastifyBaseLogger } from 'fastify';
import { MachineState } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { Store } from '../store/store.ts';

const PAGE = 500;
/** BMC reads in flight at once: the per-BMC limit of the engine is 4, and a BMC is usually one machine. */
const CONCURRENCY = 4;

export interface PowerSampler {
  /** One round now (tests); resolves when every machine was tried. */
  sampleOnce(): Promise<number>;
  stop(): void;
}

export function startPowerSampler(o: {
  store: Store;
  read: (m: Machine, log: FastifyBaseLogger) => Promise<unknown>;
  intervalMs: number;
  log: FastifyBaseLogger;
}): PowerSampler {
  let running: Promise<number> | null = null;
  const round = async (): Promise<number> => {
    let read = 0;
    let cursor: string | null = null;
    do {
      const page = await o.store.listMachines({}, PAGE, cursor);
      const due = page.items.filter((m) => m.bmc !== null && m.state !== MachineState.Retired);
      for (let i = 0; i < due.length; i += CONCURRENCY) {
        const results = await Promise.allSettled(due.slice(i, i + CONCURRENCY).map((m) => o.read(m, o.log)));
        read += results.filter((r) => r.status === 'fulfilled').length;
      }
      cursor = page.next;
    } while (cursor);
    return read;
  };
  const sampleOnce = () => {
    running ??= round().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => {
    sampleOnce().catch((e: unknown) =>
      o.log.warn({ err: (e as Error).message }, 'power sampling round failed'),
    );
  }, o.intervalMs);
  timer.unref();
  return { sampleOnce, stop: () => clearInterval(timer) };
}
