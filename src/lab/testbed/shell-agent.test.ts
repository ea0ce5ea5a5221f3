import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentTask } from '../../core/agent-protocol.ts';
import type { Machine } from '../../core/machine.ts';
import type { NodeShell } from '../../kube/etcd/shell.ts';
import { BedShellAgent } from './shell-agent.ts';

/** A NodeShell whose `sh -c` runs end when the test says: each run's node and script, and its ending. */
function heldShell() {
  const runs: { node: string; script: string; end: (out: string | Error) => void }[] = [];
  const shell: NodeShell = {
    exec: (node, argv) =>
      new Promise((res, rej) => {
        assert.deepEqual(argv.slice(0, 2), ['sh', '-c']);
        runs.push({ node, script: argv[2], end: (o) => (o instanceof Error ? rej(o) : res(o)) });
      }),
    readFile: async () => Buffer.alloc(0),
    writeFile: async () => undefined,
  };
  return { shell, runs };
}

const machine = (hostname: string) => ({ id: `m-${hostname}`, hostname }) as Machine;
const tick = () => new Promise((r) => setImmediate(r));

describe('the bed shell agent', () => {
  it("runs a bootstrap task's script once in the node, pending until it ends, then done with its last phase", async () => {
    const { shell, runs } = heldShell();
    const agent = new BedShellAgent(shell);
    const ask = () => agent.task(machine('node2'), 'job-1', AgentTask.Bootstrap, { script: 'echo hi' });
    assert.equal((await ask()).status, 'pending');
    assert.equal((await ask()).status, 'pending');
    assert.deepEqual(
      runs.map((r) => [r.node, r.script]),
      [['node2', 'echo hi']],
      'asked twice, run once',
    );
    runs[0].end('kubeadm says things\ningot-phase: manifest-written\ningot-phase: apiserver-healthy\n');
    await tick();
    assert.deepEqual(await ask(), { status: 'done', result: { phase: 'apiserver-healthy' } });
    assert.equal(runs.length, 1);
    // Another job's task on the same machine is a new run.
    await agent.task(machine('node2'), 'job-2', AgentTask.Bootstrap, { script: 'echo again' });
    assert.equal(runs.length, 2);
  });

  it("fails a script that fails, naming the node and the error's last lines", async () => {
    const { shell, runs } = heldShell();
    const agent = new BedShellAgent(shell);
    await agent.task(machine('node1'), 'job-1', AgentTask.Bootstrap, { script: 'false' });
    runs[0].end(new Error('nsenter … failed: line 1\nthe kube-apiserver did not come back'));
    await tick();
    const r = await agent.task(machine('node1'), 'job-1', AgentTask.Bootstrap, { script: 'false' });
    assert.equal(r.status, 'failed');
    assert.match(r.status === 'failed' ? r.reason : '', /^node1: the script failed: .*did not come back$/s);
  });

  it('refuses any other task and a bootstrap task without a script, running nothing', async () => {
    const { shell, runs } = heldShell();
    const agent = new BedShellAgent(shell);
    const wipe = await agent.task(machine('node1'), 'job-1', AgentTask.Wipe, {});
    assert.deepEqual(wipe, {
      status: 'failed',
      reason: `the bed's shell agent runs bootstrap scripts only, not ${AgentTask.Wipe}`,
    });
    const none = await agent.task(machine('node1'), 'job-1', AgentTask.Bootstrap, {});
    assert.equal(none.status, 'failed');
    assert.equal(runs.length, 0);
  });
});
