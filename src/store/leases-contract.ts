/** DHCP leases and address lookups on every backend (run by store-contract.ts). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseIpv4 } from '../core/subnet.ts';
import type { LeaseWrite } from './store.ts';
import { type Harness, machineInput } from './testing.ts';

export function leasesContract(h: () => Harness): void {
  const subnet = (name: string, cidr: string, start: string, end: string) =>
    h().store.createSubnet(
      {
        name: `${name}-${process.pid}`,
        cidr,
        gateway: null,
        dns: [],
        vlan: null,
        dhcpMode: 'full',
        autoEnlist: false,
        ranges: [{ kind: 'dynamic', start, end }],
      },
      'user:test',
    );
  const lease = (subnetId: string, ip: string, mac: string, expiresAt: number | null): LeaseWrite => ({
    subnetId,
    ip,
    ipNum: parseIpv4(ip) ?? -1,
    mac,
    machineId: null,
    expiresAt,
  });

  it('commits leases: a MAC moves (its old row goes), another MAC is refused until the lease expires', async () => {
    const { store } = h();
    const s = await subnet('leases', '10.251.0.0/24', '10.251.0.10', '10.251.0.99');
    const hour = Date.now() + 3_600_000;
    const a = '02:aa:00:00:00:01';
    const b = '02:aa:00:00:00:02';
    assert.deepEqual(await store.commitLeases([lease(s.id, '10.251.0.10', a, hour)]), [true]);
    // b asks for a's address: refused; then a moves to .11 in the same batch as b's retry.
    assert.deepEqual(await store.commitLeases([lease(s.id, '10.251.0.10', b, hour)]), [false]);
    assert.deepEqual(
      await store.commitLeases([lease(s.id, '10.251.0.11', a, hour), lease(s.id, '10.251.0.10', b, hour)]),
      [true, true],
    );
    const rows = () => store.loadLeases(s.id).then((r) => r.map((x) => [x.ipNum, x.mac]).sort());
    assert.deepEqual(await rows(), [
      [parseIpv4('10.251.0.10'), b],
      [parseIpv4('10.251.0.11'), a],
    ]);
    // An expired anonymous lease gives way to another MAC; a static allocation never does.
    assert.deepEqual(await store.commitLeases([lease(s.id, '10.251.0.12', a, Date.now() - 1)]), [true]);
    assert.deepEqual(await store.commitLeases([lease(s.id, '10.251.0.12', b, hour)]), [true]);
    const m = await store.createMachine(machineInput(), 'user:test');
    await store.allocateIp(s.id, { machineId: m.id, ip: '10.251.0.13', kind: 'static' });
    assert.deepEqual(await store.commitLeases([lease(s.id, '10.251.0.13', a, hour)]), [false]);
  });

  it('finds the unexpired rows holding an address, in every subnet, through the primary key', async () => {
    const { store } = h();
    const s1 = await subnet('find-a', '10.252.0.0/24', '10.252.0.10', '10.252.0.99');
    const s2 = await subnet('find-b', '10.253.0.0/24', '10.253.0.10', '10.253.0.99');
    const m = await store.createMachine(machineInput(), 'user:test');
    await store.allocateIp(s2.id, { machineId: m.id, ip: '10.253.0.7', kind: 'static' });
    const hour = Date.now() + 3_600_000;
    await store.commitLeases([
      lease(s1.id, '10.252.0.20', '02:bb:00:00:00:01', hour),
      lease(s1.id, '10.252.0.21', '02:bb:00:00:00:02', Date.now() - 1),
    ]);
    const got = await store.findIpsByAddress('10.252.0.20');
    assert.deepEqual(
      got.map((r) => [r.subnetId, r.ip, r.mac, r.kind]),
      [[s1.id, '10.252.0.20', '02:bb:00:00:00:01', 'dhcp']],
    );
    const fixed = await store.findIpsByAddress('10.253.0.7');
    assert.deepEqual(
      fixed.map((r) => [r.subnetId, r.machineId, r.kind]),
      [[s2.id, m.id, 'static']],
    );
    assert.deepEqual(await store.findIpsByAddress('10.252.0.21'), [], 'an expired lease holds nothing');
    assert.deepEqual(await store.findIpsByAddress('10.252.0.22'), []);
    assert.deepEqual(await store.findIpsByAddress('not-an-ip'), []);
  });
}
