import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IngotError } from '../../core/errors.ts';
import { type Emulator, type MemoryPowerTarget, startEmulator } from '../emulator/index.ts';
import { RedfishDriver } from './driver.ts';

/**
 * The driver's own retries under 30% injected faults of every kind. The engine adds its retries
 * on top (its 100-workflow test lives with the engine); here each flow must end, either done or
 * with an IngotError that names what failed.
 */
describe('Redfish driver under 30% injected faults', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({
      systems: 40,
      password: 'pw',
      faults: { rate: 0.3, seed: 7, slowMs: 50, hangMs: 3000 },
    });
  });
  after(() => emu.close());

  it('ends every concurrent power-cycle and boot-override flow, most of them done', async () => {
    const results = await Promise.all(
      [...emu.systems.keys()].map(async (id) => {
        const d = new RedfishDriver(
          { address: emu.address(id), username: 'admin', password: 'pw' },
          { timeoutMs: 400, retries: 4, backoffMs: 20 },
        );
        try {
          await d.setBootDevice({ device: 'network' });
          await d.power('on');
          await d.power('cycle');
          return 'done';
        } catch (e) {
          assert.ok(e instanceof IngotError, String(e));
          assert.match(
            e.message,
            new RegExp(`BMC redfish\\+http://127\\.0\\.0\\.1:\\d+/redfish/v1/Systems/${id}`),
          );
          assert.ok(!e.message.includes('pw@'));
          return e.code;
        } finally {
          await d.close();
        }
      }),
    );
    const done = results.filter((r) => r === 'done').length;
    assert.ok(done >= results.length * 0.6, `only ${done} of ${results.length} done: ${results.join(', ')}`);
    assert.ok(Object.values(emu.faults.injected).reduce((a, b) => a + b, 0) > 20);
    // A finished flow really booted from the network at least once.
    const booted = [...emu.systems.values()].filter((s) =>
      (s.target as MemoryPowerTarget).boots.some((b) => b.target === 'Pxe'),
    );
    assert.ok(booted.length >= done);
  });
});
