/**
 * The durable restore's steps (restore-procedure.ts over src/kube/etcd/restore.ts) on control
 * planes simulated in a directory, the commands run for real there (SimShell): a region killed
 * after any command — in a step or between two — leaves progress that a new region resumes
 * from, at the step after the last recorded, and the end is the same as an uninterrupted
 * restore: every member on the restored data, its old data kept in `<dir>.before-<id>`, every
 * manifest back, no member restored again once it served restored data. And the way back when
 * a member's restore or a swap fails.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isIngotError } from '../../core/errors.ts';
import { newRestoreProgress, type RestoreProgress, type RestoreStep } from '../../core/etcd-restore.ts';
import type { SnapshotRecord } from '../../kube/etcd/snapshot.ts';
import { SimNodes, SimShell } from '../../kube/etcd/testing-shell.ts';
import { restoreStep, type RestoreStepResult } from './restore-procedure.ts';

const NODES = ['cp1', 'cp2', 'cp3'];
const data = Buffer.from('snapshot bytes');
const record: SnapshotRecord = {
  id: 'bk-1',
  cluster: 'c',
  node: 'cp1',
  takenAt: '2026-12-02T00:00:00.000Z',
  sha256: createHash('sha256').update(data).digest('hex'),
  bytes: data.length,
  revision: 1,
  totalKeys: 1,
  hash: 0,
};
const base = mkdtempSync(join(tmpdir(), 'ingot-restore-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

/** A region: steps run with `shell` from `progress` until done, killed, or a wait (API). */
async function region(shell: SimShell, progress: RestoreProgress, ran: RestoreStep[]) {
  let p = progress;
  for (;;) {
    let r: RestoreStepResult | 'dead';
    try {
      const step = restoreStep({
        shell,
        progress: p,
        backup: record.id,
        controlPlanes: NODES,
        snapshot: async () => ({ record, data }),
        apiAnswers: async () => true,
        nodesHeard: async () =>
          NODES.map((node) => ({ node, ready: true, heardAt: new Date(Date.now() + 1).toISOString() })),
      });
      r = await Promise.race([step, shell.dead.then(() => 'dead' as const)]);
    } catch (e) {
      if (shell.killed) return { p, killed: true };
      throw e;
    }
    // A dead region records nothing more, whatever its last step made of the refused calls.
    if (r === 'dead' || shell.killed) return { p, killed: true };
    if (r.kind !== 'recorded') return { p, r, killed: false };
    ran.push(r.progress.step);
    p = r.progress; // recorded: the store has it
    if (p.step === 'done') return { p, killed: false };
  }
}

function assertRestored(nodes: SimNodes, p: RestoreProgress, why: string) {
  assert.equal(p.step, 'done', why);
  assert.deepEqual(nodes.violations, [], why);
  for (const node of NODES) {
    assert.equal(
      nodes.read(node, '/var/lib/etcd/member/db'),
      `restored snapshot bytes on ${node}`,
      `${why}: ${node} on the restored data`,
    );
    assert.equal(
      nodes.read(node, '/var/lib/etcd.before-bk-1/member/db'),
      `old data of ${node}`,
      `${why}: ${node}'s old data kept`,
    );
    assert.equal(
      existsSync(nodes.path(node, '/var/lib/etcd.restore-bk-1')),
      false,
      `${why}: no new dir left`,
    );
    assert.equal(
      existsSync(nodes.path(node, '/var/lib/ingot-restore-bk-1.db')),
      false,
      `${why}: copy removed`,
    );
    assert.equal(
      readdirSync(nodes.path(node, '/etc/kubernetes/manifests')).length,
      4,
      `${why}: ${node}'s manifests back`,
    );
    assert.equal(nodes.served.get(node), `restored snapshot bytes on ${node}`, `${why}: ${node} serves it`);
  }
  assert.deepEqual(
    p.keptDataDirs,
    NODES.map((x) => `${x}:/var/lib/etcd.before-bk-1`),
    why,
  );
}

describe('restoreStep: the durable restore, resumed after a kill anywhere', () => {
  it('runs the steps in order once, each recorded, and ends restored', async () => {
    const nodes = new SimNodes(join(base, `${n++}`), NODES);
    const shell = new SimShell(nodes);
    const ran: RestoreStep[] = [];
    const { p } = await region(shell, newRestoreProgress(new Date().toISOString()), ran);
    assert.deepEqual(ran, ['copied', 'stopped', 'restored', 'swapped', 'started', 'answered', 'done']);
    assertRestored(nodes, p, 'uninterrupted');
    for (const x of NODES) assert.equal(nodes.restores.get(x), 1);
    assert.equal(typeof p.apiAfterSeconds, 'number');
    assert.deepEqual(p.nodes, { back: 3, total: 3, notBack: [] });
    assert.equal(typeof p.nodesAfterSeconds, 'number');
  });

  it('a region killed after any command leaves it to a new region that resumes at the next step and ends the same', async () => {
    // The commands of an uninterrupted restore: a kill after each of them.
    const probe = new SimShell(new SimNodes(join(base, `${n++}`), NODES));
    await region(probe, newRestoreProgress(new Date().toISOString()), []);
    const total = probe.log.length;
    assert.ok(total >= 25, `${total} commands`);
    for (let k = 0; k < total; k++) {
      const t0 = Date.now();
      const nodes = new SimNodes(join(base, `${n++}`), NODES);
      const first = new SimShell(nodes);
      first.killAfter(k);
      const ran1: RestoreStep[] = [];
      const dead = await region(first, newRestoreProgress(new Date().toISOString()), ran1);
      assert.equal(dead.killed, true, `killed after ${k}`);
      // A second region on the same store and nodes: from the recorded progress.
      const ran2: RestoreStep[] = [];
      const { p } = await region(new SimShell(nodes), dead.p, ran2);
      const why = `killed after command ${k} (${first.log.at(-1)}), at step ${dead.p.step}`;
      const order = ['copied', 'stopped', 'restored', 'swapped', 'started', 'answered', 'done'];
      assert.deepEqual([...ran1, ...ran2], order, `${why}: each step recorded once, in order`);
      assert.equal(ran2[0], order[ran1.length], `${why}: resumed at the step after the last recorded`);
      assertRestored(nodes, p, why);
      if (process.env.T) console.error(k, Date.now() - t0, why);
    }
  });

  it('a member whose restore fails: the new directories removed, the control plane started on its old data, nothing recorded past it', async () => {
    const nodes = new SimNodes(join(base, `${n++}`), NODES);
    const shell = new SimShell(nodes);
    shell.fail = (node, cmd) => node === 'cp2' && cmd.includes('snapshot restore');
    const ran: RestoreStep[] = [];
    const { p, r } = await region(shell, newRestoreProgress(new Date().toISOString()), ran);
    assert.deepEqual(ran, ['copied', 'stopped']);
    assert.equal(r?.kind, 'rolled-back');
    assert.ok(
      r?.kind === 'rolled-back' &&
        isIngotError(r.error, 'INGOT_STEP_FAILED') &&
        /failed before any data was swapped .*started again on its old data/.test(r.error.message),
    );
    assert.equal(r?.kind === 'rolled-back' && r.progress.step, 'pending');
    assert.equal(p.step, 'stopped');
    for (const x of NODES) {
      assert.equal(nodes.read(x, '/var/lib/etcd/member/db'), `old data of ${x}`);
      assert.equal(existsSync(nodes.path(x, '/var/lib/etcd.restore-bk-1')), false);
      assert.equal(readdirSync(nodes.path(x, '/etc/kubernetes/manifests')).length, 4);
    }
  });

  it('a swap that fails puts the swapped members back on their old data and starts them', async () => {
    const nodes = new SimNodes(join(base, `${n++}`), NODES);
    const shell = new SimShell(nodes);
    // cp3's swap fails after cp1 and cp2 were swapped.
    shell.fail = (node, cmd) => node === 'cp3' && cmd.includes('etcd.restore-bk-1 ]; then');
    const { r } = await region(shell, newRestoreProgress(new Date().toISOString()), []);
    assert.ok(
      r?.kind === 'rolled-back' && /the old data was put back/.test(r.error.message),
      JSON.stringify(r),
    );
    for (const x of NODES) {
      assert.equal(nodes.read(x, '/var/lib/etcd/member/db'), `old data of ${x}`, x);
      assert.equal(existsSync(nodes.path(x, '/var/lib/etcd.before-bk-1')), false, x);
      assert.equal(readdirSync(nodes.path(x, '/etc/kubernetes/manifests')).length, 4, x);
    }
  });

  it('refuses a copy whose checksum on a node differs before stopping anything (nothing changed)', async () => {
    const nodes = new SimNodes(join(base, `${n++}`), NODES);
    const shell = new SimShell(nodes);
    const real = shell.exec.bind(shell);
    shell.exec = (node, argv) =>
      argv[0] === 'sha256sum' ? Promise.resolve(`${'0'.repeat(64)}  f\n`) : real(node, argv);
    const { r } = await region(shell, newRestoreProgress(new Date().toISOString()), []);
    assert.ok(r?.kind === 'rolled-back' && /nothing was changed/.test(r.error.message));
    assert.ok(!shell.log.some((l) => l.includes('manifests-ingot-restore')));
  });
});

describe('restoreStep: the nodes after a restore', () => {
  const startedAgainAt = '2026-12-04T10:00:00.000Z';
  const answeredAt = '2026-12-04T10:00:30.000Z';
  const answered: RestoreProgress = {
    ...newRestoreProgress('2026-12-04T09:59:00.000Z'),
    step: 'answered',
    stepAt: answeredAt,
    startedAgainAt,
    apiAfterSeconds: 90,
  };
  const at = (iso: string) => () => Date.parse(iso);
  const step = (
    heard: (() => Promise<{ node: string; ready: boolean; heardAt: string | null }[]>) | null,
    now: string,
  ) =>
    restoreStep({
      shell: new SimShell(new SimNodes(join(base, `${n++}`), NODES)),
      progress: answered,
      backup: record.id,
      controlPlanes: NODES,
      snapshot: async () => ({ record, data }),
      apiAnswers: async () => true,
      nodesHeard: heard,
      nodesWithinMs: 300_000,
      now: at(now),
    });
  // w1's Node is Ready in the snapshot, but its kubelet's lease was renewed before the restart.
  const nodes = [
    { node: 'cp1', ready: true, heardAt: '2026-12-04T10:00:20.000Z' },
    { node: 'w1', ready: true, heardAt: '2026-12-04T09:58:00.000Z' },
    { node: 'w2', ready: false, heardAt: '2026-12-04T10:00:25.000Z' },
  ];

  it('waits while a kubelet has not been heard since the restart or a Node is not Ready, naming them', async () => {
    const r = await step(async () => nodes, '2026-12-04T10:01:00.000Z');
    assert.equal(r.kind, 'wait');
    assert.match(r.kind === 'wait' ? r.message : '', /1\/3 back, not yet w1, w2$/);
  });

  it('is done once every node is back, with the seconds since the start', async () => {
    const back = nodes.map((x) => ({ ...x, ready: true, heardAt: '2026-12-04T10:00:40.000Z' }));
    const r = await step(async () => back, '2026-12-04T10:01:00.000Z');
    assert.ok(r.kind === 'recorded');
    assert.equal(r.progress.step, 'done');
    assert.deepEqual(r.progress.nodes, { back: 3, total: 3, notBack: [] });
    assert.equal(r.progress.nodesAfterSeconds, 120);
  });

  it('after the wait, is done naming the nodes not back (the restore does not fail for them)', async () => {
    const r = await step(async () => nodes, '2026-12-04T10:05:31.000Z');
    assert.ok(r.kind === 'recorded');
    assert.equal(r.progress.step, 'done');
    assert.deepEqual(r.progress.nodes, { back: 1, total: 3, notBack: ['w1', 'w2'] });
    assert.equal(r.progress.nodesAfterSeconds, null);
    assert.match(r.text, /1\/3 nodes back after 300 s; not back: w1, w2/);
  });

  it('half-way through the wait, restarts the kubelet once on each node not back; a refused restart is named; the end says so', async () => {
    const ran: string[] = [];
    const shell = {
      async exec(node: string, argv: readonly string[]) {
        ran.push(`${node}: ${argv.join(' ')}`);
        if (node === 'w2') throw new Error('node-exec: the node agent did not take the task up in 120 s');
        return '';
      },
      readFile: async () => Buffer.alloc(0),
      writeFile: async () => undefined,
    };
    const run = (progress: RestoreProgress, now: string) =>
      restoreStep({
        shell,
        progress,
        backup: record.id,
        controlPlanes: NODES,
        snapshot: async () => ({ record, data }),
        apiAnswers: async () => true,
        nodesHeard: async () => nodes,
        nodesWithinMs: 300_000,
        now: at(now),
      });
    // 150 s after the API answered: not yet.
    assert.equal((await run(answered, '2026-12-04T10:03:00.000Z')).kind, 'wait');
    assert.deepEqual(ran, []);
    const r = await run(answered, '2026-12-04T10:03:01.000Z');
    assert.ok(r.kind === 'recorded');
    assert.equal(r.progress.step, 'answered', 'still waiting for the nodes');
    assert.deepEqual(ran.sort(), ['w1: systemctl restart kubelet', 'w2: systemctl restart kubelet']);
    assert.deepEqual(r.progress.kubeletsRestarted, {
      at: '2026-12-04T10:03:01.000Z',
      nodes: ['w1', 'w2'],
      failed: [{ node: 'w2', error: 'node-exec: the node agent did not take the task up in 120 s' }],
    });
    assert.match(
      r.text,
      /not back after 151 s: the kubelet restarted on w1, w2; the restart failed on w2 \(node-exec/,
    );
    // Recorded: the next passes do not restart again.
    const again = await run(r.progress, '2026-12-04T10:04:00.000Z');
    assert.equal(again.kind, 'wait');
    assert.equal(ran.length, 2);
    const end = await run(r.progress, '2026-12-04T10:05:31.000Z');
    assert.ok(end.kind === 'recorded' && end.progress.step === 'done');
    assert.match(
      end.text,
      /not back: w1, w2 \(.*though the kubelet was restarted at 10:03:01\): look at them/,
    );
  });

  it('an API that does not answer the nodes is waited for, then named at the end', async () => {
    const down = async () => {
      throw new Error('list nodes: no answer within 5 s');
    };
    const r1 = await step(down, '2026-12-04T10:01:00.000Z');
    assert.ok(r1.kind === 'wait' && /no answer within 5 s/.test(r1.message));
    const r2 = await step(down, '2026-12-04T10:05:31.000Z');
    assert.ok(r2.kind === 'recorded');
    assert.equal(r2.progress.nodes, null);
    assert.match(r2.text, /could not be read in 300 s: list nodes: no answer/);
  });

  it('without a kubeconfig, the nodes are not checked (said so)', async () => {
    const r = await step(null, '2026-12-04T10:01:00.000Z');
    assert.ok(r.kind === 'recorded' && r.progress.step === 'done' && r.progress.nodes === null);
    assert.match(r.kind === 'recorded' ? r.text : '', /not checked/);
  });
});
