import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupByDomain, lostText, tolerance } from './domains.ts';
import { node, row } from './test-fixtures.ts';

describe('cluster plan by failure domain', () => {
  it('groups nodes by zone, then rack, control planes first within a rack', () => {
    const groups = groupByDomain([
      node({ hostname: 'w-2', zone: 'z2', rack: 'z2-r1' }),
      node({ hostname: 'w-1', zone: 'z1', rack: 'z1-r2' }),
      node({ hostname: 'cp-9', zone: 'z1', rack: 'z1-r2', role: 'control-plane' }),
      node({ hostname: 'cp-1', zone: 'z1', rack: 'z1-r1', role: 'control-plane' }),
    ]);
    assert.deepEqual(
      groups.map((z) => [z.zone, z.count, z.racks.map((r) => [r.rack, r.nodes.map((n) => n.hostname)])]),
      [
        [
          'z1',
          3,
          [
            ['z1-r1', ['cp-1']],
            ['z1-r2', ['cp-9', 'w-1']],
          ],
        ],
        ['z2', 1, [['z2-r1', ['w-2']]]],
      ],
    );
  });

  it('says what a domain’s loss takes in words', () => {
    assert.equal(lostText(row({})), 'nothing');
    assert.equal(
      lostText(row({ lost: { controlPlanes: 1, etcd: 2, workers: 3 } })),
      '1 control plane, 2 etcd nodes, 3 workers',
    );
  });

  it('names the domains whose loss takes etcd quorum or the API', () => {
    const t = tolerance({
      whatIf: [
        row({ name: 'z1' }),
        row({ name: 'z2', quorum: false, apiAvailable: false }),
        row({ domain: 'rack', name: 'r1', apiAvailable: false }),
        row({ domain: 'rack', name: 'r2' }),
      ],
    });
    assert.deepEqual(t, [
      { domain: 'zone', total: 2, fatal: ['z2'] },
      { domain: 'rack', total: 2, fatal: ['r1'] },
    ]);
  });
});
