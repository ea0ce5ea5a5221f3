/**
 * GET /api/v1/machines/{id}/sensors against a real region reading the virtual Redfish BMC,
 * and the per-machine cache behind it with a fake clock.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from '../../test/support/region.ts';
import type { SensorReport } from '../bmc/driver.ts';
import { type Emulator, startEmulator } from '../bmc/emulator/index.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { FakeAgent } from '../engine/fake-agent.ts';
import { SensorCache } from './routes/sensors.ts';

interface Answer {
  health: string;
  readAt: string;
  readings: { name: string; kind: string; value: number | null; unit: string; health?: string }[];
}
interface ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

const BMC_PASSWORD = 'emu-Secret-7f3a';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('GET /api/v1/machines/{id}/sensors', () => {
  let r: TestRegion;
  let emu: Emulator;
  let viewer = '';
  const logs: string[] = [];
  const bodies: string[] = [];

  const enroll = async (body: Record<string, unknown>) => {
    const res = await r.api<{ id: string }>('POST', '/api/v1/machines', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  };
  const redfish = (system: string, password = BMC_PASSWORD) =>
    newMachineBody({ bmc: { address: emu.address(system), username: 'admin', password } });
  const sensors = async <T = Answer>(id: string, token: string | null = viewer) => {
    const res = await r.api<T>('GET', `/api/v1/machines/${id}/sensors`, undefined, token);
    bodies.push(JSON.stringify(res.body));
    return res;
  };

  before(async () => {
    emu = await startEmulator({ systems: 3, username: 'admin', password: BMC_PASSWORD });
    r = await startTestRegion({
      agent: new FakeAgent(),
      logger: pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) }),
    });
    const t = await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'watcher', role: 'viewer' });
    viewer = t.body.secret;
  });

  after(async () => {
    await r?.stop();
    await emu?.close();
  });

  it('reads temperatures, fans, power and voltages live from a virtual Redfish BMC', async () => {
    await emu.systems.get('sys-0001')!.reset('On');
    const id = await enroll(redfish('sys-0001'));
    const res = await sensors(id);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.health, 'ok');
    const by = new Map(res.body.readings.map((x) => [x.name, x]));
    assert.deepEqual(by.get('CPU temperature'), {
      name: 'CPU temperature',
      kind: 'temperature',
      value: 52,
      unit: 'Cel',
      health: 'ok',
    });
    assert.equal(by.get('Inlet temperature')?.value, 22);
    assert.deepEqual(
      [by.get('Fan 1')?.kind, by.get('Fan 1')?.value, by.get('Fan 1')?.unit],
      ['fan', 5400, 'RPM'],
    );
    assert.deepEqual(
      [by.get('System input power')?.kind, by.get('System input power')?.value],
      ['power', 185],
    );
    assert.deepEqual([by.get('12V rail')?.kind, by.get('12V rail')?.value], ['voltage', 12.05]);
    assert.ok(Math.abs(Date.parse(res.body.readAt) - Date.now()) < 60_000, res.body.readAt);
    // The driver was closed: its Redfish session is gone.
    await eventually(async () => emu.sessionCount() === 0, 5000, 'the BMC session to be closed');
  });

  it('answers repeated and concurrent requests within the cache period with one BMC read', async () => {
    const sys = emu.systems.get('sys-0002')!;
    const id = await enroll(redfish('sys-0002'));
    const before = emu.stats.requests;
    const [a, b] = await Promise.all([sensors(id), sensors(id)]);
    const afterFirst = emu.stats.requests;
    assert.ok(afterFirst > before, 'the first request read the BMC');
    // The machine powers on, but within the cache period the page sees the same reading.
    await sys.reset('On');
    const c = await sensors(id);
    assert.equal(emu.stats.requests, afterFirst, 'no BMC request for the cached answers');
    for (const x of [a, b, c]) assert.equal(x.status, 200);
    assert.equal(b.body.readAt, a.body.readAt);
    assert.equal(c.body.readAt, a.body.readAt);
    assert.equal(c.body.readings.find((x) => x.name === 'CPU temperature')?.value, 24);
  });

  it('reads the BMC only within the per-BMC limit the engine’s jobs and the health poller share', async () => {
    const id = await enroll(redfish('sys-0003'));
    const host = new URL(emu.url).host;
    // Four engine steps (the default per-BMC limit) hold every slot of this BMC.
    const releases: (() => void)[] = [];
    const held = Array.from({ length: 4 }, () =>
      r.region.engine.worker.bmcs.run(host, () => new Promise<void>((res) => releases.push(res))),
    );
    const before = emu.stats.requests;
    const pending = sensors(id);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(emu.stats.requests, before, 'no BMC request while the limit is full');
    for (const release of releases) release();
    await Promise.all(held);
    const res = await pending;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(emu.stats.requests > before);
  });

  it('answers 422 INGOT_BMC_UNSUPPORTED for a BMC that cannot report sensors', async () => {
    const id = await enroll(newMachineBody());
    const res = await sensors<ErrorBody>(id);
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'INGOT_BMC_UNSUPPORTED');
    assert.match(res.body.message, /sensors is not supported by fake:\/\//);
  });

  it('answers 502 with the driver’s message when the BMC does not answer', async () => {
    const port = await closedPort();
    const id = await enroll(
      newMachineBody({
        bmc: {
          address: `redfish+http://127.0.0.1:${port}/redfish/v1/Systems/1`,
          username: 'admin',
          password: BMC_PASSWORD,
        },
      }),
    );
    const res = await sensors<ErrorBody>(id);
    assert.equal(res.status, 502);
    assert.equal(res.body.code, 'INGOT_BMC_UNREACHABLE');
    assert.match(res.body.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('answers 502 INGOT_BMC_AUTH when the BMC refuses the stored password', async () => {
    const id = await enroll(redfish('sys-0003', 'not-the-Password-9'));
    const res = await sensors<ErrorBody>(id);
    assert.equal(res.status, 502);
    assert.equal(res.body.code, 'INGOT_BMC_AUTH');
    assert.doesNotMatch(res.body.message, /not-the-Password-9/);
  });

  it('answers 404 for an unknown machine and 401 without a token', async () => {
    assert.equal((await sensors('m-nope')).status, 404);
    const id = await enroll(redfish('sys-0001'));
    const res = await sensors<ErrorBody>(id, null);
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'INGOT_UNAUTHENTICATED');
  });

  it('never puts a BMC password in a response or a log line, nor a bearer token in a log line', async () => {
    assert.ok(logs.length > 0, 'the region logged something');
    assert.ok(bodies.length >= 8);
    for (const text of [...bodies, ...logs]) {
      assert.doesNotMatch(text, /emu-Secret-7f3a|not-the-Password-9/);
    }
    // Per-request lines (with their headers) are off, even at trace level.
    for (const line of logs) {
      assert.ok(!line.includes(viewer), 'a log line carries the viewer token');
      assert.doesNotMatch(line, /"msg":"(incoming request|request completed)"/);
    }
  });
});

describe('SensorCache', () => {
  const report = (value: number): SensorReport => ({
    health: 'ok',
    readings: [{ name: 'CPU temperature', kind: 'temperature', value, unit: 'Cel' }],
  });
  const clock = () => {
    const c = { t: Date.parse('2026-11-22T10:00:00Z'), now: () => c.t };
    return c;
  };

  it('reads the BMC again once the cache period has passed', async () => {
    const c = clock();
    const cache = new SensorCache({ ttlMs: 5000, now: c.now });
    let reads = 0;
    const read = async () => report(40 + ++reads);
    const first = await cache.get('m1', 'k', read);
    c.t += 4999;
    assert.deepEqual(await cache.get('m1', 'k', read), first);
    c.t += 1;
    const second = await cache.get('m1', 'k', read);
    assert.equal(reads, 2);
    assert.equal(second.readings[0].value, 42);
    assert.equal(second.readAt, '2026-11-22T10:00:05.000Z');
  });

  it('shares one read between requests that arrive while it is in flight', async () => {
    const cache = new SensorCache({ now: clock().now });
    let reads = 0;
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const read = async () => {
      reads++;
      await gate;
      return report(41);
    };
    const all = Promise.all([cache.get('m1', 'k', read), cache.get('m1', 'k', read)]);
    release();
    const [a, b] = await all;
    assert.equal(reads, 1);
    assert.equal(a, b);
  });

  it('keeps a failed read for the cache period, then tries again', async () => {
    const c = clock();
    const cache = new SensorCache({ ttlMs: 5000, now: c.now });
    let reads = 0;
    const read = async () => {
      reads++;
      if (reads === 1) throw new IngotError(ErrorCode.BmcUnreachable, 'no answer from the BMC');
      return report(43);
    };
    await assert.rejects(cache.get('m1', 'k', read), /no answer/);
    await assert.rejects(cache.get('m1', 'k', read), /no answer/);
    assert.equal(reads, 1);
    c.t += 5000;
    assert.equal((await cache.get('m1', 'k', read)).readings[0].value, 43);
  });

  it('reads at once when the machine’s BMC address, user or password changes', async () => {
    const cache = new SensorCache({ now: clock().now });
    let reads = 0;
    const read = async () => report(40 + ++reads);
    await cache.get('m1', 'bmc-a', read);
    assert.equal((await cache.get('m1', 'bmc-b', read)).readings[0].value, 42);
    assert.equal(reads, 2);
  });

  it('forgets machines nobody asked about for a cache period', async () => {
    const c = clock();
    const cache = new SensorCache({ ttlMs: 5000, now: c.now });
    const read = async () => report(40);
    for (const id of ['m1', 'm2', 'm3']) await cache.get(id, 'k', read);
    c.t += 5000;
    await cache.get('m4', 'k', read);
    assert.equal(cache.size, 1);
  });
});
