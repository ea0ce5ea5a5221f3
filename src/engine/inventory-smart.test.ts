/**
 * Commissioning keeps each disk's SMART counters: the agent's inventory carries smartctl's JSON
 * per disk (real smartmontools output, test/fixtures/smartctl) and the inventory step stores it
 * per serial, in the same write as the inventory.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import '../bmc/fake.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { machineInput } from '../store/testing.ts';
import { requestAction } from './actions.ts';
import { FakeAgent, fakeInventory } from './fake-agent.ts';
import { POLL } from './steps.ts';
import { Worker } from './worker.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/smartctl/${name}`, import.meta.url), 'utf8'));

describe('the inventory step and SMART', () => {
  let store: SqlStore;
  let dir: string;
  before(async () => {
    POLL.agentMs = 10;
    dir = await mkdtemp(join(tmpdir(), 'ingot-inv-smart-'));
    store = await openStore({ dataDir: dir });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores each disk’s SMART counters by serial when commissioning, and notes the ones it cannot key', async () => {
    const m = await store.createMachine(
      machineInput({ bmc: { address: 'fake://smart1', username: 'u', password: 'p' } }),
      't',
    );
    const ata = fixture('ata-seagate-st3500418as.json');
    ata.serial_number = 'Z2A1B2C3';
    const raid = fixture('nvme-samsung-970-evo-plus.json');
    delete raid.serial_number;
    const agent = new FakeAgent();
    const w = new Worker({
      store,
      pollMs: 10,
      agent: {
        task: async (machine, job, task) =>
          task === 'inventory'
            ? {
                status: 'done',
                result: {
                  ...fakeInventory(machine),
                  details: {
                    smart: [
                      { disk: 'sdb', health: 'passed', smartctl: ata },
                      { disk: 'nvme0n1', health: 'passed', smartctl: raid },
                      { disk: 'vda', health: 'unsupported' },
                    ],
                  },
                },
              }
            : agent.task(machine, job, task),
      },
    });
    w.start();
    try {
      await requestAction(store, { machineId: m.id, action: 'commission', actor: 'user:t' });
      for (let i = 0; i < 500 && (await store.getMachine(m.id)).state !== 'ready'; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal((await store.getMachine(m.id)).state, 'ready');
      const disks = await store.diskHealthHistory(m.id, 0);
      assert.deepEqual(
        disks.map((d) => [d.serial, d.device, d.reallocatedSectors, d.pendingSectors, d.passed, d.source]),
        [['Z2A1B2C3', '/dev/sdb', 1, 0, true, 'agent']],
      );
      const step = (await store.listEvents({ machineId: m.id, limit: 200 })).find(
        (e) =>
          e.type === 'step.completed' && /SMART kept for 1 \(1 without a serial, not kept\)/.test(e.message),
      );
      assert.ok(step, 'the inventory step says what it kept and what it could not');
    } finally {
      await w.stop();
    }
  });
});
