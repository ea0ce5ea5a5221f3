import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Emulator, Quirk, startEmulator } from './index.ts';

let emu: Emulator;
const auth = { Authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  const res = await fetch(emu.url + path, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const messageId = (b: { error: { '@Message.ExtendedInfo': { MessageId: string }[] } }) =>
  b.error['@Message.ExtendedInfo'][0].MessageId;

before(async () => {
  emu = await startEmulator({ systems: 250, password: 'pw' });
});
after(() => emu.close());

describe('virtual Redfish BMC', () => {
  it('serves the service root without credentials and everything else only with them', async () => {
    assert.equal((await call('GET', '/redfish/v1/', undefined, {})).status, 200);
    const denied = await call('GET', '/redfish/v1/Systems', undefined, {});
    assert.equal(denied.status, 401);
    assert.equal(messageId(denied.body), 'Base.1.8.NoValidSession');
    const wrong = await call('GET', '/redfish/v1/Systems', undefined, {
      Authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}`,
    });
    assert.equal(wrong.status, 401);
  });

  it('creates a session with X-Auth-Token and Location and deletes it', async () => {
    const bad = await call(
      'POST',
      '/redfish/v1/SessionService/Sessions',
      { UserName: 'admin', Password: 'x' },
      {},
    );
    assert.equal(bad.status, 401);
    const s = await call(
      'POST',
      '/redfish/v1/SessionService/Sessions',
      { UserName: 'admin', Password: 'pw' },
      {},
    );
    assert.equal(s.status, 201);
    const token = s.headers.get('x-auth-token')!;
    const location = s.headers.get('location')!;
    assert.equal(
      (await call('GET', '/redfish/v1/Systems/sys-0001', undefined, { 'X-Auth-Token': token })).status,
      200,
    );
    assert.equal((await call('DELETE', location, undefined, { 'X-Auth-Token': token })).status, 204);
    assert.equal(
      (await call('GET', '/redfish/v1/Systems/sys-0001', undefined, { 'X-Auth-Token': token })).status,
      401,
    );
  });

  it('pages the 250 systems with Members@odata.nextLink', async () => {
    const ids: string[] = [];
    let next: string | undefined = '/redfish/v1/Systems';
    while (next) {
      const page: {
        Members: { '@odata.id': string }[];
        'Members@odata.count': number;
        'Members@odata.nextLink'?: string;
      } = (await call('GET', next)).body;
      assert.equal(page['Members@odata.count'], 250);
      ids.push(...page.Members.map((m) => m['@odata.id']));
      next = page['Members@odata.nextLink'];
    }
    assert.equal(new Set(ids).size, 250);
    assert.equal(ids.at(-1), '/redfish/v1/Systems/sys-0250');
  });

  it('refuses a PATCH with a stale ETag with 412 and accepts the current one', async () => {
    const first = await call('GET', '/redfish/v1/Systems/sys-0002');
    const etag = first.headers.get('etag')!;
    assert.equal(first.body['@odata.etag'], etag);
    const boot = { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } };
    assert.equal(
      (await call('PATCH', '/redfish/v1/Systems/sys-0002', boot, { ...auth, 'If-Match': etag })).status,
      204,
    );
    const stale = await call('PATCH', '/redfish/v1/Systems/sys-0002', boot, { ...auth, 'If-Match': etag });
    assert.equal(stale.status, 412);
    assert.equal(messageId(stale.body), 'Base.1.8.PreconditionFailed');
  });

  it('rejects values outside the allowed lists with 400 and the Redfish message', async () => {
    const target = await call('PATCH', '/redfish/v1/Systems/sys-0003', {
      Boot: { BootSourceOverrideTarget: 'Floppy' },
    });
    assert.equal(target.status, 400);
    assert.equal(messageId(target.body), 'Base.1.8.PropertyValueNotInList');
    const reset = await call('POST', '/redfish/v1/Systems/sys-0003/Actions/ComputerSystem.Reset', {
      ResetType: 'Explode',
    });
    assert.equal(reset.status, 400);
    assert.equal(messageId(reset.body), 'Base.1.8.ActionParameterNotSupported');
    const ro = await call('PATCH', '/redfish/v1/Systems/sys-0003', { SerialNumber: 'X' });
    assert.equal(messageId(ro.body), 'Base.1.8.PropertyNotWritable');
    assert.equal((await call('GET', '/redfish/v1/Systems/nope')).status, 404);
    assert.equal((await call('DELETE', '/redfish/v1/Systems/sys-0003')).status, 405);
  });

  it('consumes a one-time boot override at power-on and keeps a continuous one', async () => {
    const sys = emu.systems.get('sys-0004')!;
    await call('PATCH', '/redfish/v1/Systems/sys-0004', {
      Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' },
    });
    await call('POST', '/redfish/v1/Systems/sys-0004/Actions/ComputerSystem.Reset', { ResetType: 'On' });
    assert.equal(
      (await call('GET', '/redfish/v1/Systems/sys-0004')).body.Boot.BootSourceOverrideEnabled,
      'Disabled',
    );
    await call('PATCH', '/redfish/v1/Systems/sys-0004', {
      Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Continuous' },
    });
    await call('POST', '/redfish/v1/Systems/sys-0004/Actions/ComputerSystem.Reset', {
      ResetType: 'ForceRestart',
    });
    await call('POST', '/redfish/v1/Systems/sys-0004/Actions/ComputerSystem.Reset', {
      ResetType: 'PowerCycle',
    });
    assert.equal(
      (await call('GET', '/redfish/v1/Systems/sys-0004')).body.Boot.BootSourceOverrideTarget,
      'Cd',
    );
    const target = sys.target as unknown as { boots: { target: string }[] };
    assert.deepEqual(
      target.boots.map((b) => b.target),
      ['Pxe', 'Cd', 'Cd'],
    );
  });

  it('inserts and ejects virtual media with the InsertMedia and EjectMedia actions', async () => {
    const vm = '/redfish/v1/Managers/sys-0005/VirtualMedia/Cd';
    assert.equal((await call('POST', `${vm}/Actions/VirtualMedia.InsertMedia`, {})).status, 400);
    assert.equal(
      (await call('POST', `${vm}/Actions/VirtualMedia.InsertMedia`, { Image: 'http://x/a.iso' })).status,
      204,
    );
    assert.deepEqual(
      [(await call('GET', vm)).body.Image, (await call('GET', vm)).body.Inserted],
      ['http://x/a.iso', true],
    );
    await call('POST', `${vm}/Actions/VirtualMedia.EjectMedia`, {});
    assert.equal((await call('GET', vm)).body.Inserted, false);
  });
});

describe('virtual Redfish BMC fault injection', () => {
  it('injects the same faults at the same rate for the same seed', async () => {
    const runs: number[][] = [];
    for (let r = 0; r < 2; r++) {
      const f = await startEmulator({ password: 'pw', faults: { rate: 0.3, seed: 42, kinds: ['500'] } });
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) {
        const res = await fetch(`${f.url}/redfish/v1/Systems/sys-0001`, { headers: auth });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      await f.close();
      runs.push(statuses);
    }
    assert.deepEqual(runs[0], runs[1]);
    const failed = runs[0].filter((s) => s === 500).length;
    assert.ok(failed > 5 && failed < 35, `${failed} of 60 failed`);
  });

  it('drops the socket of a timed-out request and answers the next one normally', async () => {
    const f = await startEmulator({ password: 'pw', faults: { rate: 0, hangMs: 50 } });
    try {
      f.faults.injectNext('timeout');
      await assert.rejects(fetch(`${f.url}/redfish/v1/`));
      assert.equal((await fetch(`${f.url}/redfish/v1/`)).status, 200);
    } finally {
      await f.close();
    }
  });
});

describe('virtual Redfish BMC with the trailing-slash quirk (HPE iLO)', () => {
  it('writes every link with a trailing slash and answers a slash-less path, whatever the method, with 301 to the slashed one', async () => {
    const ilo = await startEmulator({ systems: 1, password: 'pw', quirks: [Quirk.TrailingSlash] });
    try {
      const get = async (path: string) => {
        const res = await fetch(ilo.url + path, { headers: auth, redirect: 'manual' });
        return { status: res.status, location: res.headers.get('location'), text: await res.text() };
      };
      const moved = await get('/redfish/v1/Systems/sys-0001');
      assert.equal(moved.status, 301);
      assert.equal(moved.location, '/redfish/v1/Systems/sys-0001/');
      const sys = JSON.parse((await get('/redfish/v1/Systems/sys-0001/')).text);
      assert.equal(sys['@odata.id'], '/redfish/v1/Systems/sys-0001/');
      assert.equal(
        sys.Actions['#ComputerSystem.Reset'].target,
        '/redfish/v1/Systems/sys-0001/Actions/ComputerSystem.Reset/',
      );
      assert.equal(sys.Links.Chassis[0]['@odata.id'], '/redfish/v1/Chassis/sys-0001/');
      const post = await fetch(`${ilo.url}/redfish/v1/Systems/sys-0001/Actions/ComputerSystem.Reset`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ ResetType: 'On' }),
        redirect: 'manual',
      });
      assert.equal(post.status, 301, 'a POST is redirected too, not acted on');
      assert.equal(await ilo.systems.get('sys-0001')!.target.isOn(), false);
    } finally {
      await ilo.close();
    }
  });
});
