import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIngotError } from './errors.ts';
import {
  type NodeHealth,
  nextRung,
  maxUnhealthyCount,
  pickSpare,
  planRemediation,
  type RemediationPolicy,
  RemediationStep as S,
  type RungResult,
  UnhealthyCause,
  unhealthyCause,
} from './remediation.ts';

const now = new Date('2026-12-02T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const policy: RemediationPolicy = { unhealthyAfterSeconds: 60, maxUnhealthy: 2 };

function node(name: string, o: Partial<NodeHealth> = {}): NodeHealth {
  return {
    node: name,
    machineId: `m-${name}`,
    role: 'worker',
    domain: 'z1/r1',
    ready: 'True',
    readySince: ago(3600),
    bmcHealth: 'OK',
    machineBroken: false,
    ...o,
  };
}
const sick = (name: string, o: Partial<NodeHealth> = {}) =>
  node(name, { ready: 'Unknown', readySince: ago(120), ...o });

describe('unhealthyCause', () => {
  it('counts a Node NotReady or Unknown only after the timeout', () => {
    assert.equal(unhealthyCause(node('a', { ready: 'False', readySince: ago(59) }), policy, now), null);
    assert.equal(unhealthyCause(node('a', { ready: 'Unknown', readySince: ago(60) }), policy, now), null);
    const u = unhealthyCause(node('a', { ready: 'False', readySince: ago(61) }), policy, now);
    assert.equal(u?.cause, UnhealthyCause.NotReady);
    assert.match(u?.reason ?? '', /Ready=False for 61 s/);
    assert.equal(
      unhealthyCause(node('a', { ready: 'Unknown', readySince: ago(300) }), policy, now)?.cause,
      'not-ready',
    );
  });

  it('never counts a Ready node or one without a Node object as not ready', () => {
    assert.equal(unhealthyCause(node('a'), policy, now), null);
    assert.equal(unhealthyCause(node('a', { ready: null, readySince: null }), policy, now), null);
  });

  it('counts a BMC health Critical and a broken machine at once, even while Ready', () => {
    assert.equal(unhealthyCause(node('a', { bmcHealth: 'Critical' }), policy, now)?.cause, 'bmc-critical');
    assert.equal(unhealthyCause(node('a', { bmcHealth: 'Warning' }), policy, now), null);
    assert.equal(
      unhealthyCause(node('a', { machineBroken: true, bmcHealth: 'Critical' }), policy, now)?.cause,
      'broken',
    );
  });
});

describe('maxUnhealthyCount', () => {
  it('takes a count or a percentage of the nodes, rounded down', () => {
    assert.equal(maxUnhealthyCount({ ...policy, maxUnhealthy: 3 }, 10), 3);
    assert.equal(maxUnhealthyCount({ ...policy, maxUnhealthy: '40%' }, 5), 2);
    assert.equal(maxUnhealthyCount({ ...policy, maxUnhealthy: '40%' }, 4), 1);
    assert.equal(maxUnhealthyCount({ ...policy, maxUnhealthy: '100%' }, 7), 7);
  });

  it('refuses a bad limit naming the field', () => {
    for (const bad of [-1, 1.5, '40', '140%', 'half'])
      assert.throws(
        () => maxUnhealthyCount({ ...policy, maxUnhealthy: bad }, 5),
        (e) => isIngotError(e, 'INGOT_VALIDATION') && /^maxUnhealthy: /.test(e.message),
      );
  });
});

describe('planRemediation', () => {
  it('starts every unhealthy worker and leaves healthy ones alone', () => {
    const p = planRemediation({
      nodes: [
        node('w1'),
        sick('w2'),
        node('w3', { bmcHealth: 'Critical' }),
        node('cp1', { role: 'control-plane' }),
      ],
      policy,
      now,
      inProgress: [],
    });
    assert.equal(p.halted, null);
    assert.deepEqual(
      p.start.map((s) => [s.node, s.cause]),
      [
        ['w2', 'not-ready'],
        ['w3', 'bmc-critical'],
      ],
    );
  });

  it('halts everything when more than maxUnhealthy nodes are unhealthy (a partition)', () => {
    const p = planRemediation({
      nodes: [sick('w1'), sick('w2'), sick('w3'), node('w4')],
      policy,
      now,
      inProgress: [],
    });
    assert.match(p.halted ?? '', /3 of 4 nodes are unhealthy, more than maxUnhealthy 2/);
    assert.deepEqual(p.start, []);
    assert.equal(p.waiting.length, 3);
  });

  it('counts a node not Ready yet within the timeout towards maxUnhealthy: a partition’s nodes flip seconds apart', () => {
    // w2 crossed the timeout; w3 and w4 went Unknown 10 s later and have not: three not Ready.
    const nodes = [sick('w2', { readySince: ago(65) }), sick('w3', { readySince: ago(55) })];
    const p = planRemediation({
      nodes: [...nodes, sick('w4', { readySince: ago(50) }), node('w5')],
      policy,
      now,
      inProgress: [],
    });
    assert.match(p.halted ?? '', /3 of 4 nodes are unhealthy, more than maxUnhealthy 2/);
    assert.deepEqual(p.start, []);
    assert.deepEqual(
      p.waiting.map((w) => w.node),
      ['w2'],
      'only the node past the timeout is waiting for the guard',
    );
    // Within the limit, the node past the timeout is started and the other is not (yet).
    const q = planRemediation({ nodes: [...nodes, node('w5')], policy, now, inProgress: [] });
    assert.equal(q.halted, null);
    assert.deepEqual(
      q.start.map((s) => s.node),
      ['w2'],
    );
  });

  it('counts nodes being remediated towards maxUnhealthy and does not start them again', () => {
    // w1 is being remediated (its Node deleted, so no longer "unhealthy" by itself).
    const nodes = [node('w1', { ready: null, readySince: null }), sick('w2'), sick('w3')];
    const p = planRemediation({ nodes, policy, now, inProgress: ['w1'] });
    assert.match(p.halted ?? '', /3 of 3/);
    const q = planRemediation({ nodes: nodes.slice(0, 2), policy, now, inProgress: ['w1'] });
    assert.equal(q.halted, null);
    assert.deepEqual(
      q.start.map((s) => s.node),
      ['w2'],
    );
    const r = planRemediation({ nodes: [sick('w2')], policy, now, inProgress: ['w2'] });
    assert.deepEqual(r.start, []);
  });

  it('remediates control planes one at a time', () => {
    const cps = [sick('cp2', { role: 'control-plane' }), sick('cp1', { role: 'control-plane' })];
    const p = planRemediation({
      nodes: [...cps, node('cp3', { role: 'control-plane' })],
      policy,
      now,
      inProgress: [],
    });
    assert.deepEqual(
      p.start.map((s) => s.node),
      ['cp1'],
    );
    assert.deepEqual(
      p.waiting.map((w) => w.node),
      ['cp2'],
    );
    assert.match(
      p.waiting[0].reason,
      /^waiting: control plane cp1 is being remediated \(one control plane at a time/,
    );
    // While cp1 runs, cp2 still waits; a worker does not.
    const q = planRemediation({
      nodes: [...cps, node('cp3', { role: 'control-plane' }), sick('w1')],
      policy: { ...policy, maxUnhealthy: 3 },
      now,
      inProgress: ['cp1'],
    });
    assert.deepEqual(
      q.start.map((s) => s.node),
      ['w1'],
    );
    assert.deepEqual(
      q.waiting.map((w) => w.node),
      ['cp2'],
    );
    assert.match(q.waiting[0].reason, /^waiting: control plane cp1 is being remediated/);
  });

  it('lets the next control plane start once the first is no longer in progress', () => {
    const p = planRemediation({
      nodes: [sick('cp2', { role: 'control-plane' }), node('cp3', { role: 'control-plane' })],
      policy,
      now,
      inProgress: [],
    });
    assert.deepEqual(
      p.start.map((s) => s.node),
      ['cp2'],
    );
    assert.deepEqual(p.waiting, []);
  });
});

describe('planRemediation with stacked etcd', () => {
  const cps = ['cp1', 'cp2', 'cp3'];
  const cp = (name: string, o: Partial<NodeHealth> = {}) => node(name, { role: 'control-plane', ...o });

  it('fences a control plane whose etcd member still answers when the others keep a quorum', () => {
    const p = planRemediation({
      nodes: [sick('cp1', { role: 'control-plane' }), cp('cp2'), cp('cp3')],
      policy,
      now,
      inProgress: [],
      etcd: { members: 3, healthyOn: cps },
    });
    assert.deepEqual(
      p.start.map((s) => s.node),
      ['cp1'],
    );
  });

  it('holds a control plane whose fence would leave etcd without a quorum', () => {
    // cp3's member is already down; cp1's kubelet is dead but its etcd still serves.
    const p = planRemediation({
      nodes: [sick('cp1', { role: 'control-plane' }), cp('cp2'), cp('cp3')],
      policy,
      now,
      inProgress: [],
      etcd: { members: 3, healthyOn: ['cp1', 'cp2'] },
    });
    assert.deepEqual(p.start, []);
    assert.match(p.waiting[0].reason, /would leave 1 of 3 members healthy: no quorum/);
  });

  it('fences a control plane whose own member is already down: fencing costs nothing', () => {
    const p = planRemediation({
      nodes: [sick('cp1', { role: 'control-plane' }), cp('cp2'), cp('cp3')],
      policy,
      now,
      inProgress: [],
      etcd: { members: 3, healthyOn: ['cp2', 'cp3'] },
    });
    assert.deepEqual(
      p.start.map((s) => s.node),
      ['cp1'],
    );
  });
});

describe('nextRung', () => {
  const n = { node: 'w1', domain: 'z1/r2' };
  const spares = [
    { machineId: 'spare-other', domain: 'z2/r1' },
    { machineId: 'spare-same', domain: 'z1/r2' },
  ];
  const ok = (step: S): RungResult => ({ step, ok: true });
  const failed = (step: S, detail = 'x'): RungResult => ({ step, ok: false, detail });

  it('climbs fence → delete-node → power-on for a node that is not ready', () => {
    const at = (done: RungResult[]) => nextRung({ cause: 'not-ready', done, node: n, spares });
    assert.deepEqual(at([]), { kind: 'run', step: 'fence' });
    assert.deepEqual(at([ok(S.Fence)]), { kind: 'run', step: 'delete-node' });
    assert.deepEqual(at([ok(S.Fence), ok(S.DeleteNode)]), { kind: 'run', step: 'power-on' });
  });

  it('ends when the node is Ready after power-on', () => {
    assert.deepEqual(
      nextRung({ cause: 'not-ready', done: [ok(S.Fence), ok(S.DeleteNode), ok(S.PowerOn)], node: n, spares }),
      { kind: 'recovered', by: 'power-on' },
    );
  });

  it('escalates to reprovision, then to a spare of the same failure domain', () => {
    const base = [ok(S.Fence), ok(S.DeleteNode), failed(S.PowerOn, 'not Ready in 600 s')];
    assert.deepEqual(nextRung({ cause: 'not-ready', done: base, node: n, spares }), {
      kind: 'run',
      step: 'reprovision',
    });
    assert.deepEqual(nextRung({ cause: 'not-ready', done: [...base, ok(S.Reprovision)], node: n, spares }), {
      kind: 'recovered',
      by: 'reprovision',
    });
    assert.deepEqual(
      nextRung({ cause: 'not-ready', done: [...base, failed(S.Reprovision)], node: n, spares }),
      { kind: 'run', step: 'replace', spare: 'spare-same' },
    );
  });

  it('halts when there is no spare in the failure domain', () => {
    const r = nextRung({
      cause: 'broken',
      done: [ok(S.Fence), ok(S.DeleteNode)],
      node: n,
      spares: [{ machineId: 'spare-other', domain: 'z2/r1' }],
    });
    assert.equal(r.kind, 'halt');
    assert.match(r.kind === 'halt' ? r.reason : '', /no spare ready machine in w1's failure domain z1\/r2/);
  });

  it('goes from delete-node straight to a spare for broken hardware and a critical BMC', () => {
    for (const cause of ['broken', 'bmc-critical'] as const)
      assert.deepEqual(nextRung({ cause, done: [ok(S.Fence), ok(S.DeleteNode)], node: n, spares }), {
        kind: 'run',
        step: 'replace',
        spare: 'spare-same',
      });
  });

  it("climbs a control plane's ladder in order: fenced before anything, replaced last, after power-on and reprovision failed", () => {
    const cp = { node: 'cp2', domain: 'z1/r2' };
    const steps: string[] = [];
    const done: RungResult[] = [];
    for (;;) {
      const r = nextRung({ cause: 'not-ready', done, node: cp, spares });
      if (r.kind !== 'run') {
        assert.deepEqual(r, { kind: 'recovered', by: 'replace' });
        break;
      }
      steps.push(r.step);
      // Power-on and reprovision fail; everything else works.
      done.push(r.step === S.PowerOn || r.step === S.Reprovision ? failed(r.step) : ok(r.step));
    }
    assert.deepEqual(steps, ['fence', 'delete-node', 'power-on', 'reprovision', 'replace']);
  });

  it('never deletes the Node of a node that could not be fenced', () => {
    const r = nextRung({ cause: 'not-ready', done: [failed(S.Fence, 'BMC unreachable')], node: n, spares });
    assert.equal(r.kind, 'halt');
    assert.match(
      r.kind === 'halt' ? r.reason : '',
      /could not be fenced \(BMC unreachable\): its Node is kept/,
    );
  });

  it('halts when deleting the Node fails, and when every rung failed', () => {
    const d = nextRung({
      cause: 'not-ready',
      done: [ok(S.Fence), failed(S.DeleteNode, '403')],
      node: n,
      spares,
    });
    assert.match(d.kind === 'halt' ? d.reason : '', /could not be deleted \(403\)/);
    const all = nextRung({
      cause: 'bmc-critical',
      done: [ok(S.Fence), ok(S.DeleteNode), failed(S.Replace, 'spare never Ready')],
      node: n,
      spares,
    });
    assert.match(
      all.kind === 'halt' ? all.reason : '',
      /every rung failed for w1 \(last: spare never Ready\); it stays fenced \(powered off\)/,
    );
  });

  it('halts on a history that does not follow the ladder', () => {
    const r = nextRung({
      cause: 'broken',
      done: [ok(S.Fence), ok(S.DeleteNode), ok(S.PowerOn)],
      node: n,
      spares,
    });
    assert.match(r.kind === 'halt' ? r.reason : '', /rung 3 was power-on, the ladder says replace/);
  });
});

describe('pickSpare', () => {
  const failed = { node: 'w3', domain: 'z1/r2' };

  it("takes a spare of the failed node's rack before one of its zone, never one of another zone", () => {
    const spares = [
      { machineId: 'a-other-zone', domain: 'z2/r2' },
      { machineId: 'b-same-zone', domain: 'z1/r1' },
      { machineId: 'c-same-rack', domain: 'z1/r2' },
    ];
    assert.deepEqual(pickSpare(failed, spares), { machineId: 'c-same-rack', domain: 'z1/r2' });
    // The rack's spare gone: the zone's.
    assert.deepEqual(pickSpare(failed, spares.slice(0, 2)), { machineId: 'b-same-zone', domain: 'z1/r1' });
    // Racks of the same name in another zone are another domain (the planner's rackKey).
    const r = pickSpare(failed, [{ machineId: 'x', domain: 'z2/r2' }]);
    assert.ok('halt' in r);
    assert.match(
      r.halt,
      /no spare ready machine in w3's failure domain z1\/r2 nor in its zone z1 \(1 ready machine\(s\) elsewhere: z2\/r2\)/,
    );
  });

  it('picks the same spare on every pass (machine id order among equals)', () => {
    const spares = [
      { machineId: 'm9', domain: 'z1/r2' },
      { machineId: 'm1', domain: 'z1/r2' },
    ];
    assert.equal((pickSpare(failed, spares) as { machineId: string }).machineId, 'm1');
    assert.equal((pickSpare(failed, [...spares].reverse()) as { machineId: string }).machineId, 'm1');
  });

  it('halts with a clear reason when there are no spares at all', () => {
    const r = pickSpare(failed, []);
    assert.deepEqual(r, {
      halt: "no spare ready machine in w3's failure domain z1/r2 nor in its zone z1 (0 ready machine(s) elsewhere)",
    });
    const rung = nextRung({
      cause: UnhealthyCause.Broken,
      done: [
        { step: S.Fence, ok: true },
        { step: S.DeleteNode, ok: true },
      ],
      node: failed,
      spares: [],
    });
    assert.deepEqual(rung, { kind: 'halt', reason: r.halt });
  });
});
