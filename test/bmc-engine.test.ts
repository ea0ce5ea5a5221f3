/**
 * The engine driving real BMC drivers: machines enrolled with redfish+http:// (the virtual
 * BMC) and ipmi:// (ipmi_sim) are powered and boot-set through the API and the CLI; and 100
 * concurrent boot-override + power workflows under 30% injected Redfish faults all end done
 * or failed with a clear reason, none hangs, most complete.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import '../src/bmc/index.ts';
import { type Emulator, MemoryPowerTarget, Quirk, startEmulator } from '../src/bmc/emulator/index.ts';
import { requestAction } from '../src/engine/actions.ts';
import { FakeAgent } from '../src/engine/fake-agent.ts';
import { POLL } from '../src/engine/steps.ts';
import { Worker } from '../src/engine/worker.ts';
import { openStore } from '../src/store/open.ts';
import { type IpmiSim, startIpmiSim } from './support/ipmi-sim.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';

const BIN = new URL('../bin/ingot', import.meta.url).pathname;

function ingot(
  r: TestRegion,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, {
      env: { ...process.env, ...r.cliEnv, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe('the engine with real BMC drivers', () => {
  let r: TestRegion;
  let emu: Emulator;
  let sim: IpmiSim;
  const targets = new Map<string, MemoryPowerTarget>();
  before(async () => {
    emu = await startEmulator({
      systems: 2,
      username: 'admin',
      password: 'emu-pass',
      powerTarget: (id) => {
        const t = new MemoryPowerTarget();
        targets.set(id, t);
        return t;
      },
    });
    sim = await startIpmiSim();
    // The emulator's in-memory systems never boot an OS: the simulated agent answers for them.
    r = await startTestRegion({ agent: new FakeAgent() });
  });
  after(async () => {
    await r?.stop();
    await emu?.close();
    await sim?.stop();
  });

  it('powers a Redfish machine on and off through the API, and boot-sets it through commissioning', async () => {
    const id = [...emu.systems.keys()][0];
    const m = await r.api<{ id: string }>('POST', '/api/v1/machines', {
      hostname: 'rf-1',
      bmc: { address: emu.address(id), username: 'admin', password: 'emu-pass' },
      nics: [{ mac: '52:54:00:ee:00:01' }],
    });
    assert.equal(m.status, 201);
    const target = targets.get(id)!;
    const on = await r.api<{ job: { id: string } }>(
      'POST',
      `/api/v1/machines/${m.body.id}/actions/power-on`,
      {},
    );
    assert.equal(on.status, 202);
    await eventually(async () => target.on, 10_000, 'Redfish system on');
    await eventually(
      async () =>
        (await r.api<{ powerState: string }>('GET', `/api/v1/machines/${m.body.id}`)).body.powerState ===
        'on',
    );
    await r.api('POST', `/api/v1/machines/${m.body.id}/actions/power-off`, {});
    await eventually(async () => !target.on, 10_000, 'Redfish system off');
    const boots = target.boots.length;
    await r.api('POST', `/api/v1/machines/${m.body.id}/actions/commission`, {});
    await eventually(
      async () =>
        (await r.api<{ state: string }>('GET', `/api/v1/machines/${m.body.id}`)).body.state === 'ready',
      10_000,
      'ready',
    );
    const boot = target.boots[boots];
    assert.equal(boot.target, 'Pxe', 'the commissioning boot was a one-time network boot');
    assert.equal(target.on, false, 'commissioning ends with the machine off');
  });

  it('powers an IPMI machine on through the CLI with --wait and sets its boot device', async () => {
    const add = await ingot(
      r,
      [
        'machine',
        'add',
        '--bmc',
        `ipmi://127.0.0.1:${sim.port}?cipher=3`,
        '--bmc-user',
        sim.username,
        '--mac',
        '52:54:00:ee:00:02',
        '--hostname',
        'ipmi-1',
      ],
      { INGOT_BMC_PASSWORD: sim.password },
    );
    assert.equal(add.code, 0, add.err);
    const on = await ingot(r, ['machine', 'power', 'on', 'ipmi-1', '--wait']);
    assert.equal(on.code, 0, on.err);
    assert.equal(sim.power(), '1');
    const res = await ingot(r, ['machine', 'commission', 'ipmi-1', '--wait']);
    assert.equal(res.code, 0, res.err);
    assert.ok(sim.sets().includes('boot pxe'), `chassis_control saw: ${sim.sets().join(', ')}`);
    assert.equal(sim.power(), '0');
  });

  it('reports a wrong BMC password as a clear failure on the timeline, not a hang', async () => {
    const id = [...emu.systems.keys()][1];
    const m = await r.api<{ id: string }>('POST', '/api/v1/machines', {
      hostname: 'rf-badpw',
      bmc: { address: emu.address(id), username: 'admin', password: 'wrong' },
      nics: [{ mac: '52:54:00:ee:00:03' }],
    });
    await r.api('POST', `/api/v1/machines/${m.body.id}/actions/commission`, {});
    const failed = await eventually(
      async () => {
        const g = await r.api<{ state: string; stateReason: string }>('GET', `/api/v1/machines/${m.body.id}`);
        return g.body.state === 'failed_commissioning' ? g.body : null;
      },
      20_000,
      'failed_commissioning',
    );
    assert.match(failed.stateReason, /credential|password|401|auth/i);
    assert.ok(!failed.stateReason.includes('wrong'), 'the password is not in the reason');
  });
});

describe('the engine with a BMC whose links end in / and that redirects the rest (HPE iLO)', () => {
  it('powers on and commissions a machine enrolled by either form of its address', async () => {
    const ilo = await startEmulator({
      systems: 2,
      username: 'admin',
      password: 'ilo-pass',
      quirks: [Quirk.TrailingSlash],
    });
    const r = await startTestRegion({ agent: new FakeAgent() });
    try {
      for (const [i, id] of [...ilo.systems.keys()].entries()) {
        // The first as the BMC writes its links (slashed), the second without the slash.
        const address = i === 0 ? ilo.address(id) : ilo.address(id).replace(/\/$/, '');
        const m = await r.api<{ id: string }>('POST', '/api/v1/machines', {
          hostname: `ilo-${i}`,
          bmc: { address, username: 'admin', password: 'ilo-pass' },
          nics: [{ mac: `52:54:00:1f:00:0${i}` }],
        });
        assert.equal(m.status, 201);
        const target = ilo.systems.get(id)!.target as MemoryPowerTarget;
        await r.api('POST', `/api/v1/machines/${m.body.id}/actions/power-on`);
        await eventually(async () => target.on, 10_000, `${address} on`);
        await r.api('POST', `/api/v1/machines/${m.body.id}/actions/commission`);
        await eventually(
          async () =>
            (await r.api<{ state: string }>('GET', `/api/v1/machines/${m.body.id}`)).body.state === 'ready',
          20_000,
          `${address} ready`,
        );
        assert.equal(target.boots.at(-1)?.target, 'Pxe', 'commissioning network-booted it');
      }
    } finally {
      await r.stop();
      await ilo.close();
    }
  });
});

describe('reliability under injected Redfish faults', () => {
  it('ends 100 concurrent commission workflows done or failed with a reason; none hangs; most complete', {
    timeout: 120_000,
  }, async () => {
    POLL.agentMs = 20;
    const dir = await mkdtemp(join(tmpdir(), 'ingot-faults-'));
    const store = await openStore({ dataDir: dir });
    const emu = await startEmulator({
      systems: 100,
      username: 'admin',
      password: 'pw',
      faults: { rate: 0.3, seed: 7, slowMs: 100, hangMs: 300 },
    });
    const worker = new Worker({
      store,
      agent: new FakeAgent(),
      pollMs: 20,
      retry: { baseMs: 50, capMs: 400, maxAttempts: 5 },
    });
    try {
      const ids: string[] = [];
      let i = 0;
      for (const sys of emu.systems.keys()) {
        const m = await store.createMachine(
          {
            hostname: `flaky-${i}`,
            arch: 'amd64',
            bmc: { address: emu.address(sys), username: 'admin', password: 'pw' },
            nics: [{ mac: `02:fa:00:00:00:${(i++).toString(16).padStart(2, '0')}`, boot: true }],
            tags: [],
            zone: 'z',
            rack: 'r',
            pool: 'p',
          },
          'test',
        );
        ids.push(m.id);
      }
      worker.start();
      await Promise.all(
        ids.map((id) => requestAction(store, { machineId: id, action: 'commission', actor: 'user:test' })),
      );
      const finals = await eventually(
        async () => {
          const states = await Promise.all(ids.map((id) => store.getMachine(id)));
          return states.every((m) => m.state !== 'commissioning') ? states : null;
        },
        100_000,
        'every workflow to end',
      );
      const ready = finals.filter((m) => m.state === 'ready').length;
      const failed = finals.filter((m) => m.state === 'failed_commissioning');
      assert.equal(ready + failed.length, 100, 'every machine ended ready or failed_commissioning');
      for (const m of failed) {
        assert.ok(m.stateReason.length > 10, `${m.hostname} failed without a reason`);
        const events = await store.listEvents({ machineId: m.id, limit: 500 });
        assert.ok(
          events.some((e) => e.type === 'step.failed'),
          `${m.hostname}: the failing step is on the timeline`,
        );
      }
      assert.ok(ready >= 70, `only ${ready} of 100 completed: the retries should complete most`);
      // The faults really happened (the driver's own retries absorb many before the engine sees them).
      const injected = Object.values(emu.faults.injected).reduce((a, b) => a + b, 0);
      assert.ok(injected >= 100, `only ${injected} faults were injected`);
    } finally {
      await worker.stop();
      await emu.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
