/** GET /api/v1/machines/{id}/health against a real region polling the virtual Redfish BMC. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newMachineBody, startTestRegion, type TestRegion } from '../../test/support/region.ts';
import { type Emulator, startEmulator } from '../bmc/emulator/index.ts';
import { diskHealthInput, healthSampleInput } from '../store/testing.ts';

interface Health {
  samples: {
    at: string;
    reachable: boolean;
    health: string;
    watts: number | null;
    fansFailed: number | null;
  }[];
  disks: unknown[];
}

describe('GET /api/v1/machines/{id}/health', () => {
  let r: TestRegion;
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ systems: 1, username: 'admin', password: 'emu-Secret-h1' });
    r = await startTestRegion({ healthPollMs: 3_600_000 });
  });
  after(async () => {
    await r?.stop();
    await emu?.close();
  });

  it('answers the polls the region kept, oldest first, to a viewer', async () => {
    await emu.systems.get('sys-0001')!.reset('On');
    const m = await r.api<{ id: string }>(
      'POST',
      '/api/v1/machines',
      newMachineBody({
        bmc: { address: emu.address('sys-0001'), username: 'admin', password: 'emu-Secret-h1' },
      }),
    );
    await r.region.healthPoller!.pollOnce();
    emu.systems.get('sys-0001')!.hardware.fanFailed = true;
    await new Promise((res) => setTimeout(res, 5));
    await r.region.healthPoller!.pollOnce();
    const viewer = (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' }))
      .body.secret;
    const res = await r.api<Health>('GET', `/api/v1/machines/${m.body.id}/health?hours=1`, undefined, viewer);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.samples.map((s) => [s.reachable, s.health, s.watts, s.fansFailed]),
      [
        [true, 'ok', 185, 0],
        [true, 'critical', 185, 1],
      ],
    );
    assert.ok(Date.parse(res.body.samples[0].at) <= Date.parse(res.body.samples[1].at));
    assert.deepEqual(res.body.disks, []);
    const last = await r.api<Health>('GET', `/api/v1/machines/${m.body.id}/health?limit=1`);
    assert.deepEqual(
      last.body.samples.map((s) => s.health),
      ['critical'],
    );
  });

  it('answers every machine’s newest poll and the disks at risk, for the racks view', async () => {
    const m = await r.api<{ id: string; hostname: string }>(
      'POST',
      '/api/v1/machines',
      newMachineBody({ rack: 'r7' }),
    );
    await r.region.store.recordHealthSample(
      healthSampleInput(m.body.id, Date.now(), {
        health: 'warning',
        tempMaxCelsius: 77,
        psusFailed: 1,
        watts: 420,
      }),
    );
    await r.region.store.recordDiskHealth([
      diskHealthInput(m.body.id, 'GOOD1', Date.now()),
      diskHealthInput(m.body.id, 'BAD1', Date.now(), { pendingSectors: 8 }),
    ]);
    const res = await r.api<{
      machines: {
        machine: string;
        rack: string;
        tempMaxCelsius: number;
        watts: number;
        psusFailed: number;
      }[];
      disksAtRisk: { machine: string; serial: string; reason: string; rack: string }[];
    }>('GET', '/api/v1/health');
    assert.equal(res.status, 200);
    const mine = res.body.machines.find((x) => x.machine === m.body.id);
    assert.deepEqual([mine?.rack, mine?.tempMaxCelsius, mine?.watts, mine?.psusFailed], ['r7', 77, 420, 1]);
    assert.deepEqual(
      res.body.disksAtRisk.filter((d) => d.machine === m.body.id).map((d) => [d.serial, d.rack, d.reason]),
      [['BAD1', 'r7', '8 sectors pending reallocation']],
    );
  });

  it('answers 404 for an unknown machine and 400 naming the field for a bad range', async () => {
    assert.equal((await r.api('GET', '/api/v1/machines/m-nope/health')).status, 404);
    const bad = await r.api<{ message: string }>('GET', '/api/v1/machines/m-nope/health?hours=9999');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /hours/);
  });
});
