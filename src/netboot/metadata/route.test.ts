import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MachineState } from '../../core/lifecycle.ts';
import type { Machine } from '../../core/machine.ts';
import { hashBootToken, newBootToken } from '../http/tokens.ts';
import { ipxeScriptUrl } from '../urls.ts';
import { type Harness, machine, request, settle, startHarness } from '../../../test/support/boot-http.ts';
import { forgetDeployAddresses, recordDeployAddresses } from '../../engine/deploy-addresses.ts';

/**
 * Two machines with DHCP leases on 127.0.0.0/24; each client binds its leased loopback address
 * (127.0.0.2 / 127.0.0.3) so the server sees the source address a real machine would have.
 */
describe('metadata service', () => {
  let h: Harness;
  let a: Machine;
  let b: Machine;
  let tokenA: string;
  let tokenB: string;
  const A = '127.0.0.2';
  const B = '127.0.0.3';

  before(async () => {
    h = await startHarness({
      metadata: {
        userData: async (m) => `#cloud-config\nhostname: ${m.hostname}\n`,
        vendorData: async () => null,
      },
    });
    const subnet = await h.store.createSubnet(
      {
        name: `lo-${process.pid}`,
        cidr: '127.0.0.0/24',
        gateway: null,
        dns: [],
        vlan: null,
        dhcpMode: 'full',
        autoEnlist: false,
        ranges: [{ kind: 'dynamic', start: '127.0.0.2', end: '127.0.0.9' }],
      },
      'test',
    );
    const boot = async (ip: string) => {
      const m = await h.store.createMachine(machine(), 'test');
      await h.store.transition({
        machineId: m.id,
        from: 'new',
        to: 'commissioning',
        reason: 't',
        actor: 'test',
      });
      await h.store.allocateIp(subnet.id, { mac: m.nics[0].mac, ip, kind: 'dhcp', ttlMs: 600_000 });
      const script = (await request(ipxeScriptUrl(h.http.url, m.nics[0].mac))).body.toString();
      return { m, token: /ingot\.token=(\S+)/.exec(script)![1] };
    };
    ({ m: a, token: tokenA } = await boot(A));
    ({ m: b, token: tokenB } = await boot(B));
  });
  after(() => h.close());

  it('serves OS images under /artifacts/images/ only to a machine presenting its token from its leased address, over HTTPS only', async () => {
    mkdirSync(join(h.artifacts, 'images'), { recursive: true });
    writeFileSync(join(h.artifacts, 'images', 'os.raw'), 'the image');
    const url = `${h.http.secureUrl}/artifacts/images/os.raw`;
    const withToken = { authorization: `Bearer ${tokenA}` };
    const ok = await request(url, { from: A, headers: withToken });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'the image');
    assert.equal((await request(url, { from: A })).status, 401);
    assert.equal((await request(url, { from: B, headers: withToken })).status, 403);
    await settle();
    const denied = (await h.store.listEvents({ machineId: a.id, limit: 100 })).filter(
      (e) => e.type === 'image.denied',
    );
    assert.ok(
      denied.some((e) => e.data.tokenMachine === a.id && e.data.ip === B),
      'the token shown from another address is a security event on its machine',
    );
    // plain HTTP serves firmware files only: the same request, token and all, is refused
    const plain = await request(`${h.http.url}/artifacts/images/os.raw`, { from: A, headers: withToken });
    assert.equal(plain.status, 403);
    assert.equal(plain.body.toString(), `/artifacts/images/os.raw is served over HTTPS only: ${url}\n`);
  });

  it('serves NoCloud meta-data, user-data and vendor-data to the machine with its token in the path', async () => {
    const md = await request(`${h.http.secureUrl}/metadata/${tokenA}/meta-data`, { from: A });
    assert.equal(md.status, 200);
    assert.match(md.body.toString(), new RegExp(`^instance-id: "${a.id}"$`, 'm'));
    assert.match(md.body.toString(), new RegExp(`^local-hostname: "${a.hostname}"$`, 'm'));
    const ud = await request(`${h.http.secureUrl}/metadata/${tokenA}/user-data`, { from: A });
    assert.equal(ud.body.toString(), `#cloud-config\nhostname: ${a.hostname}\n`);
    const vd = await request(`${h.http.secureUrl}/metadata/${tokenA}/vendor-data`, { from: A });
    assert.equal(vd.status, 200);
    assert.equal(vd.body.length, 0);
  });

  it('serves EC2-style keys with the token in a header', async () => {
    const headers = { 'x-ingot-token': tokenB };
    const root = await request(`${h.http.secureUrl}/latest/meta-data/`, { from: B, headers });
    assert.equal(root.status, 200);
    assert.match(root.body.toString(), /^instance-id$/m);
    assert.match(root.body.toString(), /^placement\/$/m);
    const id = await request(`${h.http.secureUrl}/latest/meta-data/instance-id`, { from: B, headers });
    assert.equal(id.body.toString(), b.id);
    const ip = await request(`${h.http.secureUrl}/2009-04-04/meta-data/local-ipv4`, { from: B, headers });
    assert.equal(ip.body.toString(), B);
    const az = await request(`${h.http.secureUrl}/latest/meta-data/placement/availability-zone`, {
      from: B,
      headers,
    });
    assert.equal(az.body.toString(), 'z1');
    assert.equal(
      (await request(`${h.http.secureUrl}/latest/meta-data/nope`, { from: B, headers })).status,
      404,
    );
    await settle();
    const ev = await h.store.listEvents({ machineId: b.id, limit: 100 });
    assert.ok(ev.some((e) => e.type === 'metadata.fetch' && e.data.path === '/latest/meta-data/instance-id'));
  });

  it("refuses machine B presenting machine A's token and records a security event on A", async () => {
    const r = await request(`${h.http.secureUrl}/metadata/${tokenA}/user-data`, { from: B });
    assert.equal(r.status, 403);
    assert.doesNotMatch(r.body.toString(), /cloud-config/);
    await settle();
    const denied = (await h.store.listEvents({ machineId: a.id, limit: 100 })).filter(
      (e) => e.type === 'metadata.denied',
    );
    assert.equal(denied.length, 1);
    assert.equal(denied[0].level, 'error');
    assert.equal(denied[0].data.ip, B);
    assert.equal(denied[0].data.sourceMachine, b.id);
    assert.ok(!JSON.stringify(denied).includes(tokenA), 'the token must not reach the timeline');
  });

  it('refuses a request without a token (401) and with a made-up token (403), from a leased address', async () => {
    assert.equal(
      (await request(`${h.http.secureUrl}/latest/meta-data/instance-id`, { from: A })).status,
      401,
    );
    const fake = 'x'.repeat(32);
    assert.equal((await request(`${h.http.secureUrl}/metadata/${fake}/meta-data`, { from: A })).status, 403);
    await settle();
    const denied = (await h.store.listEvents({ machineId: a.id, limit: 100 })).filter(
      (e) => e.type === 'metadata.denied' && e.data.tokenMachine === null,
    );
    assert.equal(denied.length, 2);
  });

  it('refuses the right token from an address without a lease', async () => {
    const r = await request(`${h.http.secureUrl}/metadata/${tokenA}/meta-data`, { from: '127.0.0.9' });
    assert.equal(r.status, 403);
  });

  it('serves a deployed OS by its own token, only while deployed, only metadata, until it is deleted', async () => {
    const os = newBootToken();
    await h.store.setMachineOsToken(a.id, hashBootToken(os));
    const ud = () => request(`${h.http.secureUrl}/metadata/${os}/user-data`, { from: A });
    assert.equal((await ud()).status, 403, 'not honoured while the machine is commissioning');
    const move = (from: MachineState, to: MachineState) =>
      h.store.transition({ machineId: a.id, from, to, reason: 'test', actor: 'test' });
    await move('commissioning', 'deployed');
    try {
      const r = await ud();
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), `#cloud-config\nhostname: ${a.hostname}\n`);
      assert.equal(
        (await request(`${h.http.secureUrl}/metadata/${os}/user-data`, { from: B })).status,
        403,
        'from an address not leased to the machine',
      );
      const agent = await request(`${h.http.secureUrl}/agent/v1/task`, {
        from: A,
        headers: { authorization: `Bearer ${os}` },
      });
      // The OS token is the node agent's: it polls node tasks only (none here), never the
      // ephemeral agent's (test/node-agent.test.ts hands both kinds and checks who gets which).
      assert.equal(agent.status, 204, 'the OS token gets no ephemeral task');
      await h.store.setMachineOsToken(a.id, null);
      assert.equal((await ud()).status, 403, 'deleted (the disks were wiped)');
    } finally {
      await move('deployed', 'commissioning');
    }
  });

  it('answers a machine on the static address its deploy’s network-config recorded (no lease there), until its release frees it', async () => {
    const nc = 'network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: [127.0.0.7/24]\n';
    const url = `${h.http.secureUrl}/metadata/${tokenA}/meta-data`;
    assert.equal((await request(url, { from: '127.0.0.7' })).status, 403, 'not the machine’s address yet');
    await recordDeployAddresses(h.store, a.id, nc);
    const ok = await request(url, { from: '127.0.0.7' });
    assert.equal(ok.status, 200);
    assert.match(ok.body.toString(), new RegExp(`instance-id: "${a.id}"`));
    await forgetDeployAddresses(h.store, a.id, nc);
    assert.equal((await request(url, { from: '127.0.0.7' })).status, 403);
  });
});
