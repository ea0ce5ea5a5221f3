/**
 * The lab's power target answers a power-on at once, like a BMC, even when every VM slot on the
 * host is taken: QEMU starts when a slot frees, and a power-off before then cancels the start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { QemuMachine } from './qemu.ts';

const dir = mkdtempSync(join(tmpdir(), 'ingot-slots-'));
process.env.INGOT_VM_SLOTS_DIR = dir;
process.env.INGOT_MAX_VMS = '1';
const { QemuPowerTarget } = await import('./qemu-power-target.ts');
const { acquireVmSlot } = await import('../host/vm-slots.ts');

const boot = { target: 'Pxe', mode: 'Legacy', mediaImage: null } as const;

function machine(name: string): QemuMachine {
  return {
    name,
    firmware: 'bios',
    mac: '52:54:00:00:00:01',
    memoryMiB: 64,
    tap: 'tap-none',
    disk: join(dir, `${name}.img`),
    vars: join(dir, `${name}.vars`),
    consoleLog: join(dir, `${name}.console`),
    qmpSocket: join(dir, `${name}.qmp`),
    pidFile: join(dir, `${name}.pid`),
    accel: 'tcg',
  };
}

describe('QemuPowerTarget with no VM slot free', () => {
  let hold: () => void = () => undefined;
  before(async () => {
    hold = await acquireVmSlot('test-holder', 1000);
  });
  after(() => {
    hold();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a power-on at once and reports on; a power-off before a slot frees cancels the start', async () => {
    const starts: number[] = [];
    // The namespace does not exist: were QEMU started, `ip netns exec` would fail, and onStart tell.
    const t = new QemuPowerTarget({
      machine: machine('vm-a'),
      rackNs: 'ingot-test-no-such-ns',
      qemuLog: join(dir, 'a.log'),
      onStart: (pid) => starts.push(pid),
    });
    // Were power-on waiting for the slot (held by this test), it would never answer here.
    const answered = await Promise.race([
      t.powerOn(boot).then(() => 'answered'),
      sleep(10_000).then(() => 'still waiting for a slot'),
    ]);
    assert.equal(answered, 'answered');
    assert.equal(await t.isOn(), true, 'a power-on waiting for its slot reports on');
    await t.powerOff(false);
    assert.equal(await t.isOn(), false);
    hold();
    await sleep(600);
    assert.deepEqual(starts, [], 'the cancelled power-on never started QEMU');
    hold = await acquireVmSlot('test-holder', 1000);
  });

  it('starts the machine when the slot frees, and gives the slot back when it exits', async () => {
    let exited = false;
    const starts: number[] = [];
    const t = new QemuPowerTarget({
      machine: machine('vm-b'),
      rackNs: 'ingot-test-no-such-ns',
      qemuLog: join(dir, 'b.log'),
      onStart: (pid) => starts.push(pid),
      onExit: () => {
        exited = true;
      },
    });
    await t.powerOn(boot);
    await sleep(500);
    assert.deepEqual(starts, [], 'no start while the slot is held');
    hold();
    await t.started();
    assert.equal(starts.length, 1, 'started once the slot was free');
    for (let i = 0; i < 50 && !exited; i++) await sleep(100);
    assert.ok(exited, 'the process ended (its namespace does not exist)');
    hold = await acquireVmSlot('test-holder', 1000);
  });
});
