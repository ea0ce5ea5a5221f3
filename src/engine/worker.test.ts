import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { BmcDriver } from '../bmc/driver.ts';
import { FakeBmc, resetFakeBmcs } from '../bmc/fake.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Machine } from '../core/machine.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { machineInput } from '../store/testing.ts';
import { requestAction } from './actions.ts';
import { FakeAgent, fakeInventory } from './fake-agent.ts';
import { POLL } from './steps.ts';
import { sweepWatchdog } from './watchdog.ts';
import { Worker, type WorkerOptions } from './worker.ts';

/** A fake BMC with some methods replaced (FakeBmc's private fields need the real `this`). */
function bmcWith(real: FakeBmc, over: Partial<BmcDriver>): BmcDriver {
  const bound: Record<string, unknown> = { driver: real.driver, target: real.target };
  for (const k of [
    'capabilities',
    'powerState',
    'power',
    'setBootDevice',
    'insertVirtualMedia',
    'ejectVirtualMedia',
    'inventory',
    'sensors',
    'eventLog',
    'firmware',
    'close',
  ] as const) {
    bound[k] = (real[k] as (...a: unknown[]) => unknown).bind(real);
  }
  return { ...bound, ...over } as BmcDriver;
}

async function until<T>(
  f: () => Promise<T | null | undefined | false>,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the job worker', () => {
  let store: SqlStore;
  let dir: string;
  const workers: Worker[] = [];
  before(async () => {
    POLL.agentMs = 10;
    dir = await mkdtemp(join(tmpdir(), 'ingot-worker-'));
    store = await openStore({ dataDir: dir });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    resetFakeBmcs();
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const worker = (o: Partial<WorkerOptions> = {}) => {
    const w = new Worker({
      store,
      agent: new FakeAgent(),
      pollMs: 10,
      retry: { baseMs: 5, capMs: 20, maxAttempts: 4 },
      ...o,
    });
    workers.push(w);
    w.start();
    return w;
  };
  const stateOf = async (id: string) => (await store.getMachine(id)).state;

  it('commissions a machine: BMC boot override and power, agent inventory stored, ends ready and off', async () => {
    const m = await store.createMachine(
      machineInput({ bmc: { address: 'fake://c1', username: 'u', password: 'p' } }),
      't',
    );
    worker();
    await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
    await until(async () => (await stateOf(m.id)) === 'ready', 5000, 'ready');
    const done = await store.getMachine(m.id);
    assert.equal(done.cpu?.cores, 8);
    assert.deepEqual((await store.getMachineInventory(m.id))?.cpu, done.cpu, 'the agent’s whole report kept');
    assert.equal(done.powerState, 'off');
    assert.notEqual(done.commissionedAt, null);
    const { fakeBmcState } = await import('../bmc/fake.ts');
    assert.deepEqual(
      fakeBmcState('c1').calls.filter((c) => !c.startsWith('power-state')),
      ['boot:network', 'power:on', 'power:force-off'],
    );
  });

  it('a power-on retried after a timeout still boots the network: the one-time override is set again', async () => {
    const m = await store.createMachine(
      machineInput({ bmc: { address: 'fake://used-up', username: 'u', password: 'p' } }),
      't',
    );
    const { fakeBmcState } = await import('../bmc/fake.ts');
    const booted: string[] = [];
    let timeouts = 1;
    const bmcFactory = (machine: Machine): BmcDriver => {
      const real = new FakeBmc(machine.bmc!.address);
      return bmcWith(real, {
        // Like a real BMC: power-on uses up a one-time override; the first answer is lost.
        power: async (a) => {
          const st = fakeBmcState('used-up');
          if (a === 'on' || a === 'cycle') {
            booted.push(st.boot?.device ?? 'disk');
            if (st.boot && !st.boot.persistent) st.boot = null;
          }
          await real.power(a);
          if ((a === 'on' || a === 'cycle') && timeouts-- > 0)
            throw new IngotError(ErrorCode.BmcUnreachable, 'BMC fake://used-up did not answer in 10 s', {
              retryable: true,
            });
        },
      });
    };
    worker({ bmcFactory });
    await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
    await until(async () => (await stateOf(m.id)) === 'ready', 5000, 'ready');
    assert.deepEqual(booted, ['network', 'network'], 'both power-ons booted the network');
  });

  it('retries a step after retryable BMC errors with backoff, and the retries are on the timeline', async () => {
    const m = await store.createMachine(machineInput(), 't');
    let failures = 2;
    const bmcFactory = (machine: Machine): BmcDriver => {
      const real = new FakeBmc(machine.bmc!.address);
      return bmcWith(real, {
        setBootDevice: async (b) => {
          if (failures-- > 0)
            throw new IngotError(ErrorCode.BmcUnreachable, 'BMC fake://x did not answer in 10 s', {
              retryable: true,
            });
          return real.setBootDevice(b);
        },
      });
    };
    worker({ bmcFactory });
    await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
    await until(async () => (await stateOf(m.id)) === 'ready', 5000, 'ready');
    const events = await store.listEvents({ machineId: m.id, limit: 500 });
    const retries = events.filter((e) => e.type === 'step.retry');
    assert.equal(retries.length, 2);
    assert.match(retries[0].message, /boot attempt 1\/4 failed: BMC fake:\/\/x did not answer/);
  });

  it('fails the workflow for good after the last attempt, into the failed twin with the reason', async () => {
    const m = await store.createMachine(machineInput(), 't');
    const bmcFactory = (): BmcDriver =>
      bmcWith(new FakeBmc('fake://dead'), {
        setBootDevice: async () => {
          throw new IngotError(ErrorCode.BmcUnreachable, 'BMC fake://dead refused the connection', {
            retryable: true,
          });
        },
      });
    worker({ bmcFactory });
    await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
    await until(async () => (await stateOf(m.id)) === 'failed_commissioning', 5000, 'failed');
    const after = await store.getMachine(m.id);
    assert.match(after.stateReason, /refused the connection \(gave up after 4 attempts\)/);
    const [job] = await store.listJobs({ machineId: m.id }, 1);
    assert.equal(job.status, 'failed');
    assert.equal(job.steps[0].attempts, 4);
  });

  it('fails at once, without retries, when the agent reports a failed hardware test', async () => {
    const m = await store.createMachine(machineInput(), 't');
    worker({
      agent: new FakeAgent({ failTasks: { tests: 'smart-short: /dev/sda reallocated sectors 1203' } }),
    });
    await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
    await until(async () => (await stateOf(m.id)) === 'failed_commissioning', 5000, 'failed');
    assert.match(
      (await store.getMachine(m.id)).stateReason,
      /agent tests failed: smart-short: \/dev\/sda reallocated sectors 1203/,
    );
  });

  it('fails the inventory step, storing nothing of it, when the inventory is malformed or takes another machine’s MAC', async () => {
    const taken = await store.createMachine(machineInput(), 't');
    const cases: [string, (m: Machine) => unknown, RegExp][] = [
      [
        'malformed',
        (m) => ({ ...fakeInventory(m), cpu: { cores: 'eight' } }),
        /inventory is malformed: cpu\.cores/,
      ],
      [
        'taken MAC',
        (m) => ({ ...fakeInventory(m), nics: [{ mac: taken.nics[0].mac, boot: false }] }),
        /the store refused what inventory found: nics\[\]\.mac: already in use/,
      ],
    ];
    for (const [what, inventory, reason] of cases) {
      const m = await store.createMachine(machineInput(), 't');
      const agent = new FakeAgent();
      worker({
        agent: {
          task: async (machine, job, task) =>
            task === 'inventory'
              ? { status: 'done', result: inventory(machine) }
              : agent.task(machine, job, task),
        },
      });
      await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
      await until(async () => (await stateOf(m.id)) === 'failed_commissioning', 5000, what);
      const after = await store.getMachine(m.id);
      assert.match(after.stateReason, reason, what);
      assert.deepEqual([after.cpu, after.nics], [null, m.nics], `${what}: nothing of the inventory stored`);
      assert.equal(await store.getMachineInventory(m.id), null, what);
      await Promise.all(workers.splice(0).map((w) => w.stop()));
    }
  });

  it('keeps at most perBmc calls in flight to one BMC host', async () => {
    let inflight = 0;
    let peak = 0;
    const bmcFactory = (machine: Machine): BmcDriver => {
      const real = new FakeBmc(machine.bmc!.address);
      const wrap =
        <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
        async (...a: A) => {
          inflight++;
          peak = Math.max(peak, inflight);
          await new Promise((r) => setTimeout(r, 5));
          try {
            return await f.apply(real, a);
          } finally {
            inflight--;
          }
        };
      return bmcWith(real, {
        setBootDevice: wrap(real.setBootDevice),
        powerState: wrap(real.powerState),
        power: wrap(real.power),
      });
    };
    const ms: Machine[] = [];
    for (let i = 0; i < 12; i++) {
      ms.push(
        await store.createMachine(
          machineInput({ bmc: { address: `fake://chassis-1/system-${i}`, username: 'u', password: 'p' } }),
          't',
        ),
      );
    }
    worker({ bmcFactory, limits: { perBmc: 2 } });
    for (const m of ms)
      await requestAction(store, { machineId: m.id, action: 'power-cycle', actor: 'user:t' });
    await until(
      async () => (await store.listJobs({ status: ['queued', 'running'] }, 100)).length === 0,
      10_000,
      'all power cycles',
    );
    assert.ok(peak >= 2, `peak ${peak}: the limit was never reached, the test proves nothing`);
    assert.ok(peak <= 2, `peak ${peak} calls in flight to one BMC`);
  });

  it('runs at most perRack boot-heavy workflows at once in one rack', async () => {
    const rack = `rack-${Date.now()}`;
    const ms: Machine[] = [];
    for (let i = 0; i < 8; i++) ms.push(await store.createMachine(machineInput({ rack }), 't'));
    const agent = new FakeAgent({ delayMs: 60 });
    worker({ agent, limits: { perRack: 3 } });
    for (const m of ms)
      await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
    let peak = 0;
    await until(
      async () => {
        const states = await Promise.all(ms.map((m) => stateOf(m.id)));
        const running = (await store.listJobs({ status: ['running'] }, 100)).filter(
          (j) => j.rack === rack,
        ).length;
        peak = Math.max(peak, running);
        return states.every((s) => s === 'ready');
      },
      15_000,
      'all ready',
    );
    assert.ok(peak >= 2 && peak <= 3, `peak ${peak} running in one rack`);
  });

  it('lets a second worker take over a job whose worker died, finishing it exactly once', async () => {
    const m = await store.createMachine(machineInput(), 't');
    const dead = worker({ owner: 'region-a', leaseMs: 300, agent: new FakeAgent({ delayMs: 150 }) });
    await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
    await until(
      async () => {
        const [j] = await store.listJobs({ machineId: m.id, status: ['running'] }, 1);
        return j?.steps[j.stepIndex]?.name === 'wait-agent';
      },
      5000,
      'job under way',
    );
    await dead.halt();
    worker({ owner: 'region-b', leaseMs: 300 });
    await until(async () => (await stateOf(m.id)) === 'ready', 10_000, 'ready after takeover');
    const events = await store.listEvents({ machineId: m.id, limit: 500 });
    assert.equal(events.filter((e) => e.type === 'job.done').length, 1);
    assert.equal(events.filter((e) => e.type === 'machine.transition' && e.data.to === 'ready').length, 1);
    const resumed = events.find((e) => e.type === 'job.resumed');
    assert.ok(resumed, 'the takeover is on the timeline');
    assert.match(resumed.message, /resumed at step wait-agent by region-b/);
  });

  it('moves a machine stuck past its watchdog to the failed twin, naming the step, and cancels its job', async () => {
    const m = await store.createMachine(machineInput(), 't');
    worker({ agent: new FakeAgent({ delayMs: 60_000 }) });
    await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
    await until(
      async () =>
        (await store.listJobs({ machineId: m.id, status: ['running'] }, 1))[0]?.steps.find(
          (s) => s.name === 'wait-agent',
        )?.startedAt,
      5000,
      'waiting for agent',
    );
    assert.equal(await sweepWatchdog(store, { commissioning: 60_000 }), 0, 'not yet stuck');
    assert.equal(await sweepWatchdog(store, { commissioning: 1 }, Date.now() + 10), 1);
    const after = await store.getMachine(m.id);
    assert.equal(after.state, 'failed_commissioning');
    assert.match(
      after.stateReason,
      /watchdog: commissioning did not finish within 0 min; it was at step wait-agent/,
    );
    const [job] = await store.listJobs({ machineId: m.id }, 1);
    assert.equal(job.status, 'cancelled');
  });
});
