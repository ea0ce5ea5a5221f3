/**
 * A bed node's power target against a real network namespace and real cgroups: power-ons that
 * come together boot one init (a second one beside it ran a second node agent that took every
 * task twice), and a node powered off and on again boots once more. The node's init stands in
 * for the bed's: it joins the node's cgroup, notes its boot, and sleeps.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cgroupPids, killNode } from './node.ts';
import { TestbedPowerTarget } from './power.ts';

const root = process.getuid?.() === 0;
const boot = { target: 'None' as const, mode: 'UEFI' as const, mediaImage: null };

describe('a bed node powered through its target', {
  skip: root ? false : 'needs root (network namespaces, cgroups)',
}, () => {
  const ns = `itp-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'ingot-power-'));
  const node = join(dir, 'pt', 'node1');
  const boots = join(node, 'boots');
  before(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    mkdirSync(node, { recursive: true });
    writeFileSync(
      join(node, 'init.sh'),
      `for h in /sys/fs/cgroup/*/; do [ -d "\${h}${ns}/ingot" ] && echo $$ > "\${h}${ns}/ingot/cgroup.procs"; done\necho $$ >> ${boots}\nexec sleep 600\n`,
    );
    writeFileSync(
      join(dir, 'pt', 'state.json'),
      JSON.stringify({ name: 'pt', nodes: [{ name: 'node1', ns, ip: '', role: 'worker', pid: 0 }] }),
    );
  });
  after(async () => {
    await killNode(ns);
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });
  const booted = () => (existsSync(boots) ? readFileSync(boots, 'utf8').trim().split('\n').length : 0);

  it('boots one init for power-ons that come together, and again after a power-off', async () => {
    const t = new TestbedPowerTarget({ root: dir, bed: 'pt', node: 'node1' });
    await Promise.all([t.powerOn(boot), t.powerOn(boot), t.powerOn(boot)]);
    assert.equal(await t.isOn(), true, 'on once powerOn resolved');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(booted(), 1, 'one init');
    assert.equal(cgroupPids(ns).length, 1);
    await Promise.all([t.powerOff(false), t.powerOn(boot)]);
    assert.equal(await t.isOn(), true, 'the power-on after the power-off booted it again');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(booted(), 2);
    await t.powerOff(false);
    assert.equal(await t.isOn(), false);
  });
});
