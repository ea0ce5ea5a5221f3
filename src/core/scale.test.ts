import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIngotError } from './errors.ts';
import { controlPlaneProblem, decideScale, type ScaleMember } from './scale.ts';

const member = (hostname: string, role: string, order: number): ScaleMember => ({ hostname, role, order });
const cluster: ScaleMember[] = [
  member('cp1', 'init', 0),
  member('w-a', 'worker', 1),
  member('w-b', 'worker', 2),
  member('w-c', 'worker', 3),
];

const refusedOn = (field: RegExp, f: () => unknown) =>
  assert.throws(f, (e) => {
    assert.ok(isIngotError(e, 'INGOT_VALIDATION'), String(e));
    assert.match(String(e.details.field), field);
    return true;
  });

describe('decideScale', () => {
  it('adds the difference when more workers are wanted', () => {
    assert.deepEqual(decideScale(cluster, { workers: 5 }), { add: 2, remove: [] });
  });

  it('changes nothing when the count is the one the cluster has', () => {
    assert.deepEqual(decideScale(cluster, { workers: 3 }), { add: 0, remove: [] });
  });

  it('removes the newest workers first (highest join order)', () => {
    assert.deepEqual(decideScale(cluster, { workers: 1 }), { add: 0, remove: ['w-c', 'w-b'] });
    const shuffled = [member('w-z', 'worker', 7), member('cp', 'init', 0), member('w-y', 'worker', 9)];
    assert.deepEqual(decideScale(shuffled, { workers: 1 }).remove, ['w-y']);
  });

  it('removes the named workers instead, with or without a count', () => {
    assert.deepEqual(decideScale(cluster, { remove: ['w-a'] }), { add: 0, remove: ['w-a'] });
    assert.deepEqual(decideScale(cluster, { workers: 1, remove: ['w-a', 'w-c'] }), {
      add: 0,
      remove: ['w-a', 'w-c'],
    });
  });

  it('may remove every worker', () => {
    assert.deepEqual(decideScale(cluster, { workers: 0 }).remove.length, 3);
  });

  it('refuses a named node that is not a worker, not a member, or named twice', () => {
    refusedOn(/^remove\[0\]$/, () => decideScale(cluster, { remove: ['cp1'] }));
    refusedOn(/^remove\[1\]$/, () => decideScale(cluster, { remove: ['w-a', 'nope'] }));
    refusedOn(/^remove\[1\]$/, () => decideScale(cluster, { remove: ['w-a', 'w-a'] }));
  });

  it('refuses names that do not add up to the count', () => {
    refusedOn(/^remove$/, () => decideScale(cluster, { workers: 2, remove: ['w-a', 'w-b'] }));
    refusedOn(/^remove$/, () => decideScale(cluster, { workers: 4, remove: ['w-a'] }));
  });

  it('refuses a negative, fractional or missing worker count', () => {
    refusedOn(/^workers$/, () => decideScale(cluster, { workers: -1 }));
    refusedOn(/^workers$/, () => decideScale(cluster, { workers: 1.5 }));
    refusedOn(/^workers$/, () => decideScale(cluster, {}));
  });
});

describe('control planes', () => {
  const three = [
    member('cp1', 'init', 0),
    member('cp2', 'control-plane', 1),
    member('cp3', 'control-plane', 2),
  ];

  it('refuses an even count, naming the quorum', () => {
    assert.match(controlPlaneProblem(3, 4)!, /even.*odd count/);
    assert.match(controlPlaneProblem(3, 2)!, /even/);
  });

  it('refuses a count below the etcd quorum of the members now', () => {
    assert.match(controlPlaneProblem(3, 1)!, /below the etcd quorum of the 3 members now \(2\)/);
    assert.match(controlPlaneProblem(7, 3)!, /below the etcd quorum of the 7 members now \(4\)/);
    assert.equal(controlPlaneProblem(5, 3), null);
    assert.equal(controlPlaneProblem(3, 5), null);
    assert.match(controlPlaneProblem(1, 0)!, /at least 1/);
  });

  it('a scale naming the control planes it has passes; a change is a scale of its own, within the rules', () => {
    assert.deepEqual(decideScale([...three, member('w', 'worker', 3)], { workers: 2, controlPlanes: 3 }), {
      add: 1,
      remove: [],
    });
    assert.deepEqual(
      decideScale(three, { controlPlanes: 3 }),
      { add: 0, remove: [] },
      'workers left as they are',
    );
    refusedOn(/^controlPlanes$/, () => decideScale(three, { workers: 0, controlPlanes: 1 }));
    refusedOn(/^controlPlanes$/, () => decideScale(three, { controlPlanes: 1 }));
    refusedOn(/^controlPlanes$/, () => decideScale(three, { workers: 0, controlPlanes: 4 }));
    assert.throws(
      () => decideScale([...three, member('w', 'worker', 3)], { workers: 0, controlPlanes: 5 }),
      /controlPlanes: the control planes \(3 → 5\) change in a scale of their own/,
    );
    assert.throws(
      () => decideScale([...three, member('w', 'worker', 3)], { remove: ['w'], controlPlanes: 5 }),
      /change in a scale of their own/,
    );
  });

  it('adds control planes; removes them newest first, the init node last, never below the quorum rules', () => {
    assert.deepEqual(
      decideScale([member('cp1', 'init', 0), member('w', 'worker', 1)], { controlPlanes: 3 }),
      {
        add: 0,
        remove: [],
        addControlPlanes: 2,
        removeControlPlanes: [],
      },
    );
    assert.deepEqual(decideScale(three, { workers: 0, controlPlanes: 5 }).addControlPlanes, 2);
    const five = [
      member('cp5', 'control-plane', 9),
      member('cp1', 'init', 0),
      member('cp2', 'control-plane', 1),
      member('cp4', 'control-plane', 7),
      member('cp3', 'control-plane', 2),
    ];
    assert.deepEqual(decideScale(five, { controlPlanes: 3 }).removeControlPlanes, ['cp5', 'cp4']);
    // An init node that joined later than the others (its order highest) still goes last.
    const initNewest = [
      member('a', 'init', 9),
      member('b', 'control-plane', 1),
      member('c', 'control-plane', 2),
    ];
    assert.match(controlPlaneProblem(3, 1)!, /below the etcd quorum/);
    assert.deepEqual(
      decideScale([...initNewest, member('d', 'control-plane', 3), member('e', 'control-plane', 4)], {
        controlPlanes: 3,
      }).removeControlPlanes,
      ['e', 'd'],
    );
  });
});
