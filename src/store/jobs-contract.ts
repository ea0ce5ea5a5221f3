/**
 * The job part of the store contract (store-contract.ts runs it on every backend): claims,
 * lease fences on every job write — progress, machine changes, the end — takeover after a
 * lease expires, and the job's end committed with its machine's transition.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ErrorCode } from '../core/errors.ts';
import { type Harness, machineInput, rejectsWith } from './testing.ts';
import type { MachineChanges } from './store.ts';

export function jobsContract(harness: () => Harness): void {
  // The harness is opened in the contract's before(): read it when a test runs.
  const h = {
    get store() {
      return harness().store;
    },
  };

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

  it('writes what a step learned about the machine only under the job’s lease', async () => {
    const { m, claimed } = await commissioningClaimedBy('W');
    const steps = [...claimed.steps];
    const progress = (machine: MachineChanges) => ({
      stepIndex: 0,
      steps,
      runAfter: 0,
      scratch: {},
      machine,
    });
    const nic = { ...m.nics[0], driver: 'ixgbe' };
    const learned: MachineChanges = {
      powerState: 'on',
      cpu: { model: 'X', cores: 4 },
      memoryBytes: 2 ** 34,
      disks: [{ name: 'sda', sizeBytes: 10 ** 12 }],
      nics: [nic],
      inventory: { details: { dmi: { sys_vendor: 'ACME' } } },
    };
    const before = await h.store.getMachine(m.id);
    assert.equal(await h.store.saveJobProgress(claimed.id, 'intruder', progress(learned)), false);
    assert.deepEqual(await h.store.getMachine(m.id), before);
    assert.equal(await h.store.getMachineInventory(m.id), null);

    assert.equal(await h.store.saveJobProgress(claimed.id, 'W', progress(learned)), true);
    const after = await h.store.getMachine(m.id);
    assert.deepEqual(
      {
        power: after.powerState,
        cpu: after.cpu,
        mem: after.memoryBytes,
        disks: after.disks,
        nics: after.nics,
      },
      { power: 'on', cpu: learned.cpu, mem: learned.memoryBytes, disks: learned.disks, nics: [nic] },
    );
    assert.deepEqual(await h.store.getMachineInventory(m.id), learned.inventory);
    const updated = (await h.store.listEvents({ machineId: m.id, limit: 50 })).filter(
      (e) => e.type === 'machine.updated',
    );
    assert.deepEqual(
      updated.map((e) => e.actor),
      ['engine:W'],
    );

    // A MAC another machine has is refused, naming the field, and nothing of the write lands.
    const other = await h.store.createMachine(machineInput(), 'user:test');
    await rejectsWith(
      h.store.finishJob(claimed.id, 'W', {
        status: 'done',
        error: null,
        steps,
        stepIndex: 1,
        machine: { powerState: 'off', nics: [...other.nics] },
        events: [],
      }),
      ErrorCode.Conflict,
    );
    assert.equal((await h.store.getJob(claimed.id)).status, 'running');
    assert.equal((await h.store.getMachine(m.id)).powerState, 'on');
  });

  it('applies a claim’s accept filter before its limit, so skipped jobs never hide the rest', async () => {
    // 70 runnable jobs this worker skips (another rack's, say), queued before the one it takes:
    // more than a claim's first page, so the filter must page past them.
    const skipped = new Set<string>();
    for (let i = 0; i < 70; i++) {
      const m = await h.store.createMachine(machineInput(), 'user:test');
      skipped.add(
        (await h.store.enqueueJob(m.id, { kind: 'power-on', steps: ['power-on'] }, 'user:test')).id,
      );
    }
    const m = await h.store.createMachine(machineInput(), 'user:test');
    const wanted = await h.store.enqueueJob(m.id, { kind: 'power-off', steps: ['power-off'] }, 'user:test');
    const claimed = await h.store.claimJobs({
      owner: 'picky',
      leaseMs: 60_000,
      limit: 1,
      accept: (c) => c.id === wanted.id,
    });
    assert.deepEqual(
      claimed.map((j) => j.id),
      [wanted.id],
    );
    // The skipped jobs stay available to other workers.
    const rest = await h.store.claimJobs({
      owner: 'other',
      leaseMs: 60_000,
      limit: 1000,
      accept: (c) => skipped.has(c.id),
    });
    assert.equal(rest.length, skipped.size);
  });

  it('lets another owner take a job over once its lease expired', async () => {
    const m = await h.store.createMachine(machineInput(), 'user:test');
    const j = await h.store.enqueueJob(m.id, { kind: 'power-off', steps: ['power-off'] }, 'user:test');
    const mine = (c: { id: string }) => c.id === j.id;
    const [first] = await h.store.claimJobs({ owner: 'dead', leaseMs: 1, limit: 1000, accept: mine });
    assert.equal(first.id, j.id);
    await new Promise((r) => setTimeout(r, 20));
    const [taken] = await h.store.claimJobs({ owner: 'alive', leaseMs: 60_000, limit: 1000, accept: mine });
    assert.equal(taken.id, j.id);
    assert.equal(taken.leaseOwner, 'alive');
    const steps = [...taken.steps];
    assert.equal(
      await h.store.saveJobProgress(j.id, 'dead', { stepIndex: 1, steps, runAfter: 0, scratch: {} }),
      false,
    );
    assert.equal(await h.store.heartbeat('alive', 60_000), 1);
  });

  /** A machine in commissioning whose job `owner` holds. */
  async function commissioningClaimedBy(owner: string) {
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
      owner,
      leaseMs: 60_000,
      // Other contracts leave runnable jobs in the shared store: look past them.
      limit: 1000,
      accept: (c) => c.id === job!.id,
    });
    return { m, claimed };
  }

  it('commits a job end and its machine transition together', async () => {
    const { m, claimed } = await commissioningClaimedBy('W');
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
      events: [{ type: 'job.done', machineId: m.id, jobId: claimed.id, actor: 'engine:W', message: 'done' }],
    });
    assert.equal(ok, true);
    const after = await h.store.getMachine(m.id);
    assert.equal(after.state, 'ready');
    assert.notEqual(after.commissionedAt, null);
    const types = (await h.store.listEvents({ machineId: m.id, limit: 50 })).map((e) => e.type);
    assert.deepEqual(types.slice(-2), ['job.done', 'machine.transition']);
  });

  it('writes every field a job end’s transition sets, as an action’s transition does', async () => {
    const { m, claimed } = await commissioningClaimedBy('W');
    const at = '2030-01-02T03:04:05.000Z';
    const set = { owner: 'alice', rescueFrom: 'deployed', commissionedAt: at } as const;
    assert.equal(
      await h.store.finishJob(claimed.id, 'W', {
        status: 'done',
        error: null,
        steps: [...claimed.steps],
        stepIndex: 1,
        transition: { from: 'commissioning', to: 'rescue', reason: 'r', set },
        events: [],
      }),
      true,
    );
    const after = await h.store.getMachine(m.id);
    assert.deepEqual(
      {
        state: after.state,
        owner: after.owner,
        rescueFrom: after.rescueFrom,
        commissionedAt: after.commissionedAt,
      },
      { state: 'rescue', ...set },
    );
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
      await h.store.claimJobs({ owner: 'W', leaseMs: 1000, limit: 1000, accept: (c) => c.id === job!.id }),
      [],
    );
  });
}
