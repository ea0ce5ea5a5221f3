import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  controlPlaneRollGap,
  decideControlPlaneReplace,
  decideMemberRejoin,
  type EtcdMemberInfo,
  quorumOf,
} from './control-plane-replace.ts';

const member = (name: string, id = `${name}0a`): EtcdMemberInfo => ({ id, name, started: true });
const three = [member('cp1'), member('cp2'), member('cp3')];

describe('control-plane replacement decisions', () => {
  it('counts a quorum as a majority of the members', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(quorumOf), [1, 2, 2, 3, 3]);
  });

  it('replaces a dead member of three through the first healthy one, removing its member', () => {
    const d = decideControlPlaneReplace({
      dead: 'cp1',
      spare: 'cp4',
      members: three,
      healthyOn: ['cp3', 'cp2'],
    });
    assert.ok(d.ok);
    assert.equal(d.via, 'cp2');
    assert.deepEqual(d.remove, member('cp1'));
    assert.match(
      d.summary,
      /2 of 3 etcd members answer.*without cp1: 2 of 2.*with cp4 joining: 2 of 3 \(quorum 2\)/,
    );
  });

  it('refuses when two of three members are gone: the remove would not commit', () => {
    const d = decideControlPlaneReplace({ dead: 'cp1', spare: 'cp4', members: three, healthyOn: ['cp2'] });
    assert.ok(!d.ok);
    assert.match(
      d.reason,
      /only 1 of 3 etcd members answer \(cp2\), a quorum is 2: etcd has lost its quorum/,
    );
    // Not a replace but a restore: the reason says so and names the command.
    assert.match(d.reason, /a restore case, .*\(ingot cluster backup restore\)$/);
  });

  it('refuses a dead node whose member still answers: it must be fenced first', () => {
    const d = decideControlPlaneReplace({
      dead: 'cp1',
      spare: 'cp4',
      members: three,
      healthyOn: ['cp1', 'cp2', 'cp3'],
    });
    assert.ok(!d.ok);
    assert.match(d.reason, /cp1's etcd member still answers: fence it first/);
  });

  it('refuses a two-member cluster with one healthy left (the remove needs both)', () => {
    const d = decideControlPlaneReplace({
      dead: 'cp1',
      spare: 'cp4',
      members: [member('cp1'), member('cp2')],
      healthyOn: ['cp2'],
    });
    assert.ok(!d.ok);
    assert.match(d.reason, /only 1 of 2/);
  });

  it('on a retry (the dead member already removed) joins the spare without a remove, if the join keeps quorum', () => {
    const two = [member('cp2'), member('cp3')];
    const ok = decideControlPlaneReplace({
      dead: 'cp1',
      spare: 'cp4',
      members: two,
      healthyOn: ['cp2', 'cp3'],
    });
    assert.ok(ok.ok);
    assert.equal(ok.remove, null);
    assert.equal(ok.via, 'cp2');
    // Two members, one answering: a third joining would need two healthy ones.
    const no = decideControlPlaneReplace({ dead: 'cp1', spare: 'cp4', members: two, healthyOn: ['cp3'] });
    assert.ok(!no.ok);
    assert.match(no.reason, /only 1 of 2/);
  });

  it('refuses when the join itself would go below quorum: four members, three answering after a remove is fine, a half-joined member is not', () => {
    // Five members (one a half-joined, never started member), two dead: 3 of 5 answer, the remove
    // commits (3 ≥ 3), 4 left, then 5 again with 3 healthy: quorum 3, allowed.
    const five = [...three, member('cp4'), { id: 'ff', name: '', started: false }];
    const ok = decideControlPlaneReplace({
      dead: 'cp4',
      spare: 'cp5',
      members: five,
      healthyOn: ['cp1', 'cp2', 'cp3'],
    });
    assert.ok(ok.ok);
    // Four members, two answering: the remove does not commit.
    const four = [...three, member('cp4')];
    const no = decideControlPlaneReplace({
      dead: 'cp4',
      spare: 'cp5',
      members: four,
      healthyOn: ['cp1', 'cp2'],
    });
    assert.ok(!no.ok);
    assert.match(no.reason, /only 2 of 4 .* a quorum is 3/);
  });

  it('refuses a spare that is a member already, and a cluster with no member answering', () => {
    const a = decideControlPlaneReplace({
      dead: 'cp1',
      spare: 'cp2',
      members: three,
      healthyOn: ['cp2', 'cp3'],
    });
    assert.ok(!a.ok);
    assert.match(a.reason, /cp2 is an etcd member already/);
    const b = decideControlPlaneReplace({ dead: 'cp1', spare: 'cp4', members: three, healthyOn: [] });
    assert.ok(!b.ok);
    assert.match(b.reason, /no etcd member answers.*restore from a snapshot/);
  });
});

describe('a running control plane leaving etcd and rejoining (an OS replacement)', () => {
  const three = [member('cp1', 'a0'), member('cp2', 'a1'), member('cp3', 'a2')];

  it('removes its member through another healthy one when the others keep a quorum while it is away and rejoining', () => {
    const d = decideMemberRejoin({ node: 'cp1', members: three, healthyOn: ['cp1', 'cp2', 'cp3'] });
    assert.ok(d.ok);
    assert.equal(d.via, 'cp2');
    assert.equal(d.remove?.id, 'a0');
    assert.match(d.summary, /with cp1 rejoining: 2 of 3 \(quorum 2\)/);
  });

  it('asked again after the remove (a crash, the join): no member to remove, the join keeps the quorum', () => {
    const d = decideMemberRejoin({ node: 'cp1', members: three.slice(1), healthyOn: ['cp2', 'cp3'] });
    assert.ok(d.ok);
    assert.equal(d.remove, null);
  });

  it('refuses when another member does not answer: 3 members, 1 other healthy', () => {
    const d = decideMemberRejoin({ node: 'cp1', members: three, healthyOn: ['cp1', 'cp2'] });
    assert.ok(!d.ok);
    assert.match(
      d.reason,
      /the other members answering are 1 \(cp2\).*a quorum is 2: replacing it now would leave etcd below quorum/,
    );
  });

  it('refuses 1 and 2 members (no other, or one other: below quorum while it is away)', () => {
    const one = decideMemberRejoin({ node: 'cp1', members: three.slice(0, 1), healthyOn: ['cp1'] });
    assert.ok(!one.ok);
    assert.match(one.reason, /no other etcd member answers/);
    const two = decideMemberRejoin({ node: 'cp1', members: three.slice(0, 2), healthyOn: ['cp1', 'cp2'] });
    assert.ok(!two.ok);
    assert.match(two.reason, /a quorum is 2/);
  });

  it('lets a dead control plane (its member not answering) be removed when the others are a quorum', () => {
    const d = decideMemberRejoin({ node: 'cp1', members: three, healthyOn: ['cp2', 'cp3'] });
    assert.ok(d.ok);
    assert.equal(d.remove?.id, 'a0');
  });
});

describe('controlPlaneRollGap', () => {
  it('refuses external etcd and fewer than 3 control planes, naming why', () => {
    assert.match(controlPlaneRollGap({ controlPlanes: 3, externalEtcd: true }) ?? '', /its etcd is external/);
    assert.match(
      controlPlaneRollGap({ controlPlanes: 2, externalEtcd: false }) ?? '',
      /has 2 control plane\(s\): .*loses etcd's quorum/,
    );
    assert.match(controlPlaneRollGap({ controlPlanes: 1, externalEtcd: false }) ?? '', /has 1 control plane/);
    assert.equal(controlPlaneRollGap({ controlPlanes: 3, externalEtcd: false }), null);
    assert.equal(controlPlaneRollGap({ controlPlanes: 5, externalEtcd: false }), null);
  });
});
