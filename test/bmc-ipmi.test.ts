/**
 * The IPMI driver against real IPMI 2.0 BMCs on loopback: OpenIPMI's ipmi_sim (package
 * openipmi) with a chassis_control script, and pyghmi's Bmc (python3-pyghmi). Both refuse
 * cipher suite 17, so every address here says ?cipher=3 (suite 17 handling is unit-tested).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../src/core/errors.ts';
import { BmcCapability } from '../src/bmc/driver.ts';
import { createBmcDriver } from '../src/bmc/index.ts';
import { freeUdpPort, type IpmiSim, startIpmiSim } from './support/ipmi-sim.ts';

// A full sensor record (SDR type 01h) for a threshold temperature sensor "CPU Temp", and an SEL
// entry: Temperature sensor 1, "Upper Critical going high", asserted.
const CPU_TEMP_SDR =
  'main_sdr_add 0x20 0x00 0x00 0x51 0x01 0x33 0x20 0x00 0x01 0x03 0x01 0x7f 0x68 0x01 0x01 0x00 0x00 0x00 0x00 0x38 0x00 0x00 0x01 0x00 0x00 0x01 0x00 0x00 0x00 0x00 0x00 0x00 0x20 0x50 0x00 0xff 0x00 0x64 0x5a 0x50 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0xc8 0x43 0x50 0x55 0x20 0x54 0x65 0x6d 0x70';
const EMU = [
  CPU_TEMP_SDR,
  'sensor_add 0x20 0 1 0x01 0x01',
  'sensor_set_value 0x20 0 1 45 0',
  'sel_add 0x20 0x02 0x00 0x00 0x00 0x00 0x20 0x00 0x04 0x01 0x01 0x01 0x09 0x00 0x00',
];

async function failure(p: Promise<unknown>, code: ErrorCode, secret: string): Promise<IngotError> {
  const e = await p.then(
    () => assert.fail('expected a rejection'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof IngotError, String(e));
  assert.equal(e.code, code, e.message);
  assert.ok(!e.message.includes(secret));
  return e;
}

describe('IPMI driver against ipmi_sim', () => {
  let sim: IpmiSim;
  const driver = (password?: string, query = '?cipher=3') =>
    createBmcDriver(
      {
        address: `ipmi://127.0.0.1:${sim.port}${query}`,
        username: sim.username,
        password: password ?? sim.password,
      },
      { timeoutMs: 4000 },
    );
  before(async () => {
    sim = await startIpmiSim({ extraEmu: EMU });
  });
  after(() => sim?.stop());

  it('powers the machine on and off and reads the state chassis_control keeps', async () => {
    const d = driver();
    assert.equal(await d.powerState(), 'off');
    await d.power('on');
    assert.equal(sim.power(), '1');
    assert.equal(await d.powerState(), 'on');
    await d.power('force-off');
    assert.equal(sim.power(), '0');
    assert.equal(await d.powerState(), 'off');
    await d.power('cycle');
    assert.equal(await d.powerState(), 'on');
    await d.power('graceful-off');
    assert.equal(await d.powerState(), 'off');
  });

  it('sets the boot device the machine will use', async () => {
    const d = driver();
    await d.setBootDevice({ device: 'network', mode: 'uefi' });
    assert.equal(sim.boot(), 'pxe');
    await d.setBootDevice({ device: 'cd', persistent: true });
    assert.equal(sim.boot(), 'cdrom');
    await d.setBootDevice({ device: 'bios-setup' });
    assert.equal(sim.boot(), 'bios');
  });

  it('reads sensors from the SDR, the SEL, firmware and the system GUID', async () => {
    const d = driver();
    const caps = await d.capabilities();
    assert.ok(caps.has(BmcCapability.Sensors) && caps.has(BmcCapability.EventLog));
    assert.ok(!caps.has(BmcCapability.VirtualMedia));
    const sensors = await d.sensors();
    assert.deepEqual(sensors.readings, [
      { name: 'CPU Temp', kind: 'temperature', value: 45, unit: 'Cel', health: 'ok' },
    ]);
    assert.equal(sensors.health, 'ok');
    const sel = await d.eventLog();
    assert.equal(sel.length, 1);
    assert.equal(sel[0].severity, 'critical');
    // ipmitool names the sensor from its SDR record.
    assert.match(sel[0].message, /^Temperature CPU Temp: Upper Critical going high \(Asserted\)$/);
    assert.deepEqual(await d.firmware(), [{ name: 'BMC', version: '9.08' }]);
    assert.match((await d.inventory()).uuid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('rejects a wrong password with INGOT_BMC_AUTH', async () => {
    const e = await failure(driver('not-the-password').powerState(), ErrorCode.BmcAuth, 'not-the-password');
    assert.match(
      e.message,
      new RegExp(
        `^read power state on BMC ipmi://127\\.0\\.0\\.1:${sim.port}: the BMC rejected the credentials`,
      ),
    );
  });

  it('names cipher suite 17, which ipmi_sim refuses, and how to change it', async () => {
    const e = await failure(driver(undefined, '').power('on'), ErrorCode.BmcUnsupported, sim.password);
    assert.match(e.message, /refused IPMI cipher suite 17 .*\?cipher=3/);
  });

  it('reports a port where no BMC listens as retryable INGOT_BMC_UNREACHABLE', async () => {
    const port = await freeUdpPort();
    const d = createBmcDriver(
      { address: `ipmi://127.0.0.1:${port}?cipher=3`, username: 'admin', password: 'x' },
      { timeoutMs: 2000 },
    );
    const e = await failure(d.powerState(), ErrorCode.BmcUnreachable, 'x-never');
    assert.equal(e.retryable, true);
  });
});

describe('IPMI driver against pyghmi Bmc', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingot-pyghmi-'));
  const stateFile = path.join(dir, 'state.json');
  let proc: ChildProcess | undefined;
  let port = 0;
  const state = () => JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const driver = (password = 'pyg-pass') =>
    createBmcDriver(
      { address: `ipmi://127.0.0.1:${port}?cipher=3`, username: 'admin', password },
      { timeoutMs: 4000 },
    );

  before(async () => {
    proc = spawn(
      '/usr/bin/python3',
      [path.join(import.meta.dirname, 'support/pyghmi-bmc.py'), stateFile, 'admin', 'pyg-pass'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const child = proc;
    process.once('exit', () => child.kill('SIGKILL'));
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('pyghmi did not start')), 15_000);
      let out = '';
      proc!.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /port (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      proc!.once('exit', (code) => reject(new Error(`pyghmi exited with ${code}`)));
    });
  });
  after(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('powers the machine on, softly off and reads the state', async () => {
    const d = driver();
    await d.power('on');
    assert.equal(await d.powerState(), 'on');
    await d.power('graceful-off');
    assert.equal(await d.powerState(), 'off');
    assert.deepEqual(state().actions, ['on', 'soft']);
  });

  it('sends a persistent UEFI PXE boot with the EFI and persistent flags set', async () => {
    await driver().setBootDevice({ device: 'network', persistent: true, mode: 'uefi' });
    assert.deepEqual([state().boot, state().efi, state().persistent], ['network', true, true]);
    await driver().setBootDevice({ device: 'disk' });
    assert.deepEqual([state().boot, state().efi, state().persistent], ['hd', false, false]);
  });

  it('rejects a wrong password with INGOT_BMC_AUTH', async () => {
    await failure(driver('wrong-pass').powerState(), ErrorCode.BmcAuth, 'wrong-pass');
  });
});
