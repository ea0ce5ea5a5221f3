/**
 * `ingot lab up|status|down` through the CLI, as root: the lab daemon starts detached, a VM is
 * powered on through its Redfish BMC, then the daemon is killed with SIGKILL (a crash). The next
 * `lab up` must stop the orphans by PID and recreate the namespaces; `lab down` must leave
 * nothing behind: no namespaces, no QEMU, no rack services, no state file.
 */
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { alive } from '../src/host/process.ts';
import { labNetwork, listNamespaces, removeNetwork } from '../src/lab/netns.ts';
import { type LabState, labDirFor, readState } from '../src/lab/state.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';
import { holdQemuTests } from './support/qemu-tests.ts';
import { skipUnless } from './support/needs.ts';

const execFile = promisify(execFileCb);
/** The real `ingot` command. */
const INGOT = new URL('../bin/ingot', import.meta.url).pathname;

describe('ingot lab CLI', {
  skip: skipUnless({ root: true, files: { 'qemu-system-x86': '/usr/bin/qemu-system-x86_64' } }),
}, () => {
  const name = `c${process.pid % 100000}`;
  let region: TestRegion;
  const ingot = (...args: string[]) =>
    execFile(INGOT, [
      '--url',
      region.url,
      '--token',
      region.adminToken,
      '--fingerprint',
      region.fingerprint!,
      'lab',
      ...args,
      '--name',
      name,
      '--data',
      region.dataDir,
    ]).then(
      (r) => r.stdout,
      (e: { stdout: string; stderr: string; code: number }) => {
        throw new Error(`ingot lab ${args.join(' ')} exited ${e.code}: ${e.stderr}${e.stdout}`);
      },
    );

  let releaseQemu: () => void = () => undefined;
  before(async () => {
    releaseQemu = await holdQemuTests('lab-cli');
    region = await startTestRegion();
  });
  after(async () => {
    await ingot('down').catch(() => undefined);
    await removeNetwork(labNetwork(name)).catch(() => undefined);
    await region?.stop();
    releaseQemu();
  });

  it('cleans up after a crashed lab on the next up, and leaves nothing behind on down', {
    timeout: 120_000,
  }, async () => {
    await ingot('up', '--machines', '1', '--firmware', 'bios', '--kernel-args', 'ingot.after=wait');
    const labDir = labDirFor(region.dataDir, name);
    const first = readState(labDir) as LabState;
    assert.equal(first.status, 'up');
    const status = JSON.parse(await ingot('status', '-o', 'json'));
    assert.equal(status.status, 'up');
    assert.deepEqual(status.namespaces.sort(), [`ingot-${name}-prov`, `ingot-${name}-rack`]);
    const listed = await region.api<{ items: { hostname: string; state: string }[] }>(
      'GET',
      '/api/v1/machines?tag=lab',
    );
    assert.ok(listed.body.items.some((m) => m.hostname === `${name}-vm1` && m.state === 'new'));

    // Power the VM on through its BMC so a QEMU process is running when the daemon dies.
    const sys = `${first.bmc.url}/redfish/v1/Systems/${first.machines[0].systemId}`;
    const auth = `Basic ${Buffer.from(`admin:${first.bmc.password}`).toString('base64')}`;
    const on = await fetch(`${sys}/Actions/ComputerSystem.Reset`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ ResetType: 'On' }),
    });
    assert.equal(on.status, 204);
    const qemuPid = await eventually(
      async () => readState(labDir)?.machines[0].qemuPid,
      10_000,
      'QEMU to start',
    );
    const orphans = [qemuPid, first.rackPid!];
    process.kill(first.ownerPid, 'SIGKILL');
    await eventually(async () => !alive(first.ownerPid), 5_000, 'the daemon to die');
    assert.ok(orphans.every(alive), 'QEMU and the rack services outlive the crashed daemon');
    assert.equal(
      JSON.parse(
        await ingot('status', '-o', 'json').catch((e: Error) => e.message.slice(e.message.indexOf('{'))),
      ).status,
      'degraded',
    );

    await ingot('up', '--machines', '1', '--firmware', 'bios');
    const second = readState(labDir) as LabState;
    assert.notEqual(second.ownerPid, first.ownerPid);
    assert.ok(
      orphans.every((p) => !alive(p)),
      'the orphans of the crashed lab were stopped',
    );

    const down = await ingot('down');
    assert.match(down, /stopped the lab process/);
    assert.ok(!alive(second.ownerPid) && !alive(second.rackPid));
    assert.equal(readState(labDir), null);
    const left = (await listNamespaces()).filter((n) => n.startsWith(`ingot-${name}-`));
    assert.deepEqual(left, []);
    assert.ok(!existsSync(join(labDir, 'state.json')));
  });
});
