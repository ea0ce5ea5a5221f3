/**
 * GET /api/v1/machines/{id}/sensors: the machine's sensor readings, read live from its BMC
 * through its driver. Answers are kept a few seconds per machine (and concurrent requests
 * share one read), so a page polling from several browsers reads the BMC at most once per
 * cache period. A failed read is kept as long, so an unreachable BMC is not hammered either.
 * Reads go through the region's per-BMC limit (the engine's), like every other BMC call.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { Type } from 'typebox';
import type { SensorReport } from '../../bmc/driver.ts';
import { createBmcDriver, type DriverOptions } from '../../bmc/registry.ts';
import { systemWatts } from '../../bmc/system-watts.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Machine } from '../../core/machine.ts';
import type { KeyedSemaphores } from '../../engine/limits.ts';
import { bmcHost } from '../../store/machines-sql.ts';
import type { Store } from '../../store/store.ts';
import { errorResponses, IdParams, SensorReadingsT } from '../schemas/index.ts';

export type SensorAnswer = SensorReport & { readonly readAt: string };

/** How long one read of a machine's BMC answers for. */
export const SENSOR_CACHE_MS = 5000;

/**
 * A live page read should fail fast: one retry and a short timeout, where the engine's steps
 * use the driver's defaults (10 s, 3 retries). RedfishDriverOptions takes `retries`.
 */
const LIVE_READ: DriverOptions & { retries: number } = { timeoutMs: 5000, retries: 1 };

interface Entry {
  /** Which BMC the entry was read from: a changed address, user or password is a new read. */
  readonly key: string;
  readonly answer: Promise<SensorAnswer>;
  /** When the read finished (ms); null while it is in flight. */
  doneAt: number | null;
}

/** Per-machine cache of sensor reads; `now` is injectable for tests. */
export class SensorCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(o: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = o.ttlMs ?? SENSOR_CACHE_MS;
    this.#now = o.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached answer for `machineId` read from BMC `key`, or a new read through `read`. */
  get(machineId: string, key: string, read: () => Promise<SensorReport>): Promise<SensorAnswer> {
    const now = this.#now();
    const hit = this.#entries.get(machineId);
    if (hit && hit.key === key && (hit.doneAt === null || now - hit.doneAt < this.#ttlMs)) return hit.answer;
    this.#sweep(now);
    const entry: Entry = {
      key,
      doneAt: null,
      answer: read().then((report) => ({ ...report, readAt: new Date(this.#now()).toISOString() })),
    };
    entry.answer.then(
      () => {
        entry.doneAt = this.#now();
      },
      () => {
        entry.doneAt = this.#now();
      },
    );
    this.#entries.set(machineId, entry);
    return entry.answer;
  }

  /** Drops finished entries past their time, so the map holds only machines being watched. */
  #sweep(now: number): void {
    for (const [id, e] of this.#entries) {
      if (e.doneAt !== null && now - e.doneAt >= this.#ttlMs) this.#entries.delete(id);
    }
  }
}

/**
 * One live read, through the region's per-BMC limit when given (the engine's semaphores: a page
 * read waits its turn behind the jobs and health polls talking to the same BMC).
 */
async function readSensors(store: Store, m: Machine, bmcs: KeyedSemaphores | null): Promise<SensorReport> {
  if (bmcs) return bmcs.run(bmcHost(m.bmc!.address), () => readSensors(store, m, null));
  const bmc = m.bmc!;
  const driver = createBmcDriver(
    { address: bmc.address, username: bmc.username, password: await store.bmcPassword(m) },
    LIVE_READ,
  );
  try {
    return await driver.sensors();
  } finally {
    await driver.close().catch(() => undefined);
  }
}

/**
 * Keeps the system's power from a fresh read for the cost model's average watts
 * (store.recordPowerReading: one a minute per machine at most). A failed write loses one
 * sample, never the page's answer.
 */
async function keepPower(
  store: Store,
  machineId: string,
  report: SensorReport,
  now: number,
  log: FastifyBaseLogger,
) {
  const watts = systemWatts(report.readings);
  if (watts === null) return;
  await store.recordPowerReading(machineId, now, watts).catch((e: unknown) => {
    log.warn({ machine: machineId, err: (e as Error).message }, 'power reading not recorded');
  });
}

/**
 * Reads a machine's sensors through `cache` (so the page and the power sampler share reads) and
 * keeps the system's power from each fresh read. The machine must have a BMC.
 */
export function sensorReader(
  store: Store,
  cache: SensorCache,
  now: () => number = Date.now,
  bmcs: KeyedSemaphores | null = null,
): (m: Machine, log: FastifyBaseLogger) => Promise<SensorAnswer> {
  return (m, log) => {
    const bmc = m.bmc!;
    // The secret id changes with the password: a corrected password is tried at once.
    const key = `${bmc.address}\n${bmc.username}\n${bmc.passwordSecretId}`;
    return cache.get(m.id, key, async () => {
      const report = await readSensors(store, m, bmcs);
      await keepPower(store, m.id, report, now(), log);
      return report;
    });
  };
}

export function sensorRoutes(
  store: Store,
  o: { cache?: SensorCache; now?: () => number; bmcs?: KeyedSemaphores } = {},
): FastifyPluginAsyncTypebox {
  const read = sensorReader(store, o.cache ?? new SensorCache(), o.now ?? Date.now, o.bmcs ?? null);
  return async (app) => {
    app.get('/machines/:id/sensors', {
      config: { role: 'viewer' },
      schema: {
        tags: ['machines'],
        summary: 'Sensor readings, read live from the machine’s BMC',
        description: `Temperatures, fans, power and voltages as the BMC reports them. Answers are reused for ${SENSOR_CACHE_MS / 1000} s per machine; \`readAt\` says when the BMC was read. 422 INGOT_BMC_UNSUPPORTED when the BMC cannot report sensors; 502 when it cannot be reached or refuses the credentials.`,
        params: IdParams,
        response: { 200: SensorReadingsT, ...errorResponses, 422: Type.Ref('Error'), 502: Type.Ref('Error') },
      },
      handler: async (req) => {
        const m = await store.getMachine(req.params.id);
        if (!m.bmc) {
          throw new IngotError(
            ErrorCode.BmcUnsupported,
            `machine ${m.hostname} has no BMC, so it has no sensors to read; set one with \`ingot machine set --bmc\``,
            { details: { machine: m.id } },
          );
        }
        return read(m, req.log);
      },
    });
  };
}
