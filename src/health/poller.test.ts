/**
 * The health poller against the virtual Redfish BMC (real driver, real HTTP): samples with the
 * hardware's faults, a BMC that hangs or errors becomes an unreachable sample and a timeline
 * event (never a crash or a gap), and polls stay within the per-BMC limit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import '../bmc/index.ts';
import type { BmcDriver } from '../bmc/driver.ts';
import { type Emulator, startEmulator } from '../bmc/emulator/index.ts';
import { KeyedSemaphores } from '../engine/limits.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { machineInput } from '../store/testing.ts';
import { startHealthPoller } from './poller.ts';

const PW = 'emu-Secret-hp1';

/** A BMC driver whose sensors are `sensors()` and whose SEL is empty. */
const driverOf = (sensors: () => Promise<unknown>) => (): BmcDriver =>
  ({ sensors, eventLog: async () => [], close: async () => {} }) as unknown as BmcDriver;

describe('health poller', () => {
  let dir: string;
  let store: SqlStore;
  let emu: Emulator;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-health-'));
    store = await openStore({ dataDir: dir });
    emu = await startEmulator({
      systems: 2,
      username: 'admin',
      password: PW,
      faults: { rate: 0, hangMs: 3000 },
    });
  });
  after(async () => {
    await emu?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const enrol = (id: string) =>
    store.createMachine(
      machineInput({ bmc: { address: emu.address(id), username: 'admin', password: PW } }),
      'user:test',
    );
  const types = async (machineId: string) =>
    (await store.listEvents({ machineId, limit: 50 }))
      .map((e) => e.type)
      .filter((t) => t.startsWith('health.'));

  it('keeps each poll’s figures; a failed fan, a lost supply and a critical SEL entry go on the timeline', async () => {
    const a = await enrol('sys-0001');
    const b = await enrol('sys-0002');
    await emu.systems.get('sys-0001')!.reset('On');
    const poller = startHealthPoller({ store, bmcs: new KeyedSemaphores(4), intervalMs: 0 });
    assert.deepEqual(await poller.pollOnce(), { polled: 2, answered: 2 });
    const [first] = await store.healthHistory(a.id, 0, 10);
    assert.equal(first.reachable, true);
    assert.equal(first.health, 'ok');
    assert.equal(first.tempMaxCelsius, 52);
    assert.deepEqual([first.fans, first.fansFailed, first.psus, first.psusFailed], [2, 0, 2, 0]);
    assert.equal(first.watts, 185, 'the system’s input power, not the supplies added to it');
    assert.ok(first.readings.some((r) => r.name === 'Power Supply 2' && r.health === 'ok'));
    const hw = emu.systems.get('sys-0001')!.hardware;
    hw.fanFailed = true;
    hw.psuFailed = true;
    emu.systems.get('sys-0001')!.log.push({
      id: '9001',
      created: new Date().toISOString(),
      severity: 'Critical',
      message: 'Power Supply 2: input lost',
    });
    await sleep(2);
    await poller.pollOnce();
    const last = (await store.healthHistory(a.id, 0, 10)).at(-1)!;
    assert.equal(last.health, 'critical');
    assert.deepEqual([last.fansFailed, last.psusFailed, last.selCritical], [1, 1, 1]);
    assert.deepEqual((await types(a.id)).sort(), ['health.changed', 'health.sel-critical']);
    assert.deepEqual(await types(b.id), [], 'a healthy machine has nothing on its timeline');
    hw.fanFailed = false;
    hw.psuFailed = false;
    await store.deleteMachine(a.id, 'user:test');
    await store.deleteMachine(b.id, 'user:test');
  });

  it('records a BMC that hangs as unreachable with its reason, and its recovery, on the machine’s timeline', async () => {
    const m = await enrol('sys-0002');
    // Whatever fails, the machine goes: the next cases poll every machine there is.
    try {
      const poller = startHealthPoller({
        store,
        bmcs: new KeyedSemaphores(4),
        intervalMs: 0,
        deadlineMs: 400,
      });
      emu.faults.injectNext('timeout');
      assert.deepEqual(await poller.pollOnce(), { polled: 1, answered: 0 });
      // Polled again while the hung read still holds its BMC slot: unreachable again, saying why.
      await poller.pollOnce();
      const hist = await store.healthHistory(m.id, 0, 10);
      assert.equal(hist.length, 2);
      assert.ok(hist.every((s) => !s.reachable && s.health === 'unknown'));
      assert.match(
        hist[0].error ?? '',
        /INGOT_BMC_UNREACHABLE: BMC 127\.0\.0\.1:\d+ did not answer the health poll within 400 ms/,
      );
      assert.match(hist[1].error ?? '', /previous health poll .* has not returned/);
      const events = await store.listEvents({ machineId: m.id, limit: 50 });
      const down = events.filter((e) => e.type === 'health.bmc-unreachable');
      assert.equal(down.length, 1, 'one event when it stops answering, not one per poll');
      assert.equal(down[0].level, 'warning');
      assert.match(down[0].message, /did not answer the health poll/);
      // The hang ends (socket closed, the driver retries); the next poll answers.
      await sleep(3500);
      await poller.pollOnce();
      assert.equal((await store.healthHistory(m.id, 0, 10)).at(-1)!.reachable, true);
      assert.deepEqual((await types(m.id)).sort(), ['health.bmc-recovered', 'health.bmc-unreachable']);
    } finally {
      await store.deleteMachine(m.id, 'user:test');
    }
  });

  it('keeps two rounds in the same millisecond as two samples, one ms apart', async () => {
    const m = await store.createMachine(
      machineInput({ bmc: { address: 'redfish+http://10.9.9.7:8000', username: 'u', password: 'p' } }),
      'user:test',
    );
    try {
      const driver = driverOf(async () => ({ health: 'ok', readings: [] }));
      const T = 1_900_000_000_000;
      const poller = startHealthPoller({
        store,
        bmcs: new KeyedSemaphores(4),
        intervalMs: 0,
        driver,
        now: () => T,
      });
      await poller.pollOnce();
      await poller.pollOnce();
      assert.deepEqual(
        (await store.healthHistory(m.id, 0, 10)).map((s) => s.at),
        [T, T + 1],
      );
    } finally {
      await store.deleteMachine(m.id, 'user:test');
    }
  });

  it('records a BMC answering errors as unreachable with the error', async () => {
    const bad = await enrol('sys-0001');
    emu.faults.rate = 1;
    emu.faults.kinds = ['500'];
    try {
      const poller = startHealthPoller({ store, bmcs: new KeyedSemaphores(4), intervalMs: 0 });
      assert.deepEqual(await poller.pollOnce(), { polled: 1, answered: 0 });
      const [s] = await store.healthHistory(bad.id, 0, 10);
      assert.equal(s.reachable, false);
      assert.match(s.error ?? '', /^INGOT_BMC_\w+: .*500/);
    } finally {
      emu.faults.rate = 0;
      await store.deleteMachine(bad.id, 'user:test');
    }
  });

  it('never has more reads in flight to one BMC than the per-BMC limit, shared with other callers', async () => {
    const ms = [];
    for (let i = 0; i < 6; i++)
      ms.push(
        await store.createMachine(
          machineInput({ bmc: { address: 'redfish+http://10.9.9.9:8000', username: 'u', password: 'p' } }),
          'user:test',
        ),
      );
    let inFlight = 0;
    let peak = 0;
    const driver = driverOf(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(30);
      inFlight--;
      return { health: 'ok', readings: [] };
    });
    const bmcs = new KeyedSemaphores(2);
    // An engine step holds one of the two slots for a while: polls get only the other one.
    let release!: () => void;
    const held = bmcs.run('10.9.9.9:8000', () => new Promise<void>((r) => (release = r)));
    const poller = startHealthPoller({ store, bmcs, intervalMs: 0, driver });
    const round = poller.pollOnce();
    await sleep(100);
    assert.equal(peak, 1, 'the engine holds the other slot');
    release();
    await held;
    assert.deepEqual(await round, { polled: 6, answered: 6 });
    assert.equal(peak, 2);
    for (const m of ms) await store.deleteMachine(m.id, 'user:test');
  });

  it('keeps the raw readings once an hour per machine, and whenever the rollup moves; the figures with every poll', async () => {
    const m = await store.createMachine(
      machineInput({ bmc: { address: 'redfish+http://10.9.9.8:8000', username: 'u', password: 'p' } }),
      'user:test',
    );
    let health: 'ok' | 'critical' = 'ok';
    const driver = driverOf(async () => ({
      health,
      readings: [{ name: 'CPU', kind: 'temperature', value: 50, unit: 'Cel' }],
    }));
    let clock = 1_800_000_000_000;
    const poller = startHealthPoller({
      store,
      bmcs: new KeyedSemaphores(4),
      intervalMs: 0,
      driver,
      now: () => clock,
    });
    for (const [minutes, h] of [
      [0, 'ok'],
      [5, 'ok'],
      [10, 'critical'],
      [15, 'critical'],
      [70, 'critical'],
    ] as const) {
      clock = 1_800_000_000_000 + minutes * 60_000;
      health = h;
      await poller.pollOnce();
    }
    const hist = await store.healthHistory(m.id, 0, 10);
    assert.deepEqual(
      hist.map((s) => [Math.round((s.at - 1_800_000_000_000) / 60_000), s.readings.length, s.tempMaxCelsius]),
      [
        [0, 1, 50],
        [5, 0, 50],
        [10, 1, 50],
        [15, 0, 50],
        [70, 1, 50],
      ],
    );
    await store.deleteMachine(m.id, 'user:test');
  });
});
