import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PlannedNode } from '../plan/types.ts';
import { nodeLabelsArg, topologyLabels } from './context.ts';

/** The plain path: every topology and own label, sorted by key. */
function plain(node: PlannedNode): string {
  const labels = topologyLabels(node);
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

describe('nodeLabelsArg', () => {
  it('lists the topology and own labels sorted by key, as the plain path does', () => {
    const node = (labels: Record<string, string>, pool = 'general') =>
      ({ zone: 'z1', rack: 'z1-r2', pool, labels }) as unknown as PlannedNode;
    for (const n of [
      node({}),
      node({}, 'control-plane'),
      node({ gpu: 'a100' }),
      node({ 'ingot.dev/pool': 'other' }),
      node({ 'a.example/x': '1', 'zz/y': '2' }),
    ])
      assert.equal(nodeLabelsArg(n), plain(n), JSON.stringify(n));
  });
});
