import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIngotError } from '../../core/errors.ts';
import type { Problem } from '../spec/problems.ts';
import { cluster, inventory, machine } from '../testing.ts';
import { buildPlan } from './plan.ts';

function planProblems(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (e) {
    assert.ok(isIngotError(e, 'INGOT_VALIDATION'), String(e));
    return e.details.problems as Problem[];
  }
  assert.fail('expected the plan to be refused');
}

describe('planner', () => {
  it('spreads three control planes over three zones and puts the init node first', () => {
    const p = buildPlan(cluster({ workers: [{ name: 'w', count: 3 }] }), inventory(3, 2, 2));
    const cps = p.nodes.filter((n) => n.role === 'control-plane');
    assert.deepEqual(cps.map((n) => n.zone).sort(), ['z1', 'z2', 'z3']);
    assert.ok(cps[0].init && !cps[1].init && !cps[2].init);
    assert.equal(p.etcd.quorum, 2);
    assert.equal(new Set(p.nodes.map((n) => n.machineId)).size, p.nodes.length, 'no machine used twice');
  });

  it('refuses a plan where losing one zone loses etcd quorum, and says what would fix it', () => {
    const found = planProblems(() => buildPlan(cluster(), inventory(2, 2, 2)));
    assert.equal(found.length, 1);
    assert.equal(found[0].path, 'spec.controlPlane.machines');
    assert.match(found[0].message, /losing zone "z1" leaves 1 of 3 etcd members, below quorum 2/);
    assert.match(found[0].message, /at least 3 zones/);
    assert.match(found[0].message, /candidates exist in 2 \(z1, z2\)/);
    assert.match(found[0].message, /remove "zone" from spec.placement.tolerate/);
  });

  it('accepts the same inventory when only rack failures must be survived', () => {
    const p = buildPlan(cluster({ placement: { tolerate: ['rack'] } }), inventory(2, 2, 2));
    assert.equal(new Set(p.nodes.filter((n) => n.role === 'control-plane').map((n) => n.rack)).size, 3);
    const z1 = p.whatIf.find((r) => r.domain === 'zone' && r.name === 'z1');
    assert.equal(z1?.quorum, false, 'the what-if table still shows the accepted risk');
  });

  it('treats racks with the same name in different zones as different failure domains', () => {
    // Three zones, each with racks r01 and r02: six physical racks, two names.
    const inv = inventory(3, 2, 2);
    const machines = inv.machines.map((m) => ({ ...m, rack: m.rack.replace(/^z\d-r/, 'r0') }));
    const p = buildPlan(cluster({ workers: [{ name: 'w', count: 3 }] }), { ...inv, machines });
    const racks = p.whatIf.filter((r) => r.domain === 'rack').map((r) => r.name);
    assert.ok(racks.includes('z1/r01') && racks.includes('z2/r01'), `rack rows: ${racks.join(', ')}`);
    for (const row of p.whatIf.filter((r) => r.domain === 'rack')) {
      assert.ok(row.lost.controlPlanes <= 1, `${row.name} holds ${row.lost.controlPlanes} control planes`);
      assert.equal(row.quorum, true, `${row.name}: one physical rack must not hold two etcd members`);
    }
  });

  it('checks quorum on the dedicated etcd members with external etcd', () => {
    const inv = inventory(3, 1, 3);
    const p = buildPlan(cluster({ etcd: { topology: 'external', count: 3 } }), inv);
    assert.equal(p.etcd.members.length, 3);
    assert.deepEqual(
      p.nodes
        .filter((n) => n.role === 'etcd')
        .map((n) => n.zone)
        .sort(),
      ['z1', 'z2', 'z3'],
    );
  });

  it('explains a shortfall: how many match and why the others do not', () => {
    const inv = inventory(3, 1, 2);
    const gpu = {
      ...inv,
      machines: [
        ...inv.machines,
        machine('gpu-1', 'z1', 'z1-r1', { pool: 'gpu', gpus: 4 }),
        machine('gpu-2', 'z2', 'z2-r1', { pool: 'gpu', tags: ['gpus=2'] }),
      ],
    };
    const found = planProblems(() =>
      buildPlan(
        cluster({ workers: [{ name: 'gpu', count: 2, machines: { pool: 'gpu', minGpus: 4 } }] }),
        gpu,
      ),
    );
    assert.equal(found[0].path, 'spec.workers[0].machines');
    assert.match(found[0].message, /needs 2 gpu machines, 1 match/);
    assert.match(found[0].message, /6 not in pool gpu/);
    assert.match(found[0].message, /1 with fewer than 4 GPUs/);
  });

  it('never picks machines that are not ready', () => {
    const inv = inventory(3, 1, 1);
    const broken = {
      ...inv,
      machines: inv.machines.map((m, i) => (i === 0 ? { ...m, state: 'broken' as const } : m)),
    };
    const found = planProblems(() => buildPlan(cluster(), broken));
    assert.match(found[0].message, /1 not ready/);
  });

  it('refuses pod or service CIDRs that overlap the machines’ subnets', () => {
    const found = planProblems(() =>
      buildPlan(
        cluster({
          endpoint: { address: '192.168.1.1', mode: 'external' },
          networking: { podCIDR: '10.0.0.0/16' },
        }),
        inventory(3, 1, 1),
      ),
    );
    assert.ok(
      found.some(
        (p) =>
          p.path === 'spec.networking.podCIDR' &&
          p.message.includes('overlaps the machines\' subnet "machines" 10.0.0.0/22'),
      ),
    );
  });

  it('assigns node addresses outside the gateway, DHCP range, VIP and MetalLB pools', () => {
    const c = cluster({
      networking: { metallb: { pools: [{ name: 'lb', addresses: ['10.0.0.11-10.0.0.12'] }] } },
      workers: [{ name: 'w', count: 3 }],
    });
    const p = buildPlan(c, inventory(3, 1, 2));
    const ips = p.nodes.map((n) => n.ip);
    assert.deepEqual(ips.slice(0, 4), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
    for (const bad of ['10.0.0.1', '10.0.0.10', '10.0.0.11', '10.0.0.12']) assert.ok(!ips.includes(bad), bad);
    assert.ok(p.nodes.every((n) => n.address.endsWith('/22') && n.gateway === '10.0.0.1'));
  });

  it('says which subnet ran out of addresses', () => {
    const inv = inventory(3, 1, 2);
    const tiny = { ...inv, subnets: [{ ...inv.subnets[0], cidr: '10.0.0.0/29', ranges: [] }] };
    const found = planProblems(() =>
      buildPlan(cluster({ endpoint: { address: '10.0.0.6' }, workers: [{ name: 'w', count: 3 }] }), tiny),
    );
    assert.ok(found.some((p) => p.message.startsWith('subnet "machines" 10.0.0.0/29 has no free address')));
  });
});
