/**
 * The agent task rows' part of the Store contract (run on SQLite and PostgreSQL by
 * store-contract.ts): a node agent's task is sealed at rest, its params, result, reason and
 * last message readable through the store only; rows written before the seal still read.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { type Harness, machineInput } from './testing.ts';

export function agentTasksContract(harness: () => Harness): void {
  it('seals a node agent task: its certificate key and token read back, nowhere in plaintext', async () => {
    const h = harness();
    const m = await h.store.createMachine(machineInput(), 'user:test');
    const key = randomBytes(32).toString('hex');
    const token = `${randomBytes(3).toString('hex')}.${randomBytes(8).toString('hex')}`;
    const script = `'kubeadm' 'init' 'phase' 'upload-certs' '--upload-certs' '--certificate-key' '${key}'`;
    const op = `cpr-contract-${randomBytes(4).toString('hex')}`;
    const up = await h.store.ensureAgentTask({
      machineId: m.id,
      jobId: `${op}.1`,
      name: 'node-exec',
      params: { script },
    });
    assert.equal(up.params.script, script);
    // The rack hands it out opened.
    assert.equal((await h.store.nextAgentTask(m.id))?.params.script, script);
    await h.store.updateAgentTask(up.id, { status: 'running', message: `started with ${key}` });
    const join = `kubeadm join 10.0.0.100:6443 --token ${token} --discovery-token-ca-cert-hash sha256:${'a'.repeat(64)}\n`;
    const stdout = Buffer.from(join).toString('base64');
    const done = await h.store.updateAgentTask(up.id, { status: 'done', result: { stdout } });
    assert.deepEqual(done?.result, { stdout });
    assert.equal(done?.lastMessage, `started with ${key}`);
    const failed = await h.store.ensureAgentTask({
      machineId: m.id,
      jobId: `${op}.2`,
      name: 'bootstrap',
      params: { role: 'control-plane', script: `kubeadm join --token ${token}` },
    });
    await h.store.updateAgentTask(failed.id, { status: 'failed', reason: `refused ${token}` });
    // The engine reads the ends back opened.
    const read = await h.store.getAgentTask(up.id);
    assert.deepEqual([read?.params.script, read?.result], [script, { stdout }]);
    assert.equal((await h.store.findAgentTask(`${op}.2`, 'bootstrap', m.id))?.reason, `refused ${token}`);
    const text = await h.dump();
    assert.ok(text.includes(up.id), 'the dump holds the task rows');
    for (const [what, secret] of [
      ['certificate key', key],
      ['token', token],
      ['token command output (base64)', stdout],
    ])
      assert.ok(!text.includes(secret), `the ${what} is in plaintext in the store`);
  });

  it('reads a task row written before the seal as it was written', async () => {
    const h = harness();
    const m = await h.store.createMachine(machineInput(), 'user:test');
    const id = `at-old-${randomBytes(4).toString('hex')}`;
    const jobId = `restore-old-${randomBytes(4).toString('hex')}.1`;
    // As the store wrote it before migration 11: plaintext columns, no `sealed` given.
    await h.store.db.run(
      `INSERT INTO agent_tasks (id, machine_id, job_id, name, params, status, result, reason, last_message, created_at)
       VALUES (?, ?, ?, 'node-exec', ?, 'done', ?, NULL, 'picked up by the agent', ?)`,
      [id, m.id, jobId, JSON.stringify({ script: 'true' }), JSON.stringify({ stdout: '' }), Date.now()],
    );
    const row = await h.store.getAgentTask(id);
    assert.deepEqual(
      [row?.params, row?.result, row?.lastMessage, row?.status],
      [{ script: 'true' }, { stdout: '' }, 'picked up by the agent', 'done'],
    );
  });

  it('leaves the ephemeral agent’s tasks unsealed (they carry no credentials)', async () => {
    const h = harness();
    const m = await h.store.createMachine(machineInput(), 'user:test');
    const t = await h.store.ensureAgentTask({
      machineId: m.id,
      jobId: `inv-${randomBytes(4).toString('hex')}`,
      name: 'inventory',
      params: { lldpSeconds: 35 },
    });
    const [raw] = await h.store.db.query<{ params: string; sealed: number }>(
      'SELECT params, sealed FROM agent_tasks WHERE id = ?',
      [t.id],
    );
    assert.deepEqual([JSON.parse(raw.params), Number(raw.sealed)], [{ lldpSeconds: 35 }, 0]);
  });
}
