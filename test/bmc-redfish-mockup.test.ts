/**
 * The Redfish driver against the DMTF public-rackmount1 mockup (a real vendor-neutral Redfish
 * tree): VirtualMedia under Systems without actions, SimpleStorage, the Sensors collection,
 * ThermalSubsystem/PowerSubsystem and legacy Thermal/Power.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../src/core/errors.ts';
import { BmcCapability } from '../src/bmc/driver.ts';
import { createBmcDriver } from '../src/bmc/index.ts';
import type { BmcDriver } from '../src/bmc/driver.ts';
import { type MockupServer, RACKMOUNT1, startMockupServer } from './support/redfish-mockup-server.ts';

const SYS = '/redfish/v1/Systems/437XR1138R2';
const fast = { timeoutMs: 2000, retries: 1, backoffMs: 10, powerOffWaitMs: 5000 } as const;

describe('Redfish driver against the DMTF public-rackmount1 mockup', () => {
  let mock: MockupServer;
  let d: BmcDriver;
  before(async () => {
    mock = await startMockupServer(RACKMOUNT1);
    // No system in the address: the driver discovers the mockup's only system.
    d = createBmcDriver({ address: `redfish+${mock.url}`, username: 'root', password: 'calvin' }, fast);
  });
  after(async () => {
    await d.close();
    await mock.close();
  });

  const posted = (suffix: string) =>
    mock.requests.filter((r) => r.method === 'POST' && r.path.endsWith(suffix)).map((r) => r.body);

  it('discovers the system and reads its power state through a session', async () => {
    assert.equal(await d.powerState(), 'on');
    const get = mock.requests.find((r) => r.method === 'GET' && r.path === SYS);
    assert.equal(get?.headers['x-auth-token'], 'token-S1');
  });

  it('chooses reset types from the allowed values and emulates a cycle with ForceOff then On', async () => {
    await d.power('reset');
    await d.power('cycle');
    assert.equal(await d.powerState(), 'on');
    await d.power('graceful-off');
    assert.equal(await d.powerState(), 'off');
    await d.power('on');
    assert.deepEqual(posted('ComputerSystem.Reset'), [
      { ResetType: 'ForceRestart' },
      { ResetType: 'ForceOff' },
      { ResetType: 'On' },
      { ResetType: 'GracefulShutdown' },
      { ResetType: 'On' },
    ]);
  });

  it('sets a one-time PXE boot in UEFI mode with a PATCH the mockup keeps', async () => {
    await d.setBootDevice({ device: 'cd', persistent: true });
    await d.setBootDevice({ device: 'network', mode: 'uefi' });
    const patch = mock.requests.filter((r) => r.method === 'PATCH' && r.path === SYS).at(-1);
    assert.deepEqual(patch?.body, {
      Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' },
    });
  });

  it('refuses UEFI HTTP boot, which the system does not allow, with INGOT_BMC_UNSUPPORTED', async () => {
    const e = await d.setBootDevice({ device: 'uefi-http' }).catch((x: unknown) => x);
    assert.ok(e instanceof IngotError);
    assert.equal(e.code, ErrorCode.BmcUnsupported);
    assert.match(
      e.message,
      /^set boot device uefi-http is not supported by BMC redfish\+http:\/\/127\.0\.0\.1:\d+: boot target UefiHttp/,
    );
    assert.ok(!(await d.capabilities()).has(BmcCapability.UefiHttpBoot));
  });

  it('inserts virtual media under Systems by PATCH, ejecting the loaded image first', async () => {
    await d.insertVirtualMedia('http://10.1.1.1/boot.iso');
    const patches = mock.requests
      .filter((r) => r.method === 'PATCH' && r.path === `${SYS}/VirtualMedia/CD1`)
      .map((r) => r.body);
    assert.deepEqual(patches, [
      { Image: null, Inserted: false },
      { Image: 'http://10.1.1.1/boot.iso', Inserted: true },
    ]);
    assert.ok((await d.capabilities()).has(BmcCapability.VirtualMedia));
  });

  it('reads the inventory, SimpleStorage drives and de-duplicated NICs', async () => {
    const inv = await d.inventory();
    assert.equal(inv.model, '3500');
    assert.equal(inv.serial, '437XR1138R2');
    assert.equal(inv.uuid, '38947555-7742-3448-3784-823347823834');
    assert.equal(inv.biosVersion, 'P79 v1.45 (12/06/2017)');
    assert.deepEqual(inv.cpus, {
      model: 'Multi-Core Intel(R) Xeon(R) processor 7xxx Series',
      count: 2,
      cores: 8,
      threads: 16,
    });
    assert.equal(inv.memoryBytes, 96 * 2 ** 30);
    assert.deepEqual(
      inv.drives?.map((x) => x.sizeBytes),
      [8_000_000_000_000, 4_000_000_000_000],
    );
    assert.deepEqual(
      inv.nics?.map((n) => n.mac),
      ['12:44:6a:3b:04:11', 'aa:bb:cc:dd:ee:00', 'aa:bb:cc:dd:ee:fe'],
    );
  });

  it('reads sensors from the Sensors collection', async () => {
    const s = await d.sensors();
    assert.equal(s.health, 'ok');
    const cpu = s.readings.find((r) => r.name === 'CPU #1 Temperature');
    assert.deepEqual(cpu, {
      name: 'CPU #1 Temperature',
      kind: 'temperature',
      value: 37,
      unit: 'Cel',
      health: 'ok',
    });
    assert.ok(s.readings.some((r) => r.kind === 'fan' && r.unit === '%'));
    assert.deepEqual(
      s.readings.find((r) => r.name === 'Power reading for the Chassis'),
      { name: 'Power reading for the Chassis', kind: 'power', value: 374, unit: 'W', health: 'ok' },
    );
  });

  it('reads the SEL and the firmware inventory', async () => {
    const log = await d.eventLog();
    assert.deepEqual(
      log.map((e) => [e.id, e.severity, e.message]),
      [
        ['1', 'critical', 'Temperature threshold exceeded'],
        ['2', 'critical', 'Temperature threshold exceeded'],
      ],
    );
    assert.deepEqual(await d.firmware(), [
      { name: 'Contoso BMC Firmware', version: '1.45.455b66-rev4' },
      { name: 'Contoso Simple Storage Firmware', version: '2.50' },
      { name: 'Contoso BIOS Firmware', version: 'P79 v1.45' },
    ]);
  });

  it('deletes its session on close', async () => {
    const other = createBmcDriver(
      { address: `redfish+${mock.url}${SYS}`, username: 'root', password: 'calvin' },
      fast,
    );
    await other.powerState();
    await other.close();
    assert.ok(
      mock.requests.some((r) => r.method === 'DELETE' && /\/SessionService\/Sessions\/S\d+$/.test(r.path)),
    );
  });
});

describe('Redfish links written as absolute URLs', () => {
  it('follows them on the BMC origin only', async () => {
    const mock = await startMockupServer(RACKMOUNT1, {
      transform: (p, body) => {
        if (p === '/redfish/v1/Systems') body.Members = [{ '@odata.id': `http://203.0.113.9:1${SYS}` }];
        return body;
      },
    });
    const d = createBmcDriver({ address: `redfish+${mock.url}`, username: 'u', password: 'p' }, fast);
    try {
      assert.equal(await d.powerState(), 'on');
    } finally {
      await d.close();
      await mock.close();
    }
  });
});

describe('Redfish sensors on BMCs without the Sensors collection', () => {
  const hide = (keys: string[]) => (p: string, body: Record<string, unknown>) => {
    if (p === '/redfish/v1/Chassis/1U') for (const k of keys) delete body[k];
    return body;
  };

  it('falls back to ThermalSubsystem and PowerSubsystem', async () => {
    const mock = await startMockupServer(RACKMOUNT1, { transform: hide(['Sensors']) });
    const d = createBmcDriver({ address: `redfish+${mock.url}${SYS}`, username: 'u', password: 'p' }, fast);
    try {
      const s = await d.sensors();
      assert.deepEqual(
        s.readings.filter((r) => r.kind === 'temperature').map((r) => [r.name, r.value]),
        [
          ['Intake', 24.8],
          ['Exhaust', 40.5],
        ],
      );
      assert.ok(s.readings.some((r) => r.kind === 'fan' && r.name === 'Fan for CPU 1' && r.value === 45));
      assert.deepEqual(
        s.readings.filter((r) => r.kind === 'power').map((r) => r.value),
        [937.4],
      );
    } finally {
      await d.close();
      await mock.close();
    }
  });

  it('falls back to legacy Thermal and Power', async () => {
    const mock = await startMockupServer(RACKMOUNT1, {
      transform: hide(['Sensors', 'ThermalSubsystem', 'PowerSubsystem']),
    });
    const d = createBmcDriver({ address: `redfish+${mock.url}${SYS}`, username: 'u', password: 'p' }, fast);
    try {
      const s = await d.sensors();
      assert.equal(s.readings.find((r) => r.name === 'CPU1 Temp')?.value, 41);
      assert.equal(s.readings.find((r) => r.kind === 'fan')?.value, 2100);
      assert.equal(s.readings.find((r) => r.kind === 'power')?.value, 344);
    } finally {
      await d.close();
      await mock.close();
    }
  });
});
