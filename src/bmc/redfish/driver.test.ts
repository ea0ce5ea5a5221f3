import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { BmcCapability } from '../driver.ts';
import { type Emulator, type MemoryPowerTarget, Quirk, startEmulator } from '../emulator/index.ts';
import { RedfishDriver, type RedfishDriverOptions } from './driver.ts';

const fast: RedfishDriverOptions = { timeoutMs: 2000, retries: 3, backoffMs: 10 };
let emu: Emulator;
const drivers: RedfishDriver[] = [];

function driverFor(id: string, o: RedfishDriverOptions = fast, password = 'secret'): RedfishDriver {
  const d = new RedfishDriver({ address: emu.address(id), username: 'admin', password }, o);
  drivers.push(d);
  return d;
}

const machine = (id: string) => emu.systems.get(id)!.target as MemoryPowerTarget;

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, match?: RegExp): Promise<IngotError> {
  const e = await p.then(
    () => assert.fail('expected a rejection'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof IngotError, `not an IngotError: ${e}`);
  assert.equal(e.code, code, e.message);
  if (match) assert.match(e.message, match);
  assert.doesNotMatch(e.message, /secret/);
  return e;
}

before(async () => {
  emu = await startEmulator({
    systems: 12,
    username: 'admin',
    password: 'secret',
    faults: { rate: 0, hangMs: 5000 },
  });
});
after(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  await emu.close();
});

describe('Redfish driver against the virtual BMC', () => {
  it('powers a machine on and off and reads the new state', async () => {
    const d = driverFor('sys-0001');
    assert.equal(await d.powerState(), 'off');
    await d.power('on');
    assert.equal(machine('sys-0001').on, true);
    assert.equal(await d.powerState(), 'on');
    await d.power('graceful-off');
    assert.equal(await d.powerState(), 'off');
    await d.power('on');
    await d.power('force-off');
    assert.equal(machine('sys-0001').on, false);
  });

  it('sets a one-time PXE boot that the next power-on uses and then clears', async () => {
    const d = driverFor('sys-0002');
    await d.setBootDevice({ device: 'network', mode: 'uefi' });
    assert.deepEqual(emu.systems.get('sys-0002')!.boot, { target: 'Pxe', enabled: 'Once', mode: 'UEFI' });
    await d.power('on');
    await d.power('reset');
    const boots = machine('sys-0002').boots;
    assert.deepEqual(
      boots.map((b) => b.target),
      ['Pxe', 'None'],
    );
  });

  it('sets a persistent legacy disk boot that every boot keeps', async () => {
    const d = driverFor('sys-0003');
    await d.setBootDevice({ device: 'disk', persistent: true, mode: 'legacy' });
    await d.power('on');
    await d.power('cycle');
    assert.deepEqual(
      machine('sys-0003').boots.map((b) => `${b.target}/${b.mode}`),
      ['Hdd/Legacy', 'Hdd/Legacy'],
    );
  });

  it('logs in with a session and deletes it on close', async () => {
    const before = emu.sessionCount();
    const d = new RedfishDriver(
      { address: emu.address('sys-0004'), username: 'admin', password: 'secret' },
      fast,
    );
    await d.powerState();
    assert.equal(emu.sessionCount(), before + 1);
    await d.close();
    await d.close();
    assert.equal(emu.sessionCount(), before);
  });

  it('logs in again when the BMC drops its session', async () => {
    const d = driverFor('sys-0004');
    await d.powerState();
    emu.faults.injectNext('drop-session');
    await d.power('on');
    assert.equal(machine('sys-0004').on, true);
  });

  it('retries a 500 and a timed-out request and then succeeds', async () => {
    const d = driverFor('sys-0005', { ...fast, timeoutMs: 300 });
    emu.faults.injectNext('500');
    assert.equal(await d.powerState(), 'off');
    emu.faults.injectNext('timeout');
    await d.power('on');
    assert.equal(machine('sys-0005').on, true);
  });

  it('re-reads the ETag and patches again after a 412', async () => {
    const d = driverFor('sys-0006');
    emu.faults.injectNext('412');
    await d.setBootDevice({ device: 'cd' });
    assert.equal(emu.systems.get('sys-0006')!.boot.target, 'Cd');
  });

  it('reports the wrong power state once when that fault is injected', async () => {
    const d = driverFor('sys-0007');
    emu.faults.injectNext('wrong-power');
    assert.equal(await d.powerState(), 'on');
    assert.equal(await d.powerState(), 'off');
  });

  it('inserts and ejects virtual media found under the manager', async () => {
    const d = driverFor('sys-0008');
    await d.insertVirtualMedia('http://10.0.0.1/images/install.iso');
    assert.deepEqual(emu.systems.get('sys-0008')!.media, {
      image: 'http://10.0.0.1/images/install.iso',
      inserted: true,
    });
    await d.insertVirtualMedia('http://10.0.0.1/images/other.iso');
    assert.equal(emu.systems.get('sys-0008')!.media.image, 'http://10.0.0.1/images/other.iso');
    await d.ejectVirtualMedia();
    assert.equal(emu.systems.get('sys-0008')!.media.inserted, false);
  });

  it('reads inventory, sensors, the event log and firmware', async () => {
    const d = driverFor('sys-0009');
    await d.power('on');
    const inv = await d.inventory();
    assert.equal(inv.serial, 'INGOT-VBMC-00009');
    assert.equal(inv.memoryBytes, 64 * 2 ** 30);
    assert.deepEqual(
      inv.nics?.map((n) => n.mac),
      ['52:54:00:00:00:09', '52:54:01:00:00:09'],
    );
    assert.equal(inv.drives?.[0].sizeBytes, 480_103_981_056);
    const sensors = await d.sensors();
    assert.equal(sensors.health, 'ok');
    assert.equal(sensors.readings.find((r) => r.kind === 'power')?.value, 185);
    assert.ok(sensors.readings.some((r) => r.kind === 'fan' && r.value === 5400));
    const log = await d.eventLog();
    assert.match(log.at(-1)!.message, /Reset On/);
    assert.deepEqual(
      (await d.firmware()).map((f) => f.name),
      ['BMC firmware', 'BIOS'],
    );
  });

  it('probes capabilities once and caches them', async () => {
    const d = driverFor('sys-0010');
    const caps = await d.capabilities();
    for (const c of Object.values(BmcCapability)) assert.ok(caps.has(c), c);
    const served = emu.stats.requests;
    assert.equal(await d.capabilities(), caps);
    assert.equal(emu.stats.requests, served);
  });

  it('rejects bad credentials with INGOT_BMC_AUTH naming the operation and BMC', async () => {
    const d = driverFor('sys-0011', fast, 'wrong-password');
    const e = await rejectsWith(
      d.power('on'),
      ErrorCode.BmcAuth,
      /power on on BMC redfish\+http:\/\/127\.0\.0\.1:\d+\/redfish\/v1\/Systems\/sys-0011/,
    );
    assert.doesNotMatch(e.message, /wrong-password/);
  });

  it('falls back to basic auth when the BMC has no session service', async () => {
    const plain = await startEmulator({ sessionService: false, username: 'admin', password: 'secret' });
    try {
      const d = new RedfishDriver(
        { address: plain.address('sys-0001'), username: 'admin', password: 'secret' },
        fast,
      );
      await d.power('on');
      assert.equal(await d.powerState(), 'on');
      await d.close();
      const bad = new RedfishDriver(
        { address: plain.address('sys-0001'), username: 'admin', password: 'nope' },
        fast,
      );
      await rejectsWith(bad.powerState(), ErrorCode.BmcAuth);
      await bad.close();
    } finally {
      await plain.close();
    }
  });

  it('reports an unreachable BMC as retryable INGOT_BMC_UNREACHABLE', async () => {
    const gone = await startEmulator();
    const address = gone.address('sys-0001');
    await gone.close();
    const d = new RedfishDriver({ address, username: 'admin', password: 'secret' }, { ...fast, retries: 1 });
    const e = await rejectsWith(
      d.powerState(),
      ErrorCode.BmcUnreachable,
      /read power state on BMC .*unreachable/,
    );
    assert.equal(e.retryable, true);
    await d.close();
  });

  it('discovers the only system when the address names none, and asks for one when there are many', async () => {
    const one = await startEmulator({ password: 'secret' });
    const many = await startEmulator({ systems: 5, pageSize: 2, password: 'secret' });
    try {
      const d = new RedfishDriver(
        { address: `redfish+${one.url}`, username: 'admin', password: 'secret' },
        fast,
      );
      await d.power('on');
      assert.equal((one.systems.get('sys-0001')!.target as MemoryPowerTarget).on, true);
      await d.close();
      const m = new RedfishDriver(
        { address: `redfish+${many.url}/redfish/v1`, username: 'admin', password: 'secret' },
        fast,
      );
      await rejectsWith(m.powerState(), ErrorCode.BmcError, /has 5 systems .*sys-0005.*name one/);
      await m.close();
    } finally {
      await Promise.all([one.close(), many.close()]);
    }
  });
});

describe('Redfish driver over HTTPS', () => {
  let tlsEmu: Emulator;
  before(async () => {
    tlsEmu = await startEmulator({ tls: true, password: 'secret' });
  });
  after(() => tlsEmu.close());

  const addr = () => tlsEmu.address('sys-0001');

  it('refuses a self-signed certificate by default and says how to pin it', async () => {
    const d = new RedfishDriver({ address: addr(), username: 'admin', password: 'secret' }, fast);
    await rejectsWith(d.powerState(), ErrorCode.BmcError, /not trusted.*fingerprint/);
    await d.close();
  });

  it('trusts a certificate pinned by its SHA-256 fingerprint', async () => {
    const d = new RedfishDriver(
      { address: addr(), username: 'admin', password: 'secret' },
      { ...fast, tlsFingerprint: tlsEmu.fingerprint256 },
    );
    assert.equal(await d.powerState(), 'off');
    await d.close();
    const q = new RedfishDriver(
      {
        address: `${addr()}?fingerprint=${tlsEmu.fingerprint256!.replaceAll(':', '').toLowerCase()}`,
        username: 'admin',
        password: 'secret',
      },
      fast,
    );
    await q.power('on');
    assert.equal(await q.powerState(), 'on');
    await q.close();
  });

  it('refuses a certificate whose fingerprint differs from the pinned one', async () => {
    const d = new RedfishDriver(
      { address: addr(), username: 'admin', password: 'secret' },
      { ...fast, tlsFingerprint: 'AB'.repeat(32) },
    );
    await rejectsWith(d.powerState(), ErrorCode.BmcError, /does not match the pinned/);
    await d.close();
  });
});

describe('Redfish driver against a BMC whose links end in / and that redirects (HPE iLO)', () => {
  let ilo: Emulator;
  const ds: RedfishDriver[] = [];
  before(async () => {
    ilo = await startEmulator({
      systems: 2,
      username: 'admin',
      password: 'secret',
      quirks: [Quirk.TrailingSlash],
    });
  });
  after(async () => {
    await Promise.all(ds.map((d) => d.close()));
    await ilo.close();
  });
  const iloDriver = (address: string) => {
    const d = new RedfishDriver({ address, username: 'admin', password: 'secret' }, fast);
    ds.push(d);
    return d;
  };
  const target = (id: string) => ilo.systems.get(id)!.target as MemoryPowerTarget;

  it('powers on and off, sets a one-time boot and inserts and ejects virtual media, by either form of the address', async () => {
    const id = 'sys-0001';
    const withSlash = ilo.address(id);
    assert.match(withSlash, /\/$/);
    for (const address of [withSlash, withSlash.replace(/\/$/, '')]) {
      const d = iloDriver(address);
      await d.power('on');
      assert.equal(target(id).on, true, address);
      assert.equal(await d.powerState(), 'on');
      await d.power('force-off');
      assert.equal(target(id).on, false);
      await d.setBootDevice({ device: 'network', persistent: false });
      await d.power('on');
      assert.equal(target(id).boots.at(-1)?.target, 'Pxe', 'the one-time network boot was used');
      await d.power('force-off');
      await d.insertVirtualMedia('http://10.0.0.1/boot.iso');
      assert.equal(ilo.systems.get(id)!.media.image, 'http://10.0.0.1/boot.iso');
      await d.ejectVirtualMedia();
      assert.equal(ilo.systems.get(id)!.media.inserted, false);
      const caps = await d.capabilities();
      for (const c of [BmcCapability.Power, BmcCapability.BootOverride, BmcCapability.VirtualMedia])
        assert.ok(caps.has(c), c);
      assert.ok((await d.sensors()).readings.length > 0);
    }
  });

  it('discovers the system through slashed links when the address names none', async () => {
    const d = iloDriver(`redfish+${ilo.url}`);
    await assert.rejects(d.powerState(), /2 systems/);
    const one = await startEmulator({
      systems: 1,
      username: 'admin',
      password: 'secret',
      quirks: [Quirk.TrailingSlash],
    });
    try {
      const only = new RedfishDriver(
        { address: `redfish+${one.url}`, username: 'admin', password: 'secret' },
        fast,
      );
      ds.push(only);
      await only.power('on');
      assert.equal((one.systems.get('sys-0001')!.target as MemoryPowerTarget).on, true);
    } finally {
      await one.close();
    }
  });

  it('follows a redirect only on the BMC’s own origin and sends nothing to another host', async () => {
    const seen: string[] = [];
    const elsewhere = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const other = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    const bouncer = createServer((req, res) => {
      res.writeHead(301, { location: `${other}${req.url}` }).end();
    });
    await new Promise<void>((resolve) => bouncer.listen(0, '127.0.0.1', resolve));
    try {
      const d = iloDriver(
        `redfish+http://127.0.0.1:${(bouncer.address() as AddressInfo).port}/redfish/v1/Systems/1`,
      );
      const e = await rejectsWith(d.power('on'), ErrorCode.BmcError, /redirected .* to another host/);
      assert.equal(e.retryable, false);
      assert.deepEqual(seen, []);
    } finally {
      bouncer.close();
      elsewhere.close();
    }
  });
});
