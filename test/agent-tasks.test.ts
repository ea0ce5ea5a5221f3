/**
 * The agent protocol against real peers: a SQLite store, the rack's boot HTTP server on
 * loopback, and the engine's store-backed AgentPort. The HTTP client plays the agent exactly as
 * src/agent/guest/ingot-agent speaks (long-poll, shell-format task, JSON reports).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../src/core/errors.ts';
import { httpStatusOf } from '../src/core/http-status.ts';
import type { Machine } from '../src/core/machine.ts';
import { AgentTasksPort, policyFor } from '../src/engine/agent-tasks-port.ts';
import { AGENT_POLL, SILENCE_NOTE } from '../src/netboot/http/agent-tasks.ts';
import { hashBootToken, newBootToken } from '../src/netboot/http/tokens.ts';
import { openStore } from '../src/store/open.ts';
import { type Harness, machine, startHarness } from './support/boot-http.ts';
import { startPostgres } from './support/postgres.ts';

const SHA = 'a'.repeat(64);

describe('agent protocol: engine port, rack endpoints, store', () => {
  let h: Harness;
  let port: AgentTasksPort;
  let clock = Date.now();

  before(async () => {
    AGENT_POLL.ms = 20;
    h = await startHarness();
    port = new AgentTasksPort(() => h.store, { silenceMs: 60_000, pickupMs: 120_000, now: () => clock });
  });
  after(async () => {
    await h.close();
  });

  /** A machine with a queued job of `kind` and a live boot token. */
  async function setup(kind: 'commission' | 'deploy' = 'commission', tags: string[] = []) {
    const m = await h.store.createMachine(machine({ tags }), 'test');
    const job = await h.store.enqueueJob(m.id, { kind, steps: ['wait-agent'] }, 'test');
    const token = newBootToken();
    await h.store.setMachineBootToken(m.id, hashBootToken(token), Date.now() + 3600_000);
    return { m: await h.store.getMachine(m.id), job, token };
  }
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const poll = (token: string, wait = 0) =>
    h.fetch(`${h.http.secureUrl}/agent/v1/task?wait=${wait}`, { headers: auth(token) });
  const report = (token: string, id: string, body: unknown) =>
    h.fetch(`${h.http.secureUrl}/agent/v1/tasks/${id}`, {
      method: 'POST',
      headers: { ...auth(token), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  /** The shell assignments of a task, as the agent sources them. */
  const parse = (text: string): Record<string, string> =>
    Object.fromEntries(
      text
        .trim()
        .split('\n')
        .map((l) => {
          const m = /^(T_[A-Z0-9_]+)='(.*)'$/.exec(l);
          assert.ok(m, `not a shell assignment: ${l}`);
          return [m[1], m[2].replace(/'\\''/g, "'")];
        }),
    );

  it('hands the engine’s task to the agent once, records progress as the step’s last message, then the result', async () => {
    const { m, job, token } = await setup();
    assert.equal((await poll(token)).status, 204, 'nothing asked yet');
    const first = await port.task(m, job.id, 'inventory', {});
    assert.equal(first.status, 'pending');
    const again = await port.task(m, job.id, 'inventory', {});
    assert.equal(again.status, 'pending', 'asking twice is harmless');

    const res = await poll(token, 5);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /shellscript/);
    const t = parse(await res.text());
    assert.equal(t.T_NAME, 'inventory');
    assert.equal(t.T_LLDP_SECONDS, '35');
    // The agent runs one task at a time and polls only between tasks: a started task polled for
    // again means the agent restarted (the machine rebooted), so it gets the task again.
    const again2 = parse(await (await poll(token)).text());
    assert.equal(again2.T_ID, t.T_ID);

    assert.equal((await report(token, t.T_ID, { status: 'running', message: 'reading DMI' })).status, 200);
    assert.deepEqual(await port.task(m, job.id, 'inventory'), {
      status: 'pending',
      lastMessage: 'reading DMI',
    });

    const inventory = {
      cpu: { model: 'X', cores: 4, threads: 8 },
      memoryBytes: 2 ** 34,
      disks: [{ name: 'sda', sizeBytes: 10 ** 12, rotational: false, serial: 'S1' }],
      nics: [{ mac: m.nics[0].mac, boot: false, driver: 'ixgbe', speedMbps: 10000 }],
      details: { dmi: { sys_vendor: 'ACME' }, lldp: [{ interface: 'eth0', systemName: 'tor1' }] },
    };
    const done = await report(token, t.T_ID, {
      status: 'done',
      message: '4 cores',
      result: inventory,
      log: 'ok',
    });
    assert.equal(done.status, 200);
    const r = await port.task(m, job.id, 'inventory');
    assert.equal(r.status, 'done');
    assert.deepEqual(r.status === 'done' && r.result, inventory);
    // The rack keeps the result on the task; the engine's inventory step stores it on the
    // machine, under its job's lease (src/engine/worker.test.ts).
    assert.equal(await h.store.getMachineInventory(m.id), null);
    assert.equal(
      (await report(token, t.T_ID, { status: 'failed', reason: 'late' })).status,
      409,
      'a task ends once',
    );

    const types = (await h.store.listEvents({ machineId: m.id, limit: 100 })).map((e) => e.type);
    assert.deepEqual(
      types.filter((x) => x.startsWith('agent.')),
      ['agent.inventory.started', 'agent.inventory.started', 'agent.inventory.progress', 'agent.inventory'],
    );
  });

  it('turns a failure into the step’s reason and keeps the agent’s log on the timeline', async () => {
    const { m, job, token } = await setup();
    await port.task(m, job.id, 'tests', {
      tests: 'cpu,memory',
      cpuSeconds: 5,
      memoryMiB: 4,
      diskReadMiB: 16,
    });
    const t = parse(await (await poll(token, 5)).text());
    assert.equal(t.T_TESTS, 'cpu memory');
    assert.equal(t.T_CPU_SECONDS, '5');
    assert.equal(t.T_MEMORY_MIB, '4');
    assert.equal(t.T_DISK_READ_MIB, '16');
    await report(token, t.T_ID, {
      event: 'test.memory',
      level: 'error',
      message: 'memory: failed: memtester',
      data: { result: 'failed' },
    });
    await report(token, t.T_ID, {
      status: 'failed',
      reason: 'hardware test failed: memory',
      log: 'FAILURE: 0x1',
    });
    assert.deepEqual(await port.task(m, job.id, 'tests'), {
      status: 'failed',
      reason: 'hardware test failed: memory',
    });
    const ev = await h.store.listEvents({ machineId: m.id, limit: 100 });
    const mem = ev.find((e) => e.type === 'agent.test.memory');
    assert.equal(mem?.level, 'error');
    const failed = ev.find((e) => e.type === 'agent.tests.failed');
    assert.equal(failed?.data.log, 'FAILURE: 0x1');
  });

  it('fails a started task the agent went silent on, naming since when and the last thing it said; the rack notes when it speaks again', async () => {
    const { m, job, token } = await setup('deploy');
    await port.task(m, job.id, 'write-image', {
      image: { artifact: 'images/x.raw', sha256: SHA, format: 'raw', imageName: 'x', name: 'evil' },
    });
    const t = parse(await (await poll(token, 5)).text());
    assert.equal(t.T_NAME, 'write-image', 'a parameter never renames the task');
    assert.equal(t.T_IMAGE_NAME, 'x');
    assert.equal(t.T_URL, `${h.http.secureUrl}/artifacts/images/x.raw`);
    assert.equal(t.T_SHA256, SHA);
    assert.equal(t.T_METADATA_URL, `${h.http.secureUrl}/metadata/`);
    assert.equal(t.T_OS_BOOTED_URL, `${h.http.secureUrl}/agent/v1/os-booted/`);
    assert.ok(!Object.values(t).some((v) => v.includes(token)), 'the token is never sent back');
    assert.match(t.T_OS_TOKEN, /^[A-Za-z0-9_-]{32,}$/, 'the written OS gets a token of its own');
    assert.equal((await h.store.findMachineByOsToken(hashBootToken(t.T_OS_TOKEN)))?.id, m.id);
    assert.equal((await poll(t.T_OS_TOKEN)).status, 403, 'the OS token takes no agent tasks');
    await report(token, t.T_ID, { status: 'running', message: 'writing /dev/vda: 300 MiB' });
    clock = Date.now() + 61_000; // 61 s after the report, however long the setup took
    const r = await port.task(m, job.id, 'write-image');
    assert.equal(r.status, 'failed');
    assert.match(
      r.status === 'failed' ? r.reason : '',
      /went silent during write-image: no word for 6\d s, since \d{4}-\d\d-\d\dT[\d:.]+Z: writing \/dev\/vda: 300 MiB; check the machine's console/,
    );
    clock = Date.now();
    // The row stays running: when the agent speaks again, the rack's side of the silence goes on
    // the timeline (how long, the last word before it); a report soon after notes nothing.
    const silence = async () =>
      (await h.store.listEvents({ machineId: m.id, limit: 100 })).filter((e) => e.type === 'agent.silence');
    assert.equal((await silence()).length, 0);
    const noteMs = SILENCE_NOTE.ms;
    SILENCE_NOTE.ms = 0;
    try {
      await new Promise((res) => setTimeout(res, 20));
      await report(token, t.T_ID, {});
    } finally {
      SILENCE_NOTE.ms = noteMs;
    }
    await report(token, t.T_ID, {});
    const notes = await silence();
    assert.equal(notes.length, 1, 'one note, for the one gap');
    assert.equal(notes[0].level, 'warning');
    assert.match(
      notes[0].message,
      /spoke again about write-image after \d+ s without a word; its last word before was at .*Z \(writing \/dev\/vda: 300 MiB\)/,
    );
  });

  it('refuses a deploy without a usable image before anything boots', async () => {
    const { m, job } = await setup('deploy');
    const r = await port.task(m, job.id, 'write-image', { image: 'nope' });
    assert.equal(r.status, 'failed');
  });

  it('answers a read of a bootstrap never asked in the job (an empty script) as failed, naming it, and queues nothing', async () => {
    const { m, job } = await setup('deploy');
    const r = await port.task(m, job.id, 'bootstrap', { role: 'control-plane', script: '' });
    assert.equal(r.status, 'failed');
    assert.match(
      (r as { reason: string }).reason,
      new RegExp(`no control-plane bootstrap was asked of ${m.hostname} in this job`),
    );
    assert.equal(await h.store.findAgentTask(job.id, 'bootstrap', m.id), null);
    // Asked with its script, then read with an empty one: the same task.
    assert.equal(
      (await port.task(m, job.id, 'bootstrap', { role: 'worker', script: 'true' })).status,
      'pending',
    );
    assert.equal((await port.task(m, job.id, 'bootstrap', { role: 'worker', script: '' })).status, 'pending');
  });

  it('finishes os-booted from cloud-init’s phone_home with the token in the path', async () => {
    const { m, job, token } = await setup('deploy');
    assert.equal((await port.task(m, job.id, 'os-booted')).status, 'pending');
    assert.equal((await poll(token)).status, 204, 'the ephemeral agent never gets os-booted');
    const res = await h.fetch(`${h.http.secureUrl}/agent/v1/os-booted/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `instance_id=${m.id}&hostname=${m.hostname}&pub_key_rsa=x`,
    });
    assert.equal(res.status, 200);
    assert.equal((await port.task(m, job.id, 'os-booted')).status, 'done');
    const ev = (await h.store.listEvents({ machineId: m.id, limit: 100 })).find(
      (e) => e.type === 'agent.os-booted',
    );
    assert.equal(ev?.data.hostname, m.hostname);
  });

  it('finishes os-booted with the OS token while deploying, and forgets that token at the wipe', async () => {
    const { m, job, token } = await setup('deploy');
    const os = newBootToken();
    await h.store.setMachineOsToken(m.id, hashBootToken(os));
    await h.store.transition({
      machineId: m.id,
      from: 'new',
      to: 'deploying',
      reason: 'test',
      actor: 'test',
    });
    await port.task(m, job.id, 'os-booted');
    const res = await h.fetch(`${h.http.secureUrl}/agent/v1/os-booted/${os}`, { method: 'POST', body: '' });
    assert.equal(res.status, 200);
    assert.equal((await port.task(m, job.id, 'os-booted')).status, 'done');
    // Queuing the release supersedes the deploy job, as a new workflow does.
    const release = await h.store.enqueueJob(m.id, { kind: 'release', steps: ['wipe-disks'] }, 'test');
    assert.equal((await h.store.getJob(job.id)).status, 'cancelled');
    await port.task(m, release.id, 'wipe', {});
    assert.equal((await poll(token, 5)).status, 200);
    assert.equal(await h.store.findMachineByOsToken(hashBootToken(os)), null, 'gone once the wipe starts');
  });

  it('authenticates every call by the boot token and keeps machines apart', async () => {
    const a = await setup();
    const b = await setup();
    await port.task(a.m, a.job.id, 'wipe', {});
    assert.equal((await h.fetch(`${h.http.secureUrl}/agent/v1/task`)).status, 401);
    assert.equal((await poll('x'.repeat(32))).status, 403);
    assert.equal((await poll(b.token)).status, 204, 'B does not see A’s task');
    const t = parse(await (await poll(a.token, 5)).text());
    assert.equal(t.T_MODE, 'quick');
    assert.equal(
      (await report(b.token, t.T_ID, { status: 'done' })).status,
      404,
      'B cannot report on A’s task',
    );
  });

  it('answers refusals as the API does: {code, message, details} with the status of the code', async () => {
    const { m, job, token } = await setup();
    await port.task(m, job.id, 'wipe', {});
    const t = parse(await (await poll(token, 5)).text());
    const cases: [Response, ErrorCode][] = [
      [await h.fetch(`${h.http.secureUrl}/agent/v1/task`), ErrorCode.Unauthenticated],
      [await poll('x'.repeat(32)), ErrorCode.Forbidden],
      [await report(token, 'at-nope', {}), ErrorCode.NotFound],
      [await report(token, t.T_ID, { log: 'x'.repeat(4 * 2 ** 20 + 1) }), ErrorCode.PayloadTooLarge],
    ];
    const bad = await h.fetch(`${h.http.secureUrl}/agent/v1/tasks/${t.T_ID}`, {
      method: 'POST',
      headers: auth(token),
      body: '{not json',
    });
    cases.push([bad, ErrorCode.Validation]);
    for (const [res, code] of cases) {
      const body = (await res.json()) as { code: string; message: string; details: unknown };
      assert.equal(body.code, code);
      assert.equal(res.status, httpStatusOf(code), code);
      assert.ok(body.message.length > 10 && typeof body.details === 'object', JSON.stringify(body));
    }
  });

  it('gives nothing to a long-poll left open by the previous boot once the machine has a new token', async () => {
    const { m, job, token } = await setup();
    const stale = poll(token, 3);
    await new Promise((r) => setTimeout(r, 100));
    await h.store.setMachineBootToken(m.id, hashBootToken(newBootToken()), Date.now() + 3600_000);
    await port.task(m, job.id, 'inventory');
    assert.equal((await stale).status, 204);
    const row = await h.store.findAgentTask(job.id, 'inventory');
    assert.equal(row?.status, 'pending', 'the task waits for the new boot’s agent');
  });

  it('never hands out tasks of a cancelled job', async () => {
    const { m, job, token } = await setup();
    await port.task(m, job.id, 'inventory');
    await h.store.transition({
      machineId: m.id,
      from: 'new',
      to: 'broken',
      reason: 'marked broken',
      actor: 'test',
      cancelJobs: true,
    });
    assert.equal((await h.store.getJob(job.id)).status, 'cancelled');
    assert.equal((await poll(token)).status, 204);
  });

  it('picks tests and wipe mode from params, then tags, then the pool, then the default', () => {
    const m = { tags: ['agent-test.cpu', 'wipe.secure'], pool: 'gpu' } as unknown as Machine;
    const pools = { pools: { gpu: { tests: ['memory' as const], cpuSeconds: 60 } } };
    assert.deepEqual(policyFor(m, {}, pools).tests, ['cpu']);
    assert.equal(policyFor(m, {}, pools).cpuSeconds, 60);
    assert.equal(policyFor(m, {}, pools).wipe, 'secure');
    assert.deepEqual(policyFor(m, { tests: 'smart,bogus' }, pools).tests, ['smart']);
    const plain = { tags: [], pool: 'gpu' } as unknown as Machine;
    assert.deepEqual(policyFor(plain, {}, pools).tests, ['memory']);
    assert.equal(policyFor(plain, { wipe: 'quick' }).wipe, 'quick');
  });
});

describe('agent tasks in the store, on SQLite and PostgreSQL', () => {
  for (const backend of ['sqlite', 'postgres'] as const) {
    it(`keeps one task per (job, name), ends it once and hands out only the active job's (${backend})`, {
      timeout: 120_000,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ingot-agent-store-'));
      const pg = backend === 'postgres' ? await startPostgres() : null;
      const store = await openStore({ dataDir: dir, database: pg ? await pg.freshDatabase() : undefined });
      try {
        const m = await store.createMachine(machine(), 'test');
        const job = await store.enqueueJob(m.id, { kind: 'commission', steps: ['inventory'] }, 'test');
        const a = await store.ensureAgentTask({
          machineId: m.id,
          jobId: job.id,
          name: 'inventory',
          params: { x: 1 },
        });
        const b = await store.ensureAgentTask({
          machineId: m.id,
          jobId: job.id,
          name: 'inventory',
          params: { x: 2 },
        });
        assert.equal(a.id, b.id);
        assert.deepEqual(b.params, { x: 1 });
        await store.ensureAgentTask({ machineId: m.id, jobId: job.id, name: 'os-booted' });
        assert.equal((await store.nextAgentTask(m.id, ['os-booted']))?.id, a.id);
        const run = await store.updateAgentTask(a.id, { status: 'running', message: 'm1' }, [
          { type: 'agent.inventory.started', actor: 'agent', machineId: m.id, message: 'started' },
        ]);
        assert.equal(run?.status, 'running');
        assert.equal(run?.lastMessage, 'm1');
        const beat = await store.updateAgentTask(a.id, {});
        assert.equal(beat?.lastMessage, 'm1', 'a heartbeat keeps the last message');
        const done = await store.updateAgentTask(a.id, { status: 'done', result: { cores: 4 } });
        assert.deepEqual(done?.result, { cores: 4 });
        assert.ok(done?.finishedAt);
        assert.equal(await store.updateAgentTask(a.id, { status: 'failed', reason: 'x' }), null);
        assert.equal(await store.nextAgentTask(m.id, ['os-booted']), null);
      } finally {
        await store.close();
        await pg?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
