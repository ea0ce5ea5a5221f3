import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memberPlan } from './member-plan.ts';
import type { Plan, PlannedNode } from './types.ts';

const node = (hostname: string, address: string) => ({ hostname, address }) as unknown as PlannedNode;
const plan = (...nodes: PlannedNode[]) => ({ cluster: 'c', nodes }) as unknown as Plan;

describe('memberPlan', () => {
  it('is the newest plan itself when its nodes are the members', () => {
    const p = plan(node('a', '10.0.0.1'), node('b', '10.0.0.2'));
    assert.equal(memberPlan([p], ['b', 'a']), p);
  });

  it('drops nodes that are no longer members and takes back kept ones from an older plan, addresses kept', () => {
    const before = plan(node('a', '10.0.0.1'), node('b', '10.0.0.2'));
    // An aborted scale: it planned c in and b out; c was given back, b kept.
    const aborted = plan(node('a', '10.0.0.1'), node('c', '10.0.0.3'));
    const p = memberPlan([aborted, before], ['a', 'b']);
    assert.deepEqual(
      p.nodes.map((n) => [n.hostname, n.address]),
      [
        ['a', '10.0.0.1'],
        ['b', '10.0.0.2'],
      ],
    );
    assert.equal((p as unknown as { cluster: string }).cluster, 'c', 'the rest of the newest plan');
  });

  it('leaves out a member no plan placed', () => {
    const p = plan(node('a', '10.0.0.1'));
    assert.deepEqual(
      memberPlan([p], ['a', 'x']).nodes.map((n) => n.hostname),
      ['a'],
    );
  });
});
