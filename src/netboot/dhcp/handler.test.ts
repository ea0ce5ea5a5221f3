/**
 * The DHCP handler against a real SQLite store (no sockets): leases, reservations, restarts,
 * relays, proxy and off modes, auto-enlistment and the boot timeline.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { clientPacket, type ClientPacketInput } from './client-packet.ts';
import { Directory } from './directory.ts';
import { EventBatcher } from './event-batcher.ts';
import { LeaseCommitter } from './group-commit.ts';
import { DhcpHandler } from './handler.ts';
import { bufToIp, decodeSubOptions, MessageType, Opt } from './options.ts';
import type { DhcpPacket } from './packet.ts';
import { ipxeScriptUrl } from '../urls.ts';
import { openStore } from '../../store/open.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import type { NewSubnet } from '../../store/store.ts';

const SERVER = '10.50.0.1';
const HTTP = 'http://10.50.0.1:8081';
const log = pino({ level: 'silent' });

interface Rig {
  store: SqlStore;
  handler: DhcpHandler;
  events: EventBatcher;
  commit: LeaseCommitter;
  dir: Directory;
}

let dataDir: string;
let rig: Rig;

async function startRig(): Promise<Rig> {
  const store = await openStore({ dataDir });
  const dir = new Directory(store, SERVER, log);
  await dir.refresh();
  const commit = new LeaseCommitter(store);
  const events = new EventBatcher(store, { intervalMs: 10_000 });
  const handler = new DhcpHandler(
    { serverIp: SERVER, httpBase: HTTP, leaseSeconds: 600 },
    dir,
    commit,
    events,
    log,
  );
  return { store, handler, events, commit, dir };
}

async function stopRig(r: Rig): Promise<void> {
  await r.commit.drain();
  await r.events.close();
  await r.store.close();
}

function subnet(over: Partial<NewSubnet> = {}): NewSubnet {
  return {
    name: 'prov',
    cidr: '10.50.0.0/24',
    gateway: '10.50.0.254',
    dns: ['10.50.0.53'],
    vlan: null,
    dhcpMode: 'full',
    autoEnlist: false,
    ranges: [{ kind: 'dynamic', start: '10.50.0.100', end: '10.50.0.199' }],
    ...over,
  };
}

async function send(i: ClientPacketInput): Promise<DhcpPacket | null> {
  const out = await rig.handler.handle(clientPacket(i));
  return out[0]?.packet ?? null;
}

/** DISCOVER then REQUEST of the offered address; returns the ACK (or NAK). */
async function dora(mac: string, extra: Partial<ClientPacketInput> = {}): Promise<DhcpPacket> {
  const offer = await send({ mac, type: MessageType.Discover, ...extra });
  assert.ok(offer, `offer for ${mac}`);
  assert.equal(offer.options.get(Opt.MessageType)?.[0], MessageType.Offer);
  const ack = await send({
    mac,
    type: MessageType.Request,
    requestedIp: offer.yiaddr,
    serverId: SERVER,
    ...extra,
  });
  assert.ok(ack);
  return ack;
}

const typeOf = (p: DhcpPacket | null) => p?.options.get(Opt.MessageType)?.[0];

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ingot-dhcp-'));
  rig = await startRig();
});

afterEach(async () => {
  await stopRig(rig);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('DHCP handler, full mode', () => {
  it('leases a dynamic address with the subnet options and persists it before the ACK', async () => {
    await rig.store.createSubnet(subnet(), 'test');
    await rig.dir.refresh();
    const ack = await dora('02:00:00:00:00:01');
    assert.equal(typeOf(ack), MessageType.Ack);
    assert.equal(ack.yiaddr, '10.50.0.100');
    assert.equal(bufToIp(ack.options.get(Opt.SubnetMask)!), '255.255.255.0');
    assert.equal(bufToIp(ack.options.get(Opt.Router)!), '10.50.0.254');
    assert.equal(ack.options.get(Opt.LeaseTime)?.readUInt32BE(0), 600);
    const rows = await rig.store.listIps('prov');
    assert.deepEqual(
      rows.map((r) => [r.ip, r.mac, r.kind]),
      [['10.50.0.100', '02:00:00:00:00:01', 'dhcp']],
    );
  });

  it('answers a DISCOVER in the same turn and a REQUEST only once its lease is committed', async () => {
    await rig.store.createSubnet(subnet(), 'test');
    await rig.dir.refresh();
    const mac = '02:00:00:00:00:02';
    const offered = rig.handler.handle(clientPacket({ mac, type: MessageType.Discover }));
    assert.ok(Array.isArray(offered), 'a DISCOVER is answered without a promise');
    const offer = offered[0].packet;
    assert.equal(typeOf(offer), MessageType.Offer);
    const acked = rig.handler.handle(
      clientPacket({ mac, type: MessageType.Request, requestedIp: offer.yiaddr, serverId: SERVER }),
    );
    assert.ok(acked instanceof Promise, 'a REQUEST waits for the group commit');
    assert.equal(rig.commit.stats.leases, 0);
    const ack = (await acked)[0].packet;
    assert.equal(typeOf(ack), MessageType.Ack);
    // The transaction holding the lease had committed when the ACK came out.
    assert.equal(rig.commit.stats.leases, 1);
    assert.deepEqual(
      (await rig.store.listIps('prov')).map((r) => [r.ip, r.mac]),
      [[offer.yiaddr, mac]],
    );
  });

  it('gives the same address back after a restart and never the same address to two MACs', async () => {
    await rig.store.createSubnet(subnet(), 'test');
    await rig.dir.refresh();
    const a = (await dora('02:00:00:00:00:0a')).yiaddr;
    const b = (await dora('02:00:00:00:00:0b')).yiaddr;
    assert.notEqual(a, b);
    await stopRig(rig);
    rig = await startRig();
    assert.equal((await dora('02:00:00:00:00:0b')).yiaddr, b);
    assert.equal((await dora('02:00:00:00:00:0a')).yiaddr, a);
    // A third client asking for a's address is NAKed, and its DISCOVER gets another one.
    const nak = await send({ mac: '02:00:00:00:00:0c', type: MessageType.Request, requestedIp: a });
    assert.equal(typeOf(nak), MessageType.Nak);
    const c = (await dora('02:00:00:00:00:0c', { requestedIp: a })).yiaddr;
    assert.ok(c !== a && c !== b);
  });

  it('renews a lease by unicast (ciaddr) and NAKs a renewal of someone else’s address', async () => {
    await rig.store.createSubnet(subnet(), 'test');
    await rig.dir.refresh();
    const ip = (await dora('02:00:00:00:00:21')).yiaddr;
    const renew = await send({ mac: '02:00:00:00:00:21', type: MessageType.Request, ciaddr: ip });
    assert.equal(typeOf(renew), MessageType.Ack);
    assert.equal(renew?.ciaddr, ip);
    const thief = await send({ mac: '02:00:00:00:00:22', type: MessageType.Request, ciaddr: ip });
    assert.equal(typeOf(thief), MessageType.Nak);
  });

  it('keeps a known machine on its reservation and writes every step on its timeline', async () => {
    await rig.store.createSubnet(subnet(), 'test');
    const m = await rig.store.createMachine(
      {
        hostname: 'n1',
        arch: 'amd64',
        bmc: null,
        nics: [{ mac: '52:54:00:00:00:01', boot: true }],
        tags: [],
        zone: 'z',
        rack: 'r',
        pool: 'p',
      },
      'test',
    );
    await rig.dir.refresh();
    const ack = await dora('52:54:00:00:00:01', { profile: 'ipxe' });
    assert.equal(ack.options.get(Opt.BootfileName)?.toString(), ipxeScriptUrl(HTTP, '52:54:00:00:00:01'));
    assert.deepEqual(decodeSubOptions(ack.options.get(Opt.Ipxe)!).get(176), Buffer.from([1]));
    const row = (await rig.store.listIps('prov'))[0];
    assert.equal(row.machineId, m.id);
    assert.equal(row.expiresAt, null, 'a known machine’s lease is a reservation');
    // Asking for another address is refused: it must come back to its reservation.
    const other = await send({
      mac: '52:54:00:00:00:01',
      type: MessageType.Request,
      requestedIp: '10.50.0.150',
    });
    assert.equal(typeOf(other), MessageType.Nak);
    await stopRig(rig);
    rig = await startRig();
    assert.equal((await dora('52:54:00:00:00:01')).yiaddr, ack.yiaddr);
    assert.equal(
      typeOf(await send({ mac: '52:54:00:00:00:01', type: MessageType.Request, ciaddr: ack.yiaddr })),
      MessageType.Ack,
    );
    await rig.events.flush();
    const evs = await rig.store.listEvents({ machineId: m.id, limit: 50 });
    const types = evs.map((e) => e.type);
    assert.deepEqual(types.slice(-6), [
      'dhcp.discover',
      'dhcp.offer',
      'dhcp.request',
      'dhcp.ack',
      'dhcp.request',
      'dhcp.ack',
    ]);
    assert.ok(types.includes('dhcp.nak'));
    const acks = evs.filter((e) => e.type === 'dhcp.ack');
    assert.equal(acks.at(-1)?.data.renewal, true, 'a REQUEST with ciaddr is a renewal');
    assert.match(acks.at(-1)?.message ?? '', /\(renewal\)$/);
    assert.equal(acks.at(-2)?.data.renewal, undefined, 'the DORA ack is not');
  });

  it('serves a static IPAM allocation made for the machine', async () => {
    const s = await rig.store.createSubnet(subnet(), 'test');
    await rig.store.allocateIp(s.id, { mac: '52:54:00:00:00:02', ip: '10.50.0.20', kind: 'static' });
    await rig.dir.refresh();
    assert.equal((await dora('52:54:00:00:00:02')).yiaddr, '10.50.0.20');
  });

  it('enlists an unknown network-booting MAC when the subnet says so, and only then', async () => {
    await rig.store.createSubnet(subnet({ autoEnlist: true }), 'test');
    await rig.dir.refresh();
    await dora('52:54:00:00:00:03', { profile: 'bios-pxe' });
    const m = await rig.store.findMachineByMac('52:54:00:00:00:03');
    assert.equal(m?.state, 'new');
    assert.equal(m?.bmc, null);
    assert.deepEqual(m?.nics, [{ mac: '52:54:00:00:00:03', boot: true }]);
    await dora('52:54:00:00:00:04'); // a plain DHCP client (an OS): served, not enlisted
    assert.equal(await rig.store.findMachineByMac('52:54:00:00:00:04'), null);
    await rig.events.flush();
    const timeline = await rig.store.listEvents({ machineId: m!.id, limit: 20 });
    assert.ok(timeline.some((e) => e.type === 'dhcp.ack' && e.data.ip === '10.50.0.100'));
  });

  it('writes no events for unknown MACs without auto-enlistment', async () => {
    await rig.store.createSubnet(subnet(), 'test');
    await rig.dir.refresh();
    await dora('52:54:00:00:00:05', { profile: 'bios-pxe' });
    await rig.events.flush();
    const dhcpEvents = (await rig.store.listEvents({ limit: 100 })).filter((e) => e.type.startsWith('dhcp.'));
    assert.equal(dhcpEvents.length, 0);
  });

  it('selects the subnet by giaddr for relayed requests and echoes option 82', async () => {
    await rig.store.createSubnet(subnet(), 'test');
    await rig.store.createSubnet(
      subnet({
        name: 'rack2',
        cidr: '10.60.0.0/24',
        gateway: '10.60.0.1',
        ranges: [{ kind: 'dynamic', start: '10.60.0.10', end: '10.60.0.20' }],
      }),
      'test',
    );
    await rig.dir.refresh();
    const relayInfo = Buffer.from([1, 3, 0x65, 0x74, 0x31]);
    const ack = await dora('02:00:00:00:00:31', { giaddr: '10.60.0.1', relayInfo });
    assert.equal(ack.yiaddr, '10.60.0.10');
    assert.deepEqual(ack.options.get(Opt.RelayAgentInfo), relayInfo);
    assert.equal(
      await send({ mac: '02:00:00:00:00:32', type: MessageType.Discover, giaddr: '10.99.0.1' }),
      null,
    );
  });

  it('hands out every address of a small range once, then stays silent', async () => {
    await rig.store.createSubnet(
      subnet({ ranges: [{ kind: 'dynamic', start: '10.50.0.100', end: '10.50.0.103' }] }),
      'test',
    );
    await rig.dir.refresh();
    const ips = new Set<string>();
    for (let i = 0; i < 4; i++) ips.add((await dora(`02:00:00:00:01:0${i}`)).yiaddr);
    assert.equal(ips.size, 4);
    assert.equal(await send({ mac: '02:00:00:00:01:09', type: MessageType.Discover }), null);
  });

  it('ignores RELEASE (the lease runs to expiry) and quarantines a DECLINEd address', async () => {
    await rig.store.createSubnet(subnet(), 'test');
    await rig.dir.refresh();
    const ip = (await dora('02:00:00:00:00:41')).yiaddr;
    assert.equal(await send({ mac: '02:00:00:00:00:41', type: MessageType.Release, ciaddr: ip }), null);
    assert.equal((await dora('02:00:00:00:00:41')).yiaddr, ip);
    assert.equal(await send({ mac: '02:00:00:00:00:41', type: MessageType.Decline, requestedIp: ip }), null);
    const next = await send({ mac: '02:00:00:00:00:42', type: MessageType.Discover, requestedIp: ip });
    assert.notEqual(next?.yiaddr, ip);
  });
});

describe('DHCP handler, proxy and off modes', () => {
  it('answers PXE firmware with a ProxyDHCP offer (no address) and ignores plain clients', async () => {
    await rig.store.createSubnet(subnet({ dhcpMode: 'proxy', ranges: [] }), 'test');
    await rig.dir.refresh();
    const offer = await send({ mac: '52:54:00:00:00:51', type: MessageType.Discover, profile: 'bios-pxe' });
    assert.equal(typeOf(offer), MessageType.Offer);
    assert.equal(offer?.yiaddr, '0.0.0.0');
    assert.equal(offer?.file, 'undionly.kpxe');
    assert.equal(offer?.siaddr, SERVER);
    assert.equal(offer?.options.get(Opt.VendorClass)?.toString(), 'PXEClient');
    assert.equal(await send({ mac: '52:54:00:00:00:52', type: MessageType.Discover }), null);
    // The PXE boot server port (4011) answers the follow-up REQUEST with the same file.
    const out = await rig.handler.handle(
      clientPacket({
        mac: '52:54:00:00:00:51',
        type: MessageType.Request,
        profile: 'ipxe',
        ciaddr: '10.50.0.77',
      }),
      true,
    );
    assert.equal(
      out[0]?.packet.options.get(Opt.BootfileName)?.toString(),
      ipxeScriptUrl(HTTP, '52:54:00:00:00:51'),
    );
  });

  it('stays silent on a subnet with DHCP off', async () => {
    await rig.store.createSubnet(subnet({ dhcpMode: 'off' }), 'test');
    await rig.dir.refresh();
    assert.equal(
      await send({ mac: '52:54:00:00:00:61', type: MessageType.Discover, profile: 'bios-pxe' }),
      null,
    );
  });
});
