/**
 * The region's remediation of control planes on a simulated cluster of 3 control planes and 2
 * workers, created through the engine (real store, planner and renderer, fake:// BMCs, the fake
 * agent), its Kubernetes API a loopback server answering the Node list, its stacked etcd a fake
 * behind a NodeShell (test/support/fake-etcd.ts), spare control machines in the same rack, the
 * same zone and another zone. A control plane NotReady with its etcd member gone is fenced,
 * not brought back by power-on (and fenced again), and replaced by the spare of its rack, its
 * etcd member swapped; a second one waits meanwhile with the reason on the timeline; with two
 * of three members gone the replace is refused as a restore case and the node stays fenced.
 * The real peer of the member swap: test/testbed.test.ts's HA suite (the step, driven by the
 * remediator).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fakeEtcd } from '../../../test/support/fake-etcd.ts';
import type { NodeApi } from '../../../test/support/node-api.ts';
import { resetFakeBmcs } from '../../bmc/fake.ts';
import type { Cluster } from '../../core/cluster.ts';
import type { Machine } from '../../core/machine.ts';
import { FakeKube } from '../../kube/fake.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import { machineInput } from '../../store/testing.ts';
import { RemediationLoop } from './remediation-loop.ts';
import {
  bmcOf as machineBmc,
  closeClusterStore,
  ladderToReplace,
  remediationEvents,
  startNodesApi,
  startRemediationBed,
  stepsOf,
} from './testing.ts';

describe('the region remediation loop on control planes', () => {
  let store: SqlStore;
  let dir: string;
  let api: NodeApi;
  let cluster: Cluster;
  let cps: string[];
  /** The spares: same rack (z1/r1), same zone (z1/r2), another zone (z9/r9). */
  let spares: { rack: Machine; zone: Machine; away: Machine };
  let etcd: ReturnType<typeof fakeEtcd>;
  /** The API's Nodes and their Ready status. */
  const nodes = new Map<string, 'True' | 'Unknown'>();
  const joins: string[] = [];

  before(async () => {
    const bed = await startRemediationBed({
      prefix: 'remediation-cp',
      name: 'cpheal',
      net: '10.21',
      controlPlanes: 3,
      workers: 2,
      maxUnhealthy: '40%',
      kube: new FakeKube(),
    });
    ({ store, dir, cluster } = bed);
    await bed.worker.stop();
    // The spares come after the create, so its placement never takes one.
    const spare = (zone: string, rack: string) =>
      store.createMachine(
        machineInput({ pool: 'control', zone, rack, state: 'ready', stateReason: 'test' }),
        'user:test',
      );
    spares = { rack: await spare('z1', 'r1'), zone: await spare('z1', 'r2'), away: await spare('z9', 'r9') };
    cps = cluster.members.filter((m) => m.role !== 'worker').map((m) => m.hostname);
    assert.equal(cps.length, 3);
    cps.sort();
    etcd = fakeEtcd(cps);
    for (const m of cluster.members) nodes.set(m.hostname, 'True');

    api = await startNodesApi(store, cluster.id, nodes);
  });
  after(async () => {
    api?.close();
    resetFakeBmcs();
    await closeClusterStore({ store, dir });
  });

  /** The loop with the control-plane port: the fake etcd's shell, a spare that joins on its first call (or fails to). */
  const loop = (o: { joinFails?: boolean } = {}) =>
    new RemediationLoop({
      store,
      fenceTimeoutMs: 2000,
      readyTimeoutMs: 300,
      controlPlane: () => ({
        shell: etcd.shell,
        spare: async (machine) => ({
          hostname: machine.hostname,
          address: `10.21.2.${50 + joins.length}`,
          join: async (j) => {
            joins.push(`${machine.hostname} ${j.endpoint}`);
            if (o.joinFails) throw new Error('kubeadm join: etcd cluster is not healthy');
            etcd.members.push({ id: 'b1', name: machine.hostname, started: true });
            etcd.up.add(machine.hostname);
            nodes.set(machine.hostname, 'True');
          },
        }),
      }),
    });
  const bmcOf = async (hostname: string) => {
    const c = await store.getCluster(cluster.id);
    const id = (c.members.find((m) => m.hostname === hostname) ??
      cluster.members.find((m) => m.hostname === hostname))!.machineId;
    return machineBmc(await store.getMachine(id));
  };
  const events = (node: string) => remediationEvents(store, cluster.id, node);

  it('replaces a dead control plane by the spare of its rack, fenced first, its etcd member swapped; a second one waits for it', async () => {
    const [dead, second] = cps;
    // dead's machine is gone (its etcd member with it); second's kubelet is dead, its etcd serves.
    nodes.set(dead, 'Unknown');
    nodes.set(second, 'Unknown');
    etcd.up.delete(dead);
    const deadId = cluster.members.find((m) => m.hostname === dead)!.machineId;
    const bmc = await bmcOf(dead);
    bmc.power = 'on';
    const seen = bmc.calls.length;
    const r = await loop().passOn(cluster);
    assert.ok(r);
    assert.equal(r.plan.halted, null);
    assert.deepEqual(
      r.plan.start.map((s) => s.node),
      [dead],
    );
    assert.deepEqual(
      r.plan.waiting.map((w) => w.node),
      [second],
    );
    assert.match(r.plan.waiting[0].reason, new RegExp(`^waiting: control plane ${dead} is being remediated`));
    const out = r.results[0];
    assert.deepEqual(stepsOf(out), ladderToReplace(true), JSON.stringify(out.done));
    assert.equal(out.outcome, 'recovered');
    assert.match(out.done[2].detail ?? '', /fenced again \(the BMC reports power Off\)/);
    // Fenced before anything, powered on once, fenced again; off at the end.
    const actions = bmc.calls.slice(seen).filter((c) => c !== 'power-state');
    assert.deepEqual(actions, ['power:force-off', 'power:on', 'power:force-off'], bmc.calls.join(', '));
    assert.equal(bmc.power, 'off');
    // The spare of dead's rack joined as a control plane in its etcd member's place.
    assert.deepEqual(joins, [`${spares.rack.hostname} 10.0.0.100:6443`]);
    assert.deepEqual(etcd.members.map((m) => m.name).sort(), [cps[1], cps[2], spares.rack.hostname].sort());
    const c = await store.getCluster(cluster.id);
    assert.ok(!c.members.some((m) => m.hostname === dead), 'the dead node left the members');
    assert.deepEqual(
      c.members.filter((m) => m.machineId === spares.rack.id).map((m) => [m.hostname, m.role]),
      [[spares.rack.hostname, 'control-plane']],
    );
    assert.equal((await store.getMachine(spares.rack.id)).state, 'allocated');
    assert.equal((await store.getMachine(deadId)).state, 'broken');
    assert.equal((await store.getMachine(spares.zone.id)).state, 'ready', 'only one spare taken');
    // The timeline: fence before the member swap; the swap's steps named; the second one's wait.
    const said = (await events(dead)).map((e) => e.message);
    const at = (re: RegExp) => said.findIndex((m) => re.test(m));
    assert.ok(at(/fence: done/) >= 0 && at(/fence: done/) < at(/check-quorum: quorum kept/), said.join('\n'));
    assert.ok(at(/member-remove: .*etcd member a0 removed through/) > at(/check-quorum: quorum kept/));
    assert.ok(at(/member-healthy: .*etcd member b1 started and healthy/) > at(/member-remove/));
    assert.match(
      said.at(-1) ?? '',
      new RegExp(`${dead} replaced: .*${spares.rack.hostname} joined as a control plane`),
    );
    const waited = (await events(second)).map((e) => [e.data.step, e.level, e.message]);
    assert.deepEqual(waited, [['plan', 'warning', `${second}: ${r.plan.waiting[0].reason}`]]);
    cluster = c;
  });

  it('refuses to replace a control plane when two of three etcd members are gone: a restore case, the node left fenced', async () => {
    const [second, third] = [cps[1], cps[2]];
    etcd.up.delete(second);
    etcd.up.delete(third);
    nodes.set(third, 'Unknown');
    const members = etcd.members.map((m) => m.name);
    etcd.ran.length = 0;
    const bmc = await bmcOf(second);
    bmc.power = 'on';
    const r = await loop().passOn(cluster);
    assert.ok(r);
    assert.deepEqual(
      r.plan.start.map((s) => s.node),
      [second],
    );
    assert.match(
      r.plan.waiting[0]?.reason ?? '',
      new RegExp(`waiting: control plane ${second} is being remediated`),
    );
    const out = r.results[0];
    assert.equal(out.outcome, 'halted');
    assert.deepEqual(stepsOf(out), ladderToReplace(false));
    assert.match(out.reason, /only 1 of 3 etcd members answer .*etcd has lost its quorum/);
    assert.match(out.reason, /a restore case, .*\(ingot cluster backup restore\)/);
    assert.match(out.reason, /it stays fenced \(powered off\)$/);
    assert.equal(bmc.power, 'off', 'left fenced');
    // Nothing changed: the members, the spare of its zone, the cluster.
    assert.deepEqual(
      etcd.members.map((m) => m.name),
      members,
    );
    assert.ok(!etcd.ran.some((l) => /member remove|kubeadm/.test(l)), etcd.ran.join('\n'));
    assert.equal((await store.getMachine(spares.zone.id)).state, 'ready');
    const c = await store.getCluster(cluster.id);
    assert.deepEqual(c.members.map((m) => m.hostname).sort(), cluster.members.map((m) => m.hostname).sort());
    const last = (await events(second)).at(-1)!;
    assert.equal(last.level, 'error');
    assert.match(last.message, /remediation halted: .*restore case/);
  });

  it('fails the replace of a control plane with the reason when the loop has no control-plane port (no artifact store), the node left fenced', async () => {
    const r = await new RemediationLoop({ store, fenceTimeoutMs: 2000, readyTimeoutMs: 300 }).passOn(cluster);
    const out = r?.results[0];
    assert.ok(out, JSON.stringify(r?.plan));
    assert.equal(out.outcome, 'halted');
    assert.deepEqual(out.done.at(-1)?.step, 'replace');
    assert.match(
      out.reason,
      /a control plane the region cannot replace: the region was started without an artifact store .* it stays fenced/,
    );
  });

  it('says the spare stays allocated to the cluster when its join fails after it was taken', async () => {
    const [, second, third] = cps;
    // second's kubelet registers again but stays NotReady, its etcd member gone; third and the
    // first spare answer: 2 of 3, a quorum.
    nodes.set(second, 'Unknown');
    etcd.up.add(third);
    const r = await loop({ joinFails: true }).passOn(await store.getCluster(cluster.id));
    const out = r?.results[0];
    assert.ok(out, JSON.stringify(r?.plan));
    assert.equal(out.node, second);
    assert.equal(out.outcome, 'halted');
    assert.match(
      out.reason,
      new RegExp(
        `etcd cluster is not healthy; the spare ${spares.zone.hostname} \\(machine ${spares.zone.id}\\) stays allocated to the cluster`,
      ),
    );
    assert.equal((await store.getMachine(spares.zone.id)).state, 'allocated');
    assert.ok((await store.getCluster(cluster.id)).members.some((m) => m.machineId === spares.zone.id));
  });
});
