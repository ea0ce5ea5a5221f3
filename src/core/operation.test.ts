import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIngotError } from './errors.ts';
import {
  allowedControls,
  checkRetryable,
  type ClusterOperation,
  controlOperation,
  describeChange,
  flagChanges,
  newProgress,
  nextOperationStep,
  type OperationState,
  retryProgress,
} from './operation.ts';

const nodes = newProgress([
  { hostname: 'cp1', machineId: 'm1', role: 'init', domain: 'z1/r1' },
  { hostname: 'cp2', machineId: 'm2', role: 'control-plane', domain: 'z1/r1' },
  { hostname: 'w1', machineId: 'm3', role: 'worker', domain: 'z1/r1' },
  { hostname: 'w2', machineId: 'm4', role: 'worker', domain: 'z1/r1' },
  { hostname: 'w3', machineId: 'm5', role: 'worker', domain: 'z1/r1' },
]);

function op(state: OperationState = 'running', maxUnavailable: number | string = 2) {
  return {
    state,
    params: { apiServerArgs: {}, changes: [], clusterFile: '', maxUnavailable },
    progress: structuredClone(nodes),
  } satisfies Pick<ClusterOperation, 'state' | 'params' | 'progress'>;
}

describe('operation control', () => {
  it('pauses a running operation, resumes a paused one and aborts either', () => {
    assert.equal(controlOperation('pause', 'running', 'op1'), 'paused');
    assert.equal(controlOperation('resume', 'paused', 'op1'), 'running');
    assert.equal(controlOperation('abort', 'running', 'op1'), 'aborted');
    assert.equal(controlOperation('abort', 'paused', 'op1'), 'aborted');
  });

  it('refuses a control its state does not allow, naming the state and the allowed ones', () => {
    assert.throws(
      () => controlOperation('resume', 'running', 'op1'),
      (e) =>
        isIngotError(e) &&
        e.code === 'INGOT_INVALID_TRANSITION' &&
        /cannot resume operation op1 while it is running; allowed: pause, abort/.test(e.message),
    );
    for (const s of ['aborted', 'failed', 'succeeded'] as const) {
      assert.deepEqual(allowedControls(s), []);
      assert.throws(() => controlOperation('abort', s, 'op1'), /it has ended/);
    }
  });
});

describe('nextOperationStep', () => {
  it('walks snapshot → init control plane → other control plane → worker batches of maxUnavailable', () => {
    const o = op();
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const n = nextOperationStep(o);
      if (n.kind === 'end') {
        seen.push(`end:${n.state}`);
        break;
      }
      if (n.kind === 'snapshot') {
        seen.push('snapshot');
        o.progress.snapshot = { state: 'done', id: 's', node: 'cp1' };
      } else if (n.kind === 'control-plane') {
        seen.push(`cp:${n.node}:${n.first}`);
        o.progress.nodes.find((x) => x.hostname === n.node)!.state = 'done';
      } else if (n.kind === 'workers') {
        seen.push(`workers:${n.nodes.join(',')}`);
        for (const h of n.nodes) o.progress.nodes.find((x) => x.hostname === h)!.state = 'done';
      }
    }
    assert.deepEqual(seen, [
      'snapshot',
      'cp:cp1:true',
      'cp:cp2:false',
      'workers:w1,w2',
      'workers:w3',
      'end:succeeded',
    ]);
  });

  it('resumes a control plane at the sub-step it had finished, and a started worker batch with its own nodes', () => {
    const o = op('running', 1);
    o.progress.snapshot = { state: 'done' };
    const cp1 = o.progress.nodes[0];
    cp1.state = 'running';
    cp1.step = 'reconfigured';
    assert.deepEqual(nextOperationStep(o), {
      kind: 'control-plane',
      node: 'cp1',
      first: true,
      step: 'reconfigured',
    });
    o.progress.nodes[0].state = 'done';
    o.progress.nodes[1].state = 'done';
    // w2 was started (a batch of one planned before a crash); w1 still pending: w2 is finished first.
    o.progress.nodes[3].state = 'running';
    assert.deepEqual(nextOperationStep(o), { kind: 'workers', nodes: ['w2'] });
  });

  it('waits while paused and ends an aborted or failed operation without planning more', () => {
    assert.deepEqual(nextOperationStep(op('paused')), { kind: 'paused' });
    assert.deepEqual(nextOperationStep(op('aborted')), { kind: 'end', state: 'aborted' });
    assert.deepEqual(nextOperationStep(op('failed')), { kind: 'end', state: 'failed' });
  });
});

describe('flagChanges', () => {
  it('lists the flags whose value changes, added and removed, sorted', () => {
    const c = flagChanges({ a: '1', b: '2', z: '9' }, { a: '1', b: '3', c: '4' });
    assert.deepEqual(c, [
      { flag: 'b', from: '2', to: '3' },
      { flag: 'c', from: null, to: '4' },
      { flag: 'z', from: '9', to: null },
    ]);
    assert.deepEqual(c.map(describeChange), ['--b=3 (was 2)', '--c=4 (new)', '--z removed (was 9)']);
    assert.deepEqual(flagChanges({ a: '1' }, { a: '1' }), []);
  });
});

describe('retrying a halted operation', () => {
  it('resumes at the node it stopped on, at the sub-step that node had finished, leaving done nodes done', () => {
    const o = op('failed', 1);
    o.progress.snapshot = { state: 'done', id: 's1', node: 'cp1' };
    const [cp1, cp2, w1] = o.progress.nodes;
    Object.assign(cp1, { state: 'done', step: 'healthy', endedAt: '2026-12-03T07:00:00.000Z' });
    Object.assign(cp2, { state: 'done', step: 'healthy' });
    Object.assign(w1, {
      state: 'failed',
      step: null,
      message: 'drain w1: blocked by PDB default/web',
      startedAt: '2026-12-03T07:01:00.000Z',
    });
    const at = '2026-12-03T08:00:00.000Z';
    const r = { ...o, state: 'running' as const, progress: retryProgress(o.progress, at) };
    assert.deepEqual(nextOperationStep(r), { kind: 'workers', nodes: ['w1'] });
    const w = r.progress.nodes[2];
    assert.equal(w.state, 'running');
    assert.equal(w.startedAt, at, 'the drain and Ready deadlines count from the retry');
    assert.match(w.message ?? '', /^retried after: drain w1: blocked by PDB default\/web$/);
    assert.deepEqual(r.progress.nodes[0], cp1, 'a node done is not touched');
    assert.deepEqual(r.progress.snapshot, o.progress.snapshot, 'no second snapshot');
    assert.equal(o.progress.nodes[2].state, 'failed', 'the stored progress is not mutated');
  });

  it('resumes a control plane that failed after its manifest was rewritten at its health check', () => {
    const o = op('failed', 1);
    o.progress.snapshot = { state: 'done' };
    Object.assign(o.progress.nodes[0], { state: 'failed', step: 'reconfigured', message: 'API silent' });
    const r = { ...o, state: 'running' as const, progress: retryProgress(o.progress, 'now') };
    assert.deepEqual(nextOperationStep(r), {
      kind: 'control-plane',
      node: 'cp1',
      first: true,
      step: 'reconfigured',
    });
  });

  it('retries only a failed operation', () => {
    assert.doesNotThrow(() => checkRetryable('failed', 'op1'));
    for (const s of ['running', 'paused', 'aborted', 'succeeded'] as const)
      assert.throws(
        () => checkRetryable(s, 'op1'),
        (e) => isIngotError(e) && e.code === 'INGOT_INVALID_TRANSITION' && e.message.includes(s),
      );
  });
});
