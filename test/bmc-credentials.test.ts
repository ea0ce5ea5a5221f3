/**
 * A machine's BMC password goes only to the BMC it was given for. A region with a machine on
 * the virtual Redfish BMC, and a second listener standing for an attacker's host: an operator
 * who moves the address there without the password is refused (naming bmc.password), and no
 * route — not even a viewer's sensor read, nor the workflows the engine runs — sends anything
 * toward the new address. With the password given again the move is allowed and audited, and
 * the new host sees only the new password (the control that proves the listener would notice).
 * Addresses carrying user-info are refused everywhere and echoed nowhere.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import '../src/bmc/index.ts';
import { type Emulator, startEmulator } from '../src/bmc/emulator/index.ts';
import { FakeAgent } from '../src/engine/fake-agent.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';

const REAL = 'the-real-bmc-password';
const BIN = new URL('../bin/ingot', import.meta.url).pathname;

interface Seen {
  method: string;
  url: string;
  body: string;
  authorization: string;
}

describe('BMC credentials stay with their BMC', () => {
  let r: TestRegion;
  let emu: Emulator;
  let listener: Server;
  let listenerPort: number;
  const seen: Seen[] = [];
  let operator: string;
  let viewer: string;
  let machineId: string;
  let address: string;

  before(async () => {
    emu = await startEmulator({ username: 'admin', password: REAL });
    listener = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          body,
          authorization: req.headers.authorization ?? '',
        });
        res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listenerPort = (listener.address() as AddressInfo).port;
    r = await startTestRegion({ agent: new FakeAgent() });
    const token = async (role: string) =>
      (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: `bmc-${role}`, role })).body.secret;
    operator = await token('operator');
    viewer = await token('viewer');
    address = emu.address([...emu.systems.keys()][0]);
    const m = await r.api<{ id: string }>('POST', '/api/v1/machines', {
      hostname: 'bmc-bound',
      bmc: { address, username: 'admin', password: REAL },
      nics: [{ mac: '52:54:00:bb:00:01' }],
    });
    assert.equal(m.status, 201);
    machineId = m.body.id;
  });
  after(async () => {
    await r?.stop();
    await emu?.close();
    await new Promise((resolve) => listener?.close(resolve));
  });

  const machine = async () =>
    (await r.api<{ bmc: { address: string; username: string } }>('GET', `/api/v1/machines/${machineId}`))
      .body;

  it('refuses to move the address to another host, port, scheme or transport option without the password, naming bmc.password', async () => {
    const emuPort = new URL(emu.url).port;
    const moves = [
      `redfish+http://127.0.0.1:${listenerPort}/redfish/v1/Systems/sys-0001`,
      `redfish+http://localhost:${emuPort}/redfish/v1/Systems/sys-0001`,
      `redfish+https://127.0.0.1:${emuPort}/redfish/v1/Systems/sys-0001`,
      `${address}?insecure=true`,
    ];
    for (const to of moves) {
      const res = await r.api<{ code: string; message: string; details: { field: string } }>(
        'PATCH',
        `/api/v1/machines/${machineId}`,
        { bmc: { address: to, username: 'admin' } },
        operator,
      );
      assert.equal(res.status, 400, to);
      assert.equal(res.body.details.field, 'bmc.password', to);
      assert.match(res.body.message, /only ever sent to the BMC it was given for/);
      assert.equal((await machine()).bmc.address, address, 'the address is unchanged');
    }
    // Another system on the same BMC keeps the password: the binding is the endpoint, not the path.
    const sameHost = `${address.replace(/\/redfish\/v1\/Systems\/.*$/, '')}/redfish/v1/Systems/sys-0001`;
    const ok = await r.api(
      'PATCH',
      `/api/v1/machines/${machineId}`,
      { bmc: { address: sameHost, username: 'admin' } },
      operator,
    );
    assert.equal(ok.status, 200);
  });

  it('sends nothing toward a refused address from any route: sensors (as a viewer), power and commission workflows', async () => {
    const before = emu.stats.requests;
    const sensors = await r.api('GET', `/api/v1/machines/${machineId}/sensors`, undefined, viewer);
    assert.equal(sensors.status, 200, JSON.stringify(sensors.body));
    for (const action of ['power-on', 'power-off', 'commission']) {
      const res = await r.api<{ job: { id: string } }>(
        'POST',
        `/api/v1/machines/${machineId}/actions/${action}`,
        undefined,
        operator,
      );
      assert.equal(res.status, 202, action);
      await eventually(
        async () => {
          const job = await r.api<{ status: string }>('GET', `/api/v1/jobs/${res.body.job.id}`);
          return job.body.status === 'done' || job.body.status === 'failed';
        },
        20_000,
        `${action} finished`,
      );
    }
    for (const path of ['', '/events', '/jobs'])
      assert.equal(
        (await r.api('GET', `/api/v1/machines/${machineId}${path}`, undefined, viewer)).status,
        200,
      );
    assert.ok(emu.stats.requests > before, 'the real BMC was used');
    assert.deepEqual(seen, [], 'nothing reached the refused address');
  });

  it('moves with the password given again, audits the move, and the new host sees only the new password', async () => {
    const to = `redfish+http://127.0.0.1:${listenerPort}/redfish/v1/Systems/sys-0001`;
    const res = await r.api(
      'PATCH',
      `/api/v1/machines/${machineId}`,
      { bmc: { address: to, username: 'admin', password: 'a-new-password' } },
      operator,
    );
    assert.equal(res.status, 200);
    const audit = await r.api<{ type: string; actor: string; data: { from: string; to: string } }[]>(
      'GET',
      '/api/v1/audit?limit=1000',
    );
    const moved = audit.body.find((e) => e.type === 'machine.bmc-moved');
    assert.equal(moved?.actor, 'user:bmc-operator');
    assert.equal(moved?.data.to, `redfish+http://127.0.0.1:${listenerPort}`);
    assert.match(moved?.data.from ?? '', /^redfish\+http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(
      (await r.api('GET', `/api/v1/machines/${machineId}/sensors`, undefined, viewer)).status,
      502,
    );
    assert.ok(seen.length > 0, 'the listener notices requests (control)');
    const all = JSON.stringify(seen);
    assert.ok(
      all.includes('a-new-password') || all.includes(Buffer.from('admin:a-new-password').toString('base64')),
    );
    assert.ok(!all.includes(REAL) && !all.includes(Buffer.from(`admin:${REAL}`).toString('base64')));
  });

  it('refuses user-info in a BMC address on create, update and in the CLI, and echoes it nowhere', async () => {
    const withPassword = `redfish+http://admin:s3cr3t-in-url@127.0.0.1:${listenerPort}/`;
    const create = await r.api<{ message: string; details: { field: string } }>('POST', '/api/v1/machines', {
      bmc: { address: withPassword, username: 'admin', password: 'x' },
      nics: [{ mac: '52:54:00:bb:00:02' }],
    });
    assert.equal(create.status, 400);
    assert.equal(create.body.details.field, 'bmc.address');
    assert.match(create.body.message, /bmc\.password/);
    const update = await r.api<{ message: string; details: { field: string } }>(
      'PATCH',
      `/api/v1/machines/${machineId}`,
      {
        bmc: { address: `redfish+http://admin@127.0.0.1:${listenerPort}/`, username: 'admin', password: 'x' },
      },
    );
    assert.equal(update.status, 400);
    assert.equal(update.body.details.field, 'bmc.address');
    const cli = await new Promise<{ code: number; err: string }>((resolve) => {
      const child = spawn(
        BIN,
        ['machine', 'add', '--bmc', withPassword, '--bmc-user', 'admin', '--mac', '52:54:00:bb:00:03'],
        { env: { ...process.env, ...r.cliEnv, INGOT_BMC_PASSWORD: 'x' } },
      );
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code: code ?? -1, err }));
    });
    assert.equal(cli.code, 2, cli.err);
    assert.match(cli.err, /--bmc: must not carry a user or password/);
    const everything = JSON.stringify([
      create.body,
      update.body,
      cli.err,
      (await r.api('GET', '/api/v1/machines?limit=1000')).body,
      (await r.api('GET', '/api/v1/audit?limit=1000')).body,
    ]);
    assert.ok(!everything.includes('s3cr3t-in-url'));
  });
});
