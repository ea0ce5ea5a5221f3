/**
 * The behaviour every Store backend must have. sqlite.test.ts and postgres.test.ts run this
 * same suite against node:sqlite and a real PostgreSQL server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { bundleContract } from './bundles-contract.ts';
import type { SqlStore } from './sql-store.ts';
import type { NewMachine } from './store.ts';

export interface Harness {
  store: SqlStore;
  /** Everything the backend persisted, as text, to grep for secrets. */
  dump(): Promise<string>;
  cleanup(): Promise<void>;
}

let seq = 0;
export function machineInput(over: Partial<NewMachine> = {}): NewMachine {
  seq++;
  const hex = seq.toString(16).padStart(6, '0');
  return {
    hostname: `node-${process.pid}-${seq}`,
    arch: 'amd64',
    bmc: { address: `fake://bmc-${seq}`, username: 'admin', password: 'pw' },
    nics: [{ mac: `52:54:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:01`, boot: true }],
    tags: [],
    zone: 'z1',
    rack: 'r1',
    pool: 'default',
    ...over,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<IngotError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof IngotError, `expected IngotError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

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

    it('hands each runnable job to one owner only and fences writes on the lease', async () => {
      const made = [];
      for (let i = 0; i < 6; i++) {
        const m = await h.store.createMachine(machineInput(), 'user:test');
        made.push(await h.store.enqueueJob(m.id, { kind: 'power-on', steps: ['power-on'] }, 'user:test'));
      }
      const ids = new Set(made.map((j) => j.id));
      const [a, b] = await Promise.all([
        h.store.claimJobs({ owner: 'A', leaseMs: 60_000, limit: 100, accept: (c) => ids.has(c.id) }),
        h.store.claimJobs({ owner: 'B', leaseMs: 60_000, limit: 100, accept: (c) => ids.has(c.id) }),
      ]);
      const got = [...a, ...b].map((j) => j.id);
      assert.equal(got.length, 6);
      assert.equal(new Set(got).size, 6);
      const job = a[0] ?? b[0];
      const owner = a.length ? 'A' : 'B';
      const intruder = owner === 'A' ? 'B' : 'A';
      const steps = [{ name: 'power-on', startedAt: null, endedAt: null, attempts: 1, error: null }];
      assert.equal(
        await h.store.saveJobProgress(job.id, intruder, { stepIndex: 1, steps, runAfter: 0, scratch: {} }),
        false,
      );
      assert.equal(
        await h.store.saveJobProgress(job.id, owner, { stepIndex: 1, steps, runAfter: 0, scratch: {} }),
        true,
      );
      assert.equal(
        await h.store.finishJob(job.id, intruder, {
          status: 'done',
          error: null,
          steps,
          stepIndex: 1,
          events: [],
        }),
        false,
      );
      assert.equal(
        await h.store.finishJob(job.id, owner, {
          status: 'done',
          error: null,
          steps,
          stepIndex: 1,
          events: [],
        }),
        true,
      );
      assert.equal((await h.store.getJob(job.id)).status, 'done');
      assert.equal(
        await h.store.finishJob(job.id, owner, {
          status: 'done',
          error: null,
          steps,
          stepIndex: 1,
          events: [],
        }),
        false,
      );
    });

    it('lets another owner take a job over once its lease expired', async () => {
      const m = await h.store.createMachine(machineInput(), 'user:test');
      const j = await h.store.enqueueJob(m.id, { kind: 'power-off', steps: ['power-off'] }, 'user:test');
      const mine = (c: { id: string }) => c.id === j.id;
      const [first] = await h.store.claimJobs({ owner: 'dead', leaseMs: 1, limit: 5, accept: mine });
      assert.equal(first.id, j.id);
      await new Promise((r) => setTimeout(r, 20));
      const [taken] = await h.store.claimJobs({ owner: 'alive', leaseMs: 60_000, limit: 5, accept: mine });
      assert.equal(taken.id, j.id);
      assert.equal(taken.leaseOwner, 'alive');
      const steps = [...taken.steps];
      assert.equal(
        await h.store.saveJobProgress(j.id, 'dead', { stepIndex: 1, steps, runAfter: 0, scratch: {} }),
        false,
      );
      assert.equal(await h.store.heartbeat('alive', 60_000), 1);
    });

    it('commits a job end and its machine transition together', async () => {
      const m = await h.store.createMachine(machineInput(), 'user:test');
      const { job } = await h.store.transition({
        machineId: m.id,
        from: 'new',
        to: 'commissioning',
        reason: 'go',
        actor: 'u',
        job: { kind: 'commission', steps: ['s'] },
      });
      const [claimed] = await h.store.claimJobs({
        owner: 'W',
        leaseMs: 60_000,
        limit: 5,
        accept: (c) => c.id === job!.id,
      });
      const ok = await h.store.finishJob(claimed.id, 'W', {
        status: 'done',
        error: null,
        steps: [...claimed.steps],
        stepIndex: 1,
        transition: {
          from: 'commissioning',
          to: 'ready',
          reason: 'commissioned',
          set: { commissionedAt: new Date().toISOString() },
        },
        events: [
          { type: 'job.done', machineId: m.id, jobId: claimed.id, actor: 'engine:W', message: 'done' },
        ],
      });
      assert.equal(ok, true);
      const after = await h.store.getMachine(m.id);
      assert.equal(after.state, 'ready');
      assert.notEqual(after.commissionedAt, null);
      const types = (await h.store.listEvents({ machineId: m.id, limit: 50 })).map((e) => e.type);
      assert.deepEqual(types.slice(-2), ['job.done', 'machine.transition']);
    });

    it('cancels the running job when a transition asks for it (abort)', async () => {
      const m = await h.store.createMachine(machineInput(), 'user:test');
      const { job } = await h.store.transition({
        machineId: m.id,
        from: 'new',
        to: 'commissioning',
        reason: 'go',
        actor: 'u',
        job: { kind: 'commission', steps: ['s'] },
      });
      await h.store.transition({
        machineId: m.id,
        from: 'commissioning',
        to: 'failed_commissioning',
        reason: 'aborted by u',
        actor: 'u',
        cancelJobs: true,
      });
      assert.equal((await h.store.getJob(job!.id)).status, 'cancelled');
      assert.deepEqual(
        await h.store.claimJobs({ owner: 'W', leaseMs: 1000, limit: 5, accept: (c) => c.id === job!.id }),
        [],
      );
    });

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
