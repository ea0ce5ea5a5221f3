import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideMemberAdd, decideMemberLeave } from './control-plane-scale.ts';

const m = (name: string, id = name, started = true) => ({ id, name, started });

describe('decideMemberAdd', () => {
  it('adds through a healthy member only while every member answers', () => {
    const one = decideMemberAdd({ node: 'cp-2', members: [m('cp-1')], healthyOn: ['cp-1'] });
    assert.ok(one.ok);
    assert.equal(one.via, 'cp-1');
    assert.equal(one.remove, null);
    assert.match(one.summary, /all 1 etcd member\(s\) answer .* 1 of 2 healthy .*quorum 2/);
    const silent = decideMemberAdd({
      node: 'cp-4',
      members: [m('cp-1'), m('cp-2'), m('cp-3')],
      healthyOn: ['cp-1', 'cp-2'],
    });
    assert.ok(!silent.ok);
    assert.match(silent.reason, /1 of 3 etcd members do not answer \(cp-3\)/);
  });

  it('refuses while an unstarted member (a join under way) is there', () => {
    const d = decideMemberAdd({
      node: 'cp-3',
      members: [m('cp-1'), m('', 'ff', false)],
      healthyOn: ['cp-1'],
    });
    assert.ok(!d.ok);
    assert.match(d.reason, /ff \(unstarted\)/);
  });

  it('does not add a node that is a member already (its join was asked before)', () => {
    const d = decideMemberAdd({ node: 'cp-2', members: [m('cp-1'), m('cp-2')], healthyOn: ['cp-1'] });
    assert.ok(d.ok);
    assert.match(d.summary, /not added again/);
    assert.ok(!decideMemberAdd({ node: 'cp-2', members: [m('cp-2')], healthyOn: [] }).ok);
  });
});

describe('decideMemberLeave', () => {
  const five = ['cp-1', 'cp-2', 'cp-3', 'cp-4', 'cp-5'].map((n) => m(n));

  it('removes through another healthy member while the removal and the members left keep quorum', () => {
    const d = decideMemberLeave({ node: 'cp-5', members: five, healthyOn: ['cp-1', 'cp-2', 'cp-3', 'cp-5'] });
    assert.ok(d.ok);
    assert.equal(d.via, 'cp-1');
    assert.equal(d.remove?.id, 'cp-5');
    assert.match(d.summary, /4 of 5 .*without cp-5: 3 of 4 \(quorum 3\)/);
  });

  it('refuses when the members left would be below their quorum', () => {
    const d = decideMemberLeave({ node: 'cp-5', members: five, healthyOn: ['cp-1', 'cp-2', 'cp-5'] });
    assert.ok(!d.ok);
    assert.match(d.reason, /without cp-5, 4 members need 3/);
    const lost = decideMemberLeave({ node: 'cp-3', members: five.slice(0, 3), healthyOn: ['cp-1'] });
    assert.ok(!lost.ok);
    assert.match(lost.reason, /only 1 of 3 etcd members answer .*lost its quorum/);
  });

  it('does not remove a member twice: gone already, it answers remove null', () => {
    const d = decideMemberLeave({ node: 'cp-3', members: five.slice(0, 2), healthyOn: ['cp-1', 'cp-2'] });
    assert.ok(d.ok);
    assert.equal(d.remove, null);
    assert.ok(!decideMemberLeave({ node: 'cp-3', members: [m('cp-3')], healthyOn: ['cp-3'] }).ok);
  });
});
