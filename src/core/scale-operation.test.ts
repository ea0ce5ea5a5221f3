import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  abortedScale,
  applyScaleNotes,
  finishScaleStep,
  scaleAbortRefusal,
  scaleProgress,
  scaleRetrySteps,
} from './scale-operation.ts';

const nodes = () =>
  scaleProgress([
    { hostname: 'w3', machineId: 'm3', role: 'worker', domain: 'z1/r1' },
    { hostname: 'w2', machineId: 'm2', role: 'worker', domain: 'z1/r2' },
  ]);
const ev = (type: string, machineId: string, message = type) => ({
  type,
  machineId,
  message,
  level: 'info' as const,
});

describe('scale operation progress', () => {
  it('starts with every node pending and no snapshot to take', () => {
    const p = nodes();
    assert.deepEqual(
      p.nodes.map((n) => [n.hostname, n.state, n.step]),
      [
        ['w3', 'pending', null],
        ['w2', 'pending', null],
      ],
    );
    assert.equal(p.snapshot.state, 'skipped');
  });

  it('moves an added node by its notes: deploy started → joined → Ready after wait-ready', () => {
    const p = nodes();
    assert.equal(
      applyScaleNotes(p, [ev('cluster.node.deploy', 'm3', 'deploy started (worker)')], 't1'),
      true,
    );
    assert.deepEqual(
      [p.nodes[0].state, p.nodes[0].step, p.nodes[0].message],
      ['running', null, 'deploy started (worker)'],
    );
    assert.equal(p.nodes[0].startedAt, 't1');
    applyScaleNotes(p, [ev('cluster.node.bootstrapped', 'm3')], 't2');
    assert.equal(p.nodes[0].step, 'joined');
    assert.equal(finishScaleStep(p, 'scale-join', 't3'), false, 'only wait-ready makes it Ready');
    assert.equal(finishScaleStep(p, 'wait-ready', 't3'), true);
    assert.deepEqual([p.nodes[0].state, p.nodes[0].step, p.nodes[0].endedAt], ['done', 'ready', 't3']);
    assert.equal(p.nodes[0].startedAt, 't1', 'its start kept');
  });

  it('moves a removed node: drain → drained → deleted → released after scale-release; unknown notes and machines change nothing', () => {
    const p = nodes();
    assert.equal(
      applyScaleNotes(p, [ev('cluster.node.release', 'm2'), ev('cluster.node.drain', 'mX')], 't0'),
      false,
    );
    applyScaleNotes(
      p,
      [ev('cluster.node.drain', 'm2'), ev('cluster.node.drained', 'm2'), ev('cluster.node.deleted', 'm2')],
      't1',
    );
    assert.deepEqual([p.nodes[1].state, p.nodes[1].step], ['running', 'deleted']);
    finishScaleStep(p, 'scale-release', 't2');
    assert.deepEqual([p.nodes[1].state, p.nodes[1].step], ['done', 'released']);
    assert.equal(applyScaleNotes(p, [ev('cluster.node.drain', 'm2')], 't3'), false, 'a done node stays done');
  });

  it('a control plane added is done at its cp-ready note', () => {
    const p = scaleProgress([{ hostname: 'cp2', machineId: 'c2', role: 'control-plane', domain: 'z2/r1' }]);
    applyScaleNotes(p, [ev('cluster.node.cp-join', 'c2')], 't1');
    assert.equal(p.nodes[0].step, 'joining');
    applyScaleNotes(p, [ev('cluster.node.cp-ready', 'c2')], 't2');
    assert.deepEqual([p.nodes[0].state, p.nodes[0].step], ['done', 'ready']);
  });
});

describe('aborting a scale', () => {
  it('releases added nodes that did not join, keeps removed ones whose Node stays, finishes deleted ones', () => {
    const p = scaleProgress([
      { hostname: 'a1', machineId: '1', role: 'worker', domain: '' },
      { hostname: 'a2', machineId: '2', role: 'worker', domain: '' },
      { hostname: 'r1', machineId: '3', role: 'worker', domain: '' },
      { hostname: 'r2', machineId: '4', role: 'worker', domain: '' },
    ]);
    applyScaleNotes(p, [ev('cluster.node.bootstrapped', '1'), ev('cluster.node.deploy', '2')], 't');
    applyScaleNotes(p, [ev('cluster.node.deleted', '3'), ev('cluster.node.drained', '4')], 't');
    assert.deepEqual(abortedScale(p, { add: ['a1', 'a2'], remove: ['r1', 'r2'] }), {
      release: ['a2'],
      keep: ['r2'],
      finish: ['r1'],
    });
  });

  it('is refused for a control-plane scale and a remediation, naming why; allowed for a worker scale', () => {
    const params = (controlPlanes: boolean) => ({
      apiServerArgs: {},
      changes: [],
      clusterFile: '',
      maxUnavailable: 1,
      scale: { add: [], remove: [], controlPlanes },
    });
    assert.match(
      scaleAbortRefusal({ kind: 'scale', params: params(true) }) ?? '',
      /control-plane scale runs to its end/,
    );
    assert.match(scaleAbortRefusal({ kind: 'remediate', params: params(false) }) ?? '', /remediation/);
    assert.equal(scaleAbortRefusal({ kind: 'scale', params: params(false) }), null);
  });
});

describe('retrying a scale', () => {
  it('asks for a join token again unless its remaining steps do', () => {
    assert.deepEqual(scaleRetrySteps(['scale-join', 'wait-ready']), [
      'scale-token',
      'scale-join',
      'wait-ready',
    ]);
    assert.deepEqual(scaleRetrySteps(['scale-token', 'deploy-nodes']), ['scale-token', 'deploy-nodes']);
  });
});
