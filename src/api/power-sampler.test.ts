/** The region's power sampler against a virtual Redfish BMC: readings recorded without anyone opening a page. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from '../../test/support/region.ts';
import { type Emulator, startEmulator } from '../bmc/emulator/index.ts';

describe('power sampler', () => {
  let r: TestRegion;
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ systems: 1, username: 'admin', password: 'emu-Secret-ps1' });
    r = await startTestRegion({ powerSampleMs: 150 });
  });
  after(async () => {
    await r?.stop();
    await emu?.close();
  });

  it('records each machine’s power from its BMC on a timer, skipping BMCs without sensors', async () => {
    await emu.systems.get('sys-0001')!.reset('On');
    const bmc = await r.api<{ id: string }>(
      'POST',
      '/api/v1/machines',
      newMachineBody({
        bmc: { address: emu.address('sys-0001'), username: 'admin', password: 'emu-Secret-ps1' },
      }),
    );
    const fake = await r.api<{ id: string }>('POST', '/api/v1/machines', newMachineBody());
    const avg = await eventually(
      async () => (await r.region.store.averagePower(0)).get(bmc.body.id) ?? null,
      10_000,
      'a power reading from the sampler',
    );
    assert.deepEqual(avg, { watts: 185, readings: 1 });
    assert.equal((await r.region.store.averagePower(0)).has(fake.body.id), false, 'fake:// has no sensors');
    // A round reads the one BMC that reports sensors; the fake one is skipped without failing the round.
    assert.equal(await r.region.powerSampler!.sampleOnce(), 1);
  });
});
