/**
 * The what-if table of every example: for each zone and rack, what survives its loss. The
 * expected rows were checked by hand against each example's plan (placement is deterministic);
 * the invariants below recompute them from the planned nodes so a table that disagrees with its
 * own plan fails too.
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import {
  formatWhatIf,
  loadClusterFiles,
  type Plan,
  planCluster,
  type WhatIfRow,
} from '../src/cluster/index.ts';
import { exampleFiles, INVENTORY } from './cluster-examples.ts';

const row = (r: WhatIfRow) =>
  `${r.domain} ${r.name}: lost ${r.lost.controlPlanes}cp ${r.lost.etcd}etcd ${r.lost.workers}w, etcd ${r.etcdSurvivors}/${r.etcdMembers} ${r.quorum ? 'quorum' : 'NO-QUORUM'}, api ${r.apiAvailable ? 'up' : 'DOWN'}, workers ${r.workersSurviving}/${r.workersTotal}`;

const EXPECTED: Record<string, string[]> = {
  'kubeadm-ha.yaml': [
    'zone z1: lost 1cp 0etcd 3w, etcd 2/3 quorum, api up, workers 5/8',
    'zone z2: lost 1cp 0etcd 3w, etcd 2/3 quorum, api up, workers 5/8',
    'zone z3: lost 1cp 0etcd 2w, etcd 2/3 quorum, api up, workers 6/8',
    'rack z1-r1: lost 1cp 0etcd 2w, etcd 2/3 quorum, api up, workers 6/8',
    'rack z1-r2: lost 0cp 0etcd 1w, etcd 3/3 quorum, api up, workers 7/8',
    'rack z2-r1: lost 1cp 0etcd 2w, etcd 2/3 quorum, api up, workers 6/8',
    'rack z2-r2: lost 0cp 0etcd 1w, etcd 3/3 quorum, api up, workers 7/8',
    'rack z3-r1: lost 1cp 0etcd 1w, etcd 2/3 quorum, api up, workers 7/8',
    'rack z3-r2: lost 0cp 0etcd 1w, etcd 3/3 quorum, api up, workers 7/8',
  ],
  'k3s-edge.yaml': [
    'zone z1: lost 1cp 0etcd 2w, etcd 0/1 NO-QUORUM, api DOWN, workers 0/2',
    'rack z1-r1: lost 1cp 0etcd 1w, etcd 0/1 NO-QUORUM, api DOWN, workers 1/2',
    'rack z1-r2: lost 0cp 0etcd 1w, etcd 1/1 quorum, api up, workers 1/2',
  ],
  'rke2-external-etcd.yaml': [
    'zone z1: lost 1cp 1etcd 3w, etcd 2/3 quorum, api up, workers 4/7',
    'zone z2: lost 1cp 1etcd 2w, etcd 2/3 quorum, api up, workers 5/7',
    'zone z3: lost 1cp 1etcd 2w, etcd 2/3 quorum, api up, workers 5/7',
    'rack z1-r1: lost 1cp 0etcd 2w, etcd 3/3 quorum, api up, workers 5/7',
    'rack z1-r2: lost 0cp 1etcd 1w, etcd 2/3 quorum, api up, workers 6/7',
    'rack z2-r1: lost 1cp 0etcd 2w, etcd 3/3 quorum, api up, workers 5/7',
    'rack z2-r2: lost 0cp 1etcd 0w, etcd 2/3 quorum, api up, workers 7/7',
    'rack z3-r1: lost 1cp 0etcd 2w, etcd 3/3 quorum, api up, workers 5/7',
    'rack z3-r2: lost 0cp 1etcd 0w, etcd 2/3 quorum, api up, workers 7/7',
  ],
  'lab-cluster.yaml': [
    'zone z1: lost 1cp 0etcd 0w, etcd 0/1 NO-QUORUM, api DOWN, workers 0/0',
    'rack z1-r1: lost 1cp 0etcd 0w, etcd 0/1 NO-QUORUM, api DOWN, workers 0/0',
  ],
  'kubeadm-v1beta3-bgp.yaml': [
    'zone z1: lost 2cp 0etcd 0w, etcd 3/5 quorum, api up, workers 3/3',
    'zone z2: lost 2cp 0etcd 0w, etcd 3/5 quorum, api up, workers 3/3',
    'zone z3: lost 1cp 0etcd 3w, etcd 4/5 quorum, api up, workers 0/3',
    'rack z1-r1: lost 1cp 0etcd 0w, etcd 4/5 quorum, api up, workers 3/3',
    'rack z1-r2: lost 1cp 0etcd 0w, etcd 4/5 quorum, api up, workers 3/3',
    'rack z2-r1: lost 1cp 0etcd 0w, etcd 4/5 quorum, api up, workers 3/3',
    'rack z2-r2: lost 1cp 0etcd 0w, etcd 4/5 quorum, api up, workers 3/3',
    'rack z3-r1: lost 1cp 0etcd 2w, etcd 4/5 quorum, api up, workers 1/3',
    'rack z3-r2: lost 0cp 0etcd 1w, etcd 5/5 quorum, api up, workers 2/3',
  ],
};

function plans(): [string, Plan][] {
  return exampleFiles().map((f) => {
    const { spec, inventory } = loadClusterFiles(f, INVENTORY);
    return [basename(f), planCluster(spec, inventory).plan];
  });
}

describe('what-if tables of the examples', () => {
  it('lists what survives the loss of each zone and rack', () => {
    const got = Object.fromEntries(plans().map(([f, p]) => [f, p.whatIf.map(row)]));
    assert.deepEqual(got, EXPECTED);
  });

  it('agrees with the planned nodes: lost counts, survivors and quorum recomputed independently', () => {
    for (const [f, p] of plans()) {
      const members = p.nodes.filter((n) => p.etcd.members.includes(n.hostname));
      for (const r of p.whatIf) {
        const hit = (n: { zone: string; rack: string }) => (r.domain === 'zone' ? n.zone : n.rack) === r.name;
        const survivors = members.filter((n) => !hit(n)).length;
        assert.equal(r.etcdSurvivors, survivors, `${f} ${r.domain} ${r.name}`);
        assert.equal(r.quorum, survivors > members.length / 2, `${f} ${r.domain} ${r.name}`);
        const cpLeft = p.nodes.filter((n) => n.role === 'control-plane' && !hit(n)).length;
        assert.equal(r.apiAvailable, r.quorum && cpLeft > 0);
        assert.equal(r.workersSurviving, p.nodes.filter((n) => n.role === 'worker' && !hit(n)).length);
      }
      const domains = new Set(p.nodes.flatMap((n) => [`zone ${n.zone}`, `rack ${n.rack}`]));
      assert.equal(p.whatIf.length, domains.size, `${f}: one row per zone and rack`);
    }
  });

  it('keeps etcd quorum through any single zone or rack loss in every HA example', () => {
    for (const [f, p] of plans()) {
      if (p.etcd.members.length < 3) continue;
      assert.ok(
        p.whatIf.every((r) => r.quorum && r.apiAvailable),
        f,
      );
    }
  });

  it('prints the table with one line per domain', () => {
    const [, p] = plans().find(([f]) => f === 'kubeadm-ha.yaml')!;
    const text = formatWhatIf(p.whatIf).split('\n');
    assert.match(text[0], /^DOMAIN\s+LOST\s+ETCD\s+QUORUM\s+API\s+WORKERS$/);
    assert.equal(text.length, p.whatIf.length + 1);
    assert.match(text[1], /^zone z1\s+1 control plane, 3 workers\s+2\/3\s+kept\s+up\s+5\/8$/);
  });
});
