/**
 * The behaviour every Store backend must have. sqlite.test.ts and postgres.test.ts run this
 * same suite against node:sqlite and a real PostgreSQL server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, type IngotError } from '../core/errors.ts';
import { jobsContract } from './jobs-contract.ts';
import { type Harness, machineInput, rejectsWith } from './testing.ts';
import { bundleContract } from './bundles-contract.ts';
import { clusterScaleContract } from './cluster-scale-contract.ts';
import { clustersContract } from './clusters-contract.ts';
import { powerReadingsContract } from './power-readings-contract.ts';
import { healthContract } from './health-contract.ts';
import { backupsContract } from './backups-contract.ts';
import { operationsContract } from './operations-contract.ts';
import { agentTasksContract } from './agent-tasks-contract.ts';
import { leasesContract } from './leases-contract.ts';

export function storeContract(name: string, open: () => Promise<Harness>): void {
  describe(`Store contract on ${name}`, () => {
    let h: Harness;
    before(async () => {
      h = await open();
    });
    after(async () => {
      await h?.cleanup();
    });

    bundleContract(() => h);
    clustersContract(() => h);
    clusterScaleContract(() => h);
    powerReadingsContract(() => h);
    healthContract(() => h);
    backupsContract(() => h);
    operationsContract(() => h);
    agentTasksContract(() => h);
    leasesContract(() => h);

    it('creates a machine in new with a reason and an enrolment event', async () => {
      const m = await h.store.createMachine(machineInput({ tags: ['gpu', 'ssd'] }), 'user:test');
      assert.equal(m.state, 'new');
      assert.match(m.stateReason, /enrolled by user:test/);
      assert.deepEqual([...m.tags], ['gpu', 'ssd']);
      const got = await h.store.getMachine(m.id);
      assert.equal(got.hostname, m.hostname);
      const events = await h.store.listEvents({ machineId: m.id, limit: 10 });
      assert.equal(events[0].type, 'machine.created');
      assert.equal(events[0].actor, 'user:test');
    });

    it('stores the BMC password encrypted: the plaintext appears nowhere in the backend', async () => {
      const password = `Sup3r-Secret-${Math.random().toString(36).slice(2)}`;
      const m = await h.store.createMachine(
        machineInput({ bmc: { address: 'fake://x', username: 'root', password } }),
        'user:test',
      );
      assert.equal(await h.store.bmcPassword(m), password);
      assert.ok(!JSON.stringify(m).includes(password));
      const text = await h.dump();
      assert.ok(text.length > 0);
      assert.ok(!text.includes(password), 'password found in plaintext in the store');
      assert.ok(
        !text.includes(Buffer.from(password).toString('base64')),
        'password found base64-encoded in the store',
      );
    });

    it('refuses a second machine with the same MAC, naming the field, and changes nothing', async () => {
      const first = await h.store.createMachine(machineInput(), 'user:test');
      const before = (await h.store.listMachines({}, 1)).total;
      const dup = machineInput({ nics: [{ mac: first.nics[0].mac, boot: true }] });
      const e = await rejectsWith(h.store.createMachine(dup, 'user:test'), ErrorCode.Conflict);
      assert.equal(e.details.field, 'nics[].mac');
      assert.equal((await h.store.listMachines({}, 1)).total, before);
      assert.equal(await h.store.findMachineByMac(dup.nics[0].mac).then((m) => m?.id), first.id);
    });

    it('reports a missing machine with INGOT_MACHINE_NOT_FOUND', async () => {
      await rejectsWith(h.store.getMachine('m-nope'), ErrorCode.MachineNotFound);
    });

    it('filters by state, tag, zone, rack and pool and pages with a cursor', async () => {
      const pool = `p${Date.now()}`;
      const made = [];
      for (let i = 0; i < 7; i++) {
        made.push(
          await h.store.createMachine(
            machineInput({ pool, rack: i % 2 ? 'odd' : 'even', tags: i < 3 ? ['fast'] : [] }),
            'user:test',
          ),
        );
      }
      const all = await h.store.listMachines({ pool }, 3);
      assert.equal(all.total, 7);
      assert.equal(all.items.length, 3);
      const p2 = await h.store.listMachines({ pool }, 3, all.next);
      const p3 = await h.store.listMachines({ pool }, 3, p2.next);
      assert.equal(p3.next, null);
      const ids = [...all.items, ...p2.items, ...p3.items].map((m) => m.id);
      assert.deepEqual(
        ids,
        made.map((m) => m.id),
      );
      assert.equal((await h.store.listMachines({ pool, rack: 'odd' }, 50)).total, 3);
      assert.equal((await h.store.listMachines({ pool, tag: ['fast'] }, 50)).total, 3);
      assert.equal((await h.store.listMachines({ pool, tag: ['fast'], rack: 'even' }, 50)).total, 2);
      assert.equal((await h.store.listMachines({ pool, state: ['ready'] }, 50)).total, 0);
      assert.equal((await h.store.listMachines({ q: made[4].hostname }, 50)).items[0].id, made[4].id);
      assert.equal(
        (await h.store.listMachines({ q: made[4].nics[0].mac.toUpperCase() }, 50)).items[0].id,
        made[4].id,
      );
    });

    it('updates with compare-and-set on the version', async () => {
      const m = await h.store.createMachine(machineInput(), 'user:test');
      const u = await h.store.updateMachine(m.id, { zone: 'z9' }, 'user:test', m.version);
      assert.equal(u.zone, 'z9');
      assert.equal(u.version, m.version + 1);
      await rejectsWith(
        h.store.updateMachine(m.id, { zone: 'z8' }, 'user:test', m.version),
        ErrorCode.ConcurrentUpdate,
      );
      assert.equal((await h.store.getMachine(m.id)).zone, 'z9');
    });

    it('lets exactly one of two racing transitions from the same state win', async () => {
      const m = await h.store.createMachine(machineInput(), 'user:test');
      const results = await Promise.allSettled([
        h.store.transition({
          machineId: m.id,
          from: 'new',
          to: 'commissioning',
          reason: 'a',
          actor: 'a',
          job: { kind: 'commission', steps: ['x'] },
        }),
        h.store.transition({ machineId: m.id, from: 'new', to: 'broken', reason: 'b', actor: 'b' }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal((loser.reason as IngotError).code, ErrorCode.ConcurrentUpdate);
      const after = await h.store.getMachine(m.id);
      const jobs = await h.store.listJobs({ machineId: m.id }, 10);
      // The job exists if and only if the commissioning transition won: nothing half-written.
      assert.equal(jobs.length, after.state === 'commissioning' ? 1 : 0);
    });

    jobsContract(() => h);

    it('allocates the lowest free address, never twice, even when asked concurrently', async () => {
      const s = await h.store.createSubnet(
        {
          name: `net${Date.now()}`,
          cidr: `10.${(Date.now() >> 8) & 255}.${Date.now() & 255}.0/24`,
          gateway: null,
          dns: [],
          vlan: null,
          dhcpMode: 'full',
          autoEnlist: false,
          ranges: [],
        },
        'user:test',
      );
      const base = s.cidr.split('.').slice(0, 3).join('.');
      const s2 = await h.store.updateSubnet(
        s.id,
        { gateway: `${base}.1`, ranges: [{ kind: 'dynamic', start: `${base}.2`, end: `${base}.20` }] },
        'user:test',
      );
      assert.equal(s2.ranges.length, 1);
      const got = await Promise.all(
        Array.from({ length: 19 }, (_, i) =>
          h.store.allocateIp(s.id, { mac: `02:00:00:00:00:${(i + 16).toString(16)}`, kind: 'dhcp' }),
        ),
      );
      const ips = got.map((a) => a.ip);
      assert.equal(new Set(ips).size, 19);
      assert.ok(!ips.includes(`${base}.1`), 'the gateway was handed out');
      await rejectsWith(
        h.store.allocateIp(s.id, { mac: '02:00:00:00:01:00', kind: 'dhcp' }),
        ErrorCode.IpExhausted,
      );
      const again = await h.store.allocateIp(s.id, { mac: '02:00:00:00:00:10', kind: 'dhcp' });
      assert.equal(again.ip, got[0].ip, 'a renewing MAC keeps its address');
    });

    it('rejects an overlapping subnet naming the field', async () => {
      const cidr = `172.${16 + (Date.now() % 15)}.${(process.pid >> 2) & 255}.0/24`;
      await h.store.createSubnet(
        {
          name: `a${Date.now()}`,
          cidr,
          gateway: null,
          dns: [],
          vlan: null,
          dhcpMode: 'off',
          autoEnlist: false,
          ranges: [],
        },
        'u',
      );
      const e = await rejectsWith(
        h.store.createSubnet(
          {
            name: `b${Date.now()}`,
            cidr: cidr.replace('/24', '/25'),
            gateway: null,
            dns: [],
            vlan: null,
            dhcpMode: 'off',
            autoEnlist: false,
            ranges: [],
          },
          'u',
        ),
        ErrorCode.Validation,
      );
      assert.equal(e.details.field, 'cidr');
    });

    it('finds tokens by hash and revokes them', async () => {
      const t = await h.store.createToken({
        name: `tok${Date.now()}`,
        role: 'viewer',
        hash: `h${Math.random()}`,
        expiresAt: null,
      });
      const hashRow = await h.store.listTokens();
      assert.ok(hashRow.some((x) => x.id === t.id));
      await h.store.revokeToken(t.id);
      assert.equal((await h.store.listTokens()).find((x) => x.id === t.id)?.revoked, true);
    });
  });
}
