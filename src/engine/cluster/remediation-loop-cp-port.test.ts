/**
 * The region's own control-plane port (control-plane-spare.ts), as the remediation loop takes
 * it by default (an artifact store given, no port): a simulated cluster of 3 control planes and
 * 2 workers created through the engine (real store, planner, renderer, deploy jobs; fake://
 * BMCs, the fake agent), a spare control machine in the dead node's rack. Every command the port
 * runs on a node goes through the store's agent tasks (agent-shell.ts), answered here by a
 * simulated node agent per machine: `node-exec` through a fake stacked etcd
 * (test/support/fake-etcd.ts), a staged file fetched from the artifact store, `bootstrap` by
 * recording the script and making the spare an etcd member with a Ready Node. The fenced node's
 * agent answers nothing. The real peers: test/node-agent.test.ts (the agent's tasks) and the HA
 * suite of test/testbed.test.ts (the member swap on real etcd).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { readyMachines } from '../../../test/support/cluster-seed.ts';
import { fakeEtcd } from '../../../test/support/fake-etcd.ts';
import type { NodeApi } from '../../../test/support/node-api.ts';
import { resetFakeBmcs } from '../../bmc/fake.ts';
import { caCertHash } from '../../cluster/pki/generate.ts';
import { PKI_FILES, type PkiMaterial } from '../../cluster/pki/types.ts';
import { AgentTask } from '../../core/agent-protocol.ts';
import type { Cluster } from '../../core/cluster.ts';
import type { ClusterConditions } from '../../core/cluster.ts';
import type { Machine } from '../../core/machine.ts';
import { FakeKube } from '../../kube/fake.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import { FakeAgent } from '../fake-agent.ts';
import type { Worker } from '../worker.ts';
import { RemediationLoop } from './remediation-loop.ts';
import {
  bmcOf,
  closeClusterStore,
  ladderToReplace,
  startNodesApi,
  startRemediationBed,
  stepsOf,
} from './testing.ts';

/** A node-exec script's words (`shellQuote`d or bare) back to argv. */
const unquote = (script: string): string[] =>
  (script.match(/(?:'[^']*'|\\'|[^\s'\\]+)+/g) ?? []).map((w) =>
    w.replace(/'([^']*)'/g, '$1').replace(/\\'/g, "'"),
  );

describe("the region's control-plane port in the remediation loop", () => {
  let store: SqlStore;
  let dir: string;
  let artifacts: string;
  let api: NodeApi;
  let worker: Worker;
  /** The jobs' agent (deploys, the scale's join token and joins). */
  let fakeAgent: FakeAgent;
  let cluster: Cluster;
  let cps: string[];
  let spare: Machine;
  let etcd: ReturnType<typeof fakeEtcd>;
  let caHash: string;
  /** The API's Nodes and their Ready status. */
  const nodes = new Map<string, 'True' | 'Unknown'>();
  /** Files the node agents fetched, by `host:path`. */
  const files = new Map<string, string>();
  /** The bootstraps the agents ran: host, role, script. */
  const bootstraps: { host: string; role: unknown; script: string }[] = [];
  /** The bootstrap token `kubeadm token create` prints on a control plane (one per run). */
  const token = `${randomBytes(3).toString('hex')}.${randomBytes(8).toString('hex')}`;
  /** What the control planes' `kubeadm token create --print-join-command` printed. */
  const tokenOutputs: string[] = [];
  /** The certificate keys control planes uploaded the certificates with. */
  const certKeys: string[] = [];
  /** How the spare's bootstrap ends: done, or failed with this reason. */
  let bootstrapFails: string | null = null;
  let agents = true;
  /** The control plane the first test replaces. */
  let dead = '';
  /** A ready control machine in z1/r1 (the control planes' rack), as the seeded ones. */
  const spareMachine = async () => (await readyMachines(store, 'control', 1))[0];

  /** One node agent's answer to a task (null: its machine is fenced, nothing answers). */
  async function answer(host: string, name: string, params: Record<string, unknown>) {
    if (!etcd.up.has(host) && host !== spare.hostname) return null;
    if (name === AgentTask.NodeExec) {
      if (typeof params.fetch === 'string')
        files.set(`${host}:${params.fetch}`, readFileSync(join(artifacts, String(params.artifact)), 'utf8'));
      const argv = unquote(String(params.script));
      let out = '';
      if (argv[0] === 'kubeadm' && argv[1] === 'init')
        certKeys.push(argv[argv.indexOf('--certificate-key') + 1]);
      if (argv[0] === 'kubeadm' && argv[1] === 'token') {
        out = `kubeadm join 10.0.0.100:6443 --token ${token} --discovery-token-ca-cert-hash ${caHash}\n`;
        tokenOutputs.push(Buffer.from(out).toString('base64'));
      } else if (argv[0] !== 'true' && argv[0] !== 'chmod') out = await etcd.shell.exec(host, argv);
      return { stdout: Buffer.from(out).toString('base64') };
    }
    if (name === AgentTask.Bootstrap) {
      bootstraps.push({ host, role: params.role, script: String(params.script) });
      if (bootstrapFails) throw new Error(bootstrapFails);
      etcd.members.push({ id: 'b1', name: host, started: true });
      etcd.up.add(host);
      nodes.set(host, 'True');
      return { phases: ['packages-installed', 'api-reachable', 'kubeadm-join-done', 'node-ready'] };
    }
    throw new Error(`unexpected task ${name}`);
  }

  /** The simulated node agents: each machine's next task from the store, answered. */
  async function runAgents(machines: () => Promise<Machine[]>) {
    while (agents) {
      for (const m of await machines()) {
        const t = await store.nextAgentTask(m.id);
        if (!t) continue;
        let result: unknown;
        try {
          result = await answer(m.hostname, t.name, t.params);
        } catch (e) {
          await store.updateAgentTask(t.id, { status: 'failed', reason: (e as Error).message });
          continue;
        }
        if (result !== null) await store.updateAgentTask(t.id, { status: 'done', result });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  before(async () => {
    // Once the cluster runs, the API's Node list is the Ready count the spare's scale job waits for.
    const kube = new (class extends FakeKube {
      override async conditions(k: string): Promise<ClusterConditions> {
        const c = await super.conditions(k);
        if (nodes.size === 0) return c; // the create's: the fake's own nodes
        const ready = [...nodes.values()].filter((s) => s === 'True').length;
        return { ...c, nodes: { ready, total: nodes.size } };
      }
    })();
    fakeAgent = new FakeAgent({ kube });
    ({ store, dir, cluster, worker } = await startRemediationBed({
      prefix: 'remediation-cp-port',
      name: 'cpport',
      net: '10.22',
      controlPlanes: 3,
      workers: 2,
      maxUnhealthy: '40%',
      kube,
      agent: fakeAgent,
    }));
    artifacts = join(dir, 'artifacts');
    spare = await spareMachine();
    const pkiSecret = (await store.listJobs({ clusterId: cluster.id }, 10)).find((j) => j.params.pkiSecret)!
      .params.pkiSecret as string;
    caHash = await caCertHash(
      (JSON.parse(await store.getSecret(pkiSecret)) as PkiMaterial).files[PKI_FILES.ca],
    );
    cps = cluster.members.filter((m) => m.role !== 'worker').map((m) => m.hostname);
    cps.sort();
    etcd = fakeEtcd(cps);
    for (const m of cluster.members) nodes.set(m.hostname, 'True');
    api = await startNodesApi(store, cluster.id, nodes);
    void runAgents(async () => [
      ...(await Promise.all(
        (await store.getCluster(cluster.id)).members.map((m) => store.getMachine(m.machineId)),
      )),
      await store.getMachine(spare.id),
    ]);
  });
  after(async () => {
    agents = false;
    await worker?.stop();
    api?.close();
    resetFakeBmcs();
    await closeClusterStore({ store, dir });
  });

  const loop = () =>
    new RemediationLoop({
      store,
      artifactsDir: artifacts,
      nodeTasks: { pickupMs: 500, pollMs: 10 },
      fenceTimeoutMs: 2000,
      readyTimeoutMs: 2000,
    });

  it('deploys the spare through a scale job, joins it as a control plane with the fresh credentials and swaps the etcd member', async () => {
    dead = cps.find((h) => cluster.members.find((m) => m.hostname === h)!.role === 'init')!;
    const deadId = cluster.members.find((m) => m.hostname === dead)!.machineId;
    nodes.set(dead, 'Unknown');
    etcd.up.delete(dead);
    const bmc = bmcOf(await store.getMachine(deadId));
    bmc.power = 'on';
    const r = await loop().passOn(cluster);
    assert.ok(r);
    const out = r.results[0];
    const timeline = await store.listEvents({ clusterId: cluster.id, limit: 2000 });
    const said = timeline.filter((e) => e.type === 'cluster.node.remediation').map((e) => e.message);
    assert.equal(out?.outcome, 'recovered', `${out?.reason}\n${said.join('\n')}`);
    assert.deepEqual(stepsOf(out), ladderToReplace(true));
    // The spare: a control-plane member, deployed by a scale job of the cluster (the create's
    // deploy step: its machine's deploy job with the node's rendered files), not joined by it.
    const c = await store.getCluster(cluster.id);
    const member = c.members.find((m) => m.machineId === spare.id);
    assert.equal(member?.role, 'control-plane');
    assert.equal(c.state, 'running');
    const jobs = await store.listJobs({ clusterId: cluster.id }, 20);
    const scale = jobs.find((j) => j.kind === 'cluster-scale');
    assert.equal(scale?.status, 'done', scale?.error ?? '');
    assert.deepEqual(scale.params.controlPlaneSpare, { hostname: spare.hostname, replaces: dead });
    const planned = (scale.params.plan as { nodes: { hostname: string; role: string; address: string }[] })
      .nodes;
    assert.deepEqual(
      planned.filter((n) => n.hostname === spare.hostname).map((n) => [n.role, n.address]),
      [['control-plane', member.address]],
    );
    assert.ok(!planned.some((n) => n.hostname === dead), 'the plan goes on without the dead node');
    const spareJobs = await store.listJobs({ machineId: spare.id }, 5);
    const deploy = spareJobs.find((j) => j.kind === 'deploy');
    assert.equal(deploy?.status, 'done', JSON.stringify(spareJobs.map((j) => [j.kind, j.status])));
    assert.equal((await store.getMachine(spare.id)).state, 'deployed');
    // What its deploy wrote: the cluster's CAs, a control-plane join config, and kube-vip (the
    // API's VIP, held by leader election among the control planes' kube-vip: the spare's
    // takes part once it runs, the fenced node's is off).
    const userData = await store.getSecret(String(deploy.params.userDataSecret));
    for (const path of [
      '/etc/kubernetes/pki/ca.key',
      '/etc/kubernetes/pki/etcd/ca.key',
      '/etc/kubernetes/manifests/kube-vip.yaml',
      '/etc/kubernetes/ingot/kubeadm.yaml',
    ])
      assert.ok(userData.includes(`path: ${path}`), path);
    assert.match(userData, /name: address\s+value: 10\.22\.0\.10/);
    assert.match(userData, /controlPlane:\s+localAPIEndpoint:/);
    assert.match(userData, new RegExp(`Rendered by Ingot for ${spare.hostname} \\(control-plane\\)`));
    // The scale job made a join token on a live control plane (not the dead init node) and did
    // not join the spare: that waits for the etcd member swap.
    const asked = fakeAgent.started.filter((t) => t.jobId === scale.id);
    assert.deepEqual(
      asked.map((t) => t.task),
      ['join-token'],
    );
    assert.notEqual(asked[0].machineId, deadId);
    // Joined by its node agent's bootstrap as a control plane, with the credentials made on a
    // healthy control plane: the token, the CA's hash and the certificate key it uploaded with.
    assert.deepEqual(
      bootstraps.map((b) => [b.host, b.role]),
      [[spare.hostname, 'control-plane']],
    );
    assert.match(bootstraps[0].script, /kubeadm join --config \/etc\/kubernetes\/ingot\/kubeadm\.yaml \|\|/);
    const cfg = files.get(`${spare.hostname}:/etc/kubernetes/ingot/kubeadm.yaml`);
    assert.ok(cfg, [...files.keys()].join(', '));
    const join = parseAllDocuments(cfg)
      .map((d) => d.toJS())
      .find((d) => d.kind === 'JoinConfiguration');
    assert.equal(join.discovery.bootstrapToken.token, token);
    assert.deepEqual(join.discovery.bootstrapToken.caCertHashes, [caHash]);
    assert.equal(certKeys.length, 1);
    assert.equal(join.controlPlane.certificateKey, certKeys[0]);
    assert.equal(join.controlPlane.localAPIEndpoint.advertiseAddress, member.address.split('/')[0]);
    assert.equal(join.nodeRegistration.name, spare.hostname);
    // The dead member out, the spare's in; the dead machine broken, out of the cluster.
    assert.deepEqual(
      etcd.members.map((m) => m.name).sort(),
      [...cps.filter((h) => h !== dead), spare.hostname].sort(),
    );
    assert.ok(!c.members.some((m) => m.hostname === dead));
    assert.equal((await store.getMachine(deadId)).state, 'broken');
    assert.equal(bmc.power, 'off');
    // On the timeline: the swap's steps, in order, after the spare's deploy.
    const at = (re: RegExp) => said.findIndex((m) => re.test(m));
    for (const [a, b] of [
      [/check-quorum: quorum kept/, /member-remove: .*removed through/],
      [/member-remove/, /join-credentials/],
      [/join-credentials/, /join: .*kubeadm join --control-plane done/],
      [/kubeadm join --control-plane done/, /member-healthy: .*b1 started and healthy/],
      [/member-healthy/, /node-ready: Node .* Ready/],
    ] as const)
      assert.ok(at(a) >= 0 && at(a) < at(b), `${a} before ${b}:\n${said.join('\n')}`);
    assert.ok(
      timeline.some((e) => e.type === 'cluster.node.deploy' && e.machineId === spare.id),
      'the deploy on the spare timeline',
    );
    assert.match(
      said.at(-1) ?? '',
      new RegExp(`${dead} replaced: .*${spare.hostname} joined as a control plane`),
    );
    // The join's credentials went through agent tasks (upload-certs' command, the token's
    // output) and the timeline: none of them is in the database in plaintext (every byte
    // SQLite wrote, its WAL included), though the engine read them back.
    const db = ['ingot.db', 'ingot.db-wal']
      .map((f) => {
        try {
          return readFileSync(`${dir}/${f}`).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
    assert.ok(db.includes(spare.id), 'the database holds the rows');
    assert.equal(tokenOutputs.length, 1);
    for (const [what, secret] of [
      ['certificate key', certKeys[0]],
      ['bootstrap token', token],
      ['token command output (base64)', tokenOutputs[0]],
    ])
      assert.ok(!db.includes(secret), `the ${what} is in the database in plaintext`);
    cluster = c;
  });

  it("fails the replace with the bootstrap's reason when kubeadm join fails on the spare, which stays allocated", async () => {
    const next = await spareMachine();
    spare = next;
    // An original control plane still in the cluster: its machine dies (2 of 3 members answer).
    const victim = cps.find((h) => h !== dead)!;
    nodes.set(victim, 'Unknown');
    etcd.up.delete(victim);
    bootstrapFails =
      'phase api-reachable: error execution phase control-plane-prepare/download-certs: error downloading certs: the Secret does not include the required certificate';
    const r = await loop().passOn(await store.getCluster(cluster.id));
    const out = r?.results[0];
    assert.ok(out, JSON.stringify(r?.plan));
    assert.equal(out.outcome, 'halted');
    assert.match(
      out.reason,
      new RegExp(
        `${next.hostname}: kubeadm join 10.0.0.100:6443 --control-plane: phase api-reachable: error execution phase control-plane-prepare/download-certs`,
      ),
    );
    assert.match(
      out.reason,
      new RegExp(`the spare ${next.hostname} \\(machine ${next.id}\\) stays allocated`),
    );
    assert.equal((await store.getMachine(next.id)).state, 'deployed');
    assert.ok((await store.getCluster(cluster.id)).members.some((m) => m.machineId === next.id));
  });
});
