/**
 * End to end, as root: a region, a lab of two VMs (one BIOS, one UEFI) behind the virtual
 * Redfish BMC, Ingot's rack services in the lab's namespace. Commissioning powers each VM on
 * through its BMC → DHCP → iPXE → HTTP kernel + initrd → the ephemeral initramfs phones home
 * with its boot token → the agent takes its inventory task → the machine becomes ready, and its
 * timeline shows every step. Skipped (with the reason) where QEMU or root is missing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { findConsoleLog, readTail } from '../src/host/console-log.ts';
import { type Lab, startLab } from '../src/lab/lab.ts';
import { labNetwork, removeNetwork } from '../src/lab/netns.ts';
import { apiRegion } from '../src/lab/region-client.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';
import { holdQemuTests } from './support/qemu-tests.ts';
import { skipUnless } from './support/needs.ts';

describe('lab end to end: BMC power-on to agent phone-home', {
  skip: skipUnless({
    root: true,
    files: {
      'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
      ovmf: '/usr/share/OVMF/OVMF_CODE_4M.fd',
      'busybox-static': '/bin/busybox',
    },
  }),
}, () => {
  const name = `e${process.pid % 100000}`;
  let region: TestRegion;
  let lab: Lab | null = null;

  let releaseQemu: () => void = () => undefined;
  before(async () => {
    releaseQemu = await holdQemuTests('lab-e2e');
    // The region's own agent port: the real agent in each VM takes its inventory task, so the VM
    // is still running when it prints its phone-home marker (the hello-only port powered it off
    // at once, sometimes before the marker reached the serial console).
    region = await startTestRegion({ agentPollMs: 200 });
    lab = await startLab({
      name,
      dataDir: region.dataDir,
      region: apiRegion(region.url, region.adminToken, region.fingerprint),
      machines: 2,
      firmware: ['bios', 'uefi'],
    });
  });

  after(async () => {
    await lab?.close().catch(() => undefined);
    // Belt and braces: the namespaces go even if close() failed halfway.
    await removeNetwork(labNetwork(name)).catch(() => undefined);
    await region?.stop();
    releaseQemu();
  });

  it('commissions a BIOS and a UEFI VM through DHCP, iPXE, HTTP boot and the phone-home', {
    timeout: 240_000,
  }, async () => {
    assert.ok(lab);
    const machines = lab.state.machines;
    assert.deepEqual(
      machines.map((m) => m.firmware),
      ['bios', 'uefi'],
    );
    for (const m of machines) {
      const r = await region.api('POST', `/api/v1/machines/${m.machineId}/actions/commission`, {
        params: { lldpSeconds: 0 },
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
    }
    const store = region.region.store;
    for (const m of machines) {
      await eventually(
        async () => {
          const s = (await store.getMachine(m.machineId)).state;
          if (s === 'failed_commissioning') throw new Error(`${m.hostname} failed commissioning`);
          return s === 'ready';
        },
        180_000,
        `${m.hostname} (${m.firmware}) to become ready`,
      ).catch((e: Error) => {
        const tail = existsSync(m.consoleLog) ? readTail(m.consoleLog, 2000).text : '(no console output)';
        throw new Error(`${e.message}\nconsole of ${m.hostname}:\n${tail}`);
      });
    }
    for (const m of machines) {
      const ev = await store.listEvents({ machineId: m.machineId, limit: 1000 });
      const types = ev.map((e) => e.type);
      const at = (t: string, pred: (e: (typeof ev)[number]) => boolean = () => true) =>
        ev.findIndex((e) => e.type === t && pred(e));
      for (const t of [
        'dhcp.discover',
        'dhcp.offer',
        'dhcp.request',
        'dhcp.ack',
        'http.script',
        'agent.hello',
        'agent.inventory',
      ])
        assert.ok(types.includes(t), `${m.hostname}: ${t} missing from ${types.join(', ')}`);
      const kernel = at(
        'http.artifact',
        (e) => String(e.data.path).endsWith('/vmlinuz') && e.data.complete === true,
      );
      const initrd = at(
        'http.artifact',
        (e) => String(e.data.path).endsWith('/initrd.img') && e.data.complete === true,
      );
      assert.ok(kernel >= 0 && initrd >= 0, `${m.hostname}: kernel and initrd fetches missing`);
      const script = at('http.script');
      assert.equal(ev[script].data.boot, 'ephemeral');
      const hello = at('agent.hello');
      assert.ok(
        script < kernel && script < initrd && kernel < hello && initrd < hello,
        `${m.hostname}: steps out of order`,
      );
      assert.equal(ev[hello].data.leaseMatch, true, 'the agent phones home from its DHCP lease');
      assert.ok(types.includes('machine.transition'));
      const log = findConsoleLog(region.dataDir, m.machineId);
      assert.equal(log, m.consoleLog);
      // The guest prints its marker only after the phone-home call returns: wait for it.
      let console = readTail(log!, 1 << 20).text;
      for (let i = 0; i < 150 && !/INGOT-PHONEHOME-OK/.test(console); i++) {
        await new Promise((r) => setTimeout(r, 100));
        console = readTail(log!, 1 << 20).text;
      }
      assert.match(console, /INGOT-PHONEHOME-OK/);
      assert.doesNotMatch(console, /ingot\.token=/, 'the boot token must not be printed on the console');
    }
  });
});
