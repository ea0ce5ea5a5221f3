/**
 * The health poller: on a timer, reads every machine's BMC sensors and SEL through the
 * region's per-BMC limit (the engine's KeyedSemaphores, so polls and jobs together never have
 * more than `perBmc` calls in flight to one BMC), keeps one sample per poll, prunes the history
 * past its retention, and puts a BMC that stops answering on the machine's timeline with its
 * reason (`health.bmc-unreachable`), and its return (`health.bmc-recovered`). A poll that
 * errors or hangs is a sample with `reachable: false` — never a crash, never a silent gap.
 */
import type { BmcDriver, SelEntry } from '../bmc/driver.ts';
import { createBmcDriver } from '../bmc/registry.ts';
import type { NewEvent } from '../core/event.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { HealthSample } from '../core/health.ts';
import { MachineState } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { KeyedSemaphores } from '../engine/limits.ts';
import { bmcHost } from '../store/machines-sql.ts';
import type { Store } from '../store/store.ts';
import { healthEvents, type Known, knownOf } from './events.ts';
import { summarise, unreachable } from './summary.ts';

const PAGE = 500;

export interface HealthPollerOptions {
  readonly store: Store;
  /** The region's per-BMC limit (Worker.bmcs). */
  readonly bmcs: KeyedSemaphores;
  /** Time between rounds; 0 runs no timer (tests call pollOnce). */
  readonly intervalMs: number;
  /** A poll that has not finished by then (queueing for the BMC included) is unreachable. @default 30 s */
  readonly deadlineMs?: number;
  /** History kept. @default 7 days */
  readonly retentionMs?: number;
  /**
   * The raw readings are kept with one sample in this period per machine (and with every
   * sample whose rollup changed); the others keep only their figures, which is what the plots
   * and metrics read. A reading list is ~0.5–2 KiB: kept every minute at 10,000 machines for a
   * week it would be tens of GB. @default 1 hour
   */
  readonly readingsEveryMs?: number;
  /** Machines polled at once across all BMCs. @default 32 */
  readonly concurrency?: number;
  /** Opens a machine's driver. @default the registry, with a 10 s request timeout */
  readonly driver?: (m: Machine, password: string) => BmcDriver;
  readonly log?: { warn(o: object, msg: string): void };
  readonly now?: () => number;
  /**
   * Run after each round's samples are kept: the region's hardware-driven drain looks at the
   * fresh samples and disk reports then (src/engine/cluster/hardware-watch.ts). Its failure is
   * logged, never the round's.
   */
  readonly afterRound?: () => Promise<unknown>;
}

export interface HealthPoller {
  /** One round now; resolves with how many machines answered. */
  pollOnce(): Promise<{ polled: number; answered: number }>;
  /** No more rounds; resolves when the one running (if any) has finished its writes. */
  stop(): Promise<void>;
}

const reasonOf = (e: unknown): string =>
  e instanceof IngotError ? `${e.code}: ${e.message}` : `error: ${(e as Error)?.message ?? String(e)}`;

function deadline<T>(p: Promise<T>, ms: number, target: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new IngotError(
            ErrorCode.BmcUnreachable,
            `BMC ${target} did not answer the health poll within ${ms} ms; check that it is up and reachable from the region`,
            { details: { target, deadlineMs: ms } },
          ),
        ),
      ms,
    );
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

export function startHealthPoller(o: HealthPollerOptions): HealthPoller {
  const now = o.now ?? Date.now;
  const deadlineMs = o.deadlineMs ?? 30_000;
  const retentionMs = o.retentionMs ?? 7 * 24 * 3_600_000;
  const readingsEveryMs = o.readingsEveryMs ?? 3_600_000;
  /** When each machine's readings were last kept. */
  const readingsKept = new Map<string, number>();
  /** Each machine's last sample time: the store keeps one sample per machine per ms. */
  const lastAt = new Map<string, number>();
  const concurrency = o.concurrency ?? 32;
  const open =
    o.driver ??
    ((m: Machine, password: string) =>
      createBmcDriver(
        { address: m.bmc!.address, username: m.bmc!.username, password },
        { timeoutMs: 10_000 },
      ));
  const known = new Map<string, Known>();
  /** Reads still running past their deadline: the BMC hangs; its slots stay held until it lets go. */
  const hanging = new Map<string, number>();
  let seeded = false;
  let stopped = false;

  const read = async (m: Machine): Promise<HealthSample> => {
    const driver = open(m, await o.store.bmcPassword(m));
    try {
      const report = await driver.sensors();
      // The SEL is a bonus: a BMC without one (or refusing it) still gives its sensors.
      const sel: readonly SelEntry[] | null = await driver.eventLog().catch(() => null);
      return summarise(m.id, now(), report, sel);
    } finally {
      await driver.close().catch(() => undefined);
    }
  };

  const pollMachine = async (m: Machine): Promise<HealthSample | null> => {
    const since = hanging.get(m.id);
    if (since !== undefined) {
      return unreachable(
        m.id,
        now(),
        `${ErrorCode.BmcUnreachable}: the previous health poll of BMC ${bmcHost(m.bmc!.address)} has not returned after ${now() - since} ms`,
      );
    }
    const started = now();
    const inner = o.bmcs.run(bmcHost(m.bmc!.address), () => read(m));
    try {
      return await deadline(inner, deadlineMs, bmcHost(m.bmc!.address));
    } catch (e) {
      // A BMC that cannot report sensors at all (fake://) has nothing to poll: no sample.
      if (e instanceof IngotError && e.code === ErrorCode.BmcUnsupported) return null;
      if (e instanceof IngotError && e.details.deadlineMs !== undefined) {
        hanging.set(m.id, started);
        inner.then(
          () => hanging.delete(m.id),
          () => hanging.delete(m.id),
        );
      }
      return unreachable(m.id, now(), reasonOf(e));
    }
  };

  const events = (m: Machine, s: HealthSample): NewEvent[] => {
    const r = healthEvents(m.id, known.get(m.id), s);
    known.set(m.id, r.known);
    return r.events;
  };

  /**
   * The sample with a time after the machine's last: two rounds in the same millisecond (a
   * round on demand right after the timer's, sub-ms writes) would otherwise keep only the first.
   */
  const stamped = (s: HealthSample): HealthSample => {
    const last = lastAt.get(s.machineId);
    const at = last !== undefined && s.at <= last ? last + 1 : s.at;
    lastAt.set(s.machineId, at);
    return at === s.at ? s : { ...s, at };
  };

  /** The sample as kept: its readings only once per `readingsEveryMs`, or when the rollup moved. */
  const thinReadings = (s: HealthSample): HealthSample => {
    if (s.readings.length === 0) return s;
    const last = readingsKept.get(s.machineId);
    if (last === undefined || s.at - last >= readingsEveryMs || known.get(s.machineId)?.health !== s.health) {
      readingsKept.set(s.machineId, s.at);
      return s;
    }
    return { ...s, readings: [] };
  };

  const seed = async () => {
    if (seeded) return;
    for (const { sample } of await o.store.latestHealth()) known.set(sample.machineId, knownOf(sample));
    seeded = true;
  };

  const round = async () => {
    await seed();
    let polled = 0;
    let answered = 0;
    let cursor: string | null = null;
    const seen = new Set<string>();
    do {
      const page = await o.store.listMachines({}, PAGE, cursor);
      const due = page.items.filter((m) => m.bmc !== null && m.state !== MachineState.Retired);
      for (const m of due) seen.add(m.id);
      for (let i = 0; i < due.length; i += concurrency) {
        await Promise.all(
          due.slice(i, i + concurrency).map(async (m) => {
            const polledSample = await pollMachine(m);
            if (!polledSample) return;
            const s = thinReadings(stamped(polledSample));
            polled++;
            if (s.reachable) answered++;
            try {
              if (await o.store.recordHealthSample(s)) {
                const ev = events(m, s);
                if (ev.length) await o.store.appendEvents(ev);
              }
            } catch (e) {
              o.log?.warn({ machine: m.id, err: (e as Error).message }, 'health sample not recorded');
            }
          }),
        );
      }
      cursor = page.next;
    } while (cursor && !stopped);
    if (stopped) return { polled, answered };
    // Forget machines gone (deleted, retired, BMC removed) so the maps stay as big as the fleet.
    for (const map of [known, readingsKept, lastAt])
      for (const id of map.keys()) if (!seen.has(id)) map.delete(id);
    await o.store.pruneHealth(now() - retentionMs);
    await o
      .afterRound?.()
      .catch((e: unknown) => o.log?.warn({ err: (e as Error).message }, 'after the health round: failed'));
    return { polled, answered };
  };

  let running: Promise<{ polled: number; answered: number }> | null = null;
  const pollOnce = () => {
    running ??= round().finally(() => {
      running = null;
    });
    return running;
  };
  const timer =
    o.intervalMs > 0
      ? setInterval(() => {
          pollOnce().catch((e: unknown) =>
            o.log?.warn({ err: (e as Error).message }, 'health poll round failed'),
          );
        }, o.intervalMs)
      : null;
  timer?.unref();
  return {
    pollOnce,
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
