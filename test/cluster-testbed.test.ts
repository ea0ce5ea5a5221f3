/**
 * `cluster create` on real Kubernetes 1.20.2: a region enrols the nodes of a prepared test bed
 * (containerd running, the bundle's binaries and images in place, no kubeadm yet) as machines
 * behind the virtual Redfish BMC, commissions them, and creates a 1 control plane + 1 worker
 * cluster from a Cluster file. Every member is deployed by its own deploy job — the BMC steps
 * switch the node, the OS write is the lab's seam (src/lab/testbed/deploy-agent.ts) — and the
 * real node agent, started by each node's boot with the seed and OS token the deploy wrote,
 * runs the region's rendered bootstrap: kubeadm init, then join, against `ingot rack` in the
 * bed's hub namespace. Conditions come from the real API (src/kube/client.ts) through the bed's
 * API forward. Then `ingot cluster kubeconfig` gives a kubeconfig that lists both nodes Ready,
 * and `cluster delete` releases them. The wiring is test/support/cluster-bed.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  bedClusterFile,
  type ClusterBed,
  newClusterBed,
  nodeTimeline,
  startClusterBed,
  stopClusterBed,
  type TimelineEvent,
} from './support/cluster-bed.ts';
import { NODE_IMAGE } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { skipUnless } from './support/needs.ts';
import { BED_NEEDS, bedName, reapStaleBeds, waitFor } from './support/testbed.ts';

const CLUSTER = 'bedc';

interface ClusterBody {
  state: string;
  stateReason: string;
  members: { hostname: string; address: string; role: string; machineId: string }[];
  conditions: { nodes?: { ready: number; total: number } | null } | null;
}

describe('cluster create on the test bed: a real 1+1 Kubernetes 1.20.2 from prepared nodes', {
  skip: skipUnless(BED_NEEDS),
  timeout: 30 * 60_000,
}, () => {
  // INGOT_BED_PREFIX: another prefix (1–3 letters) for a second checkout's concurrent run.
  const prefix = process.env.INGOT_BED_PREFIX ?? 'cc';
  const cb: ClusterBed = newClusterBed(bedName(prefix));
  const ids = cb.ids;

  before(async () => {
    await reapStaleBeds(prefix);
    await startClusterBed(cb);
    process.stderr.write(`prepared bed up: ${JSON.stringify(cb.prepareTimings)}\n`);
  });

  after(async () => {
    // A run that did not get as far as the delete keeps the cluster's timeline and the nodes'
    // logs (node agent, bootstrap, rack) in a directory it names, for a look; a good run keeps nothing.
    const c = await cb.r?.api<{ cluster: { state: string } }>('GET', `/api/v1/clusters/${CLUSTER}`);
    const keep =
      c && c.body.cluster?.state !== 'deleted' ? join(tmpdir(), `ingot-cc-logs-${process.pid}`) : undefined;
    if (keep) {
      const ev = await cb.r!.api('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`);
      mkdirSync(keep, { recursive: true });
      writeFileSync(join(keep, 'events.json'), JSON.stringify(ev.body, null, 1));
      process.stderr.write(`the cluster's timeline and the nodes' logs are in ${keep}\n`);
    }
    await stopClusterBed(cb, keep);
  });

  const cluster = async () =>
    (await cb.r!.api<{ cluster: ClusterBody }>('GET', `/api/v1/clusters/${CLUSTER}`)).body.cluster;

  it('`ingot cluster create -f FILE --wait` follows it to running: both nodes deployed, kubeadm init then join by the node agent, nodes Ready 2/2', async () => {
    const file = join(cb.root, 'cluster.yaml');
    writeFileSync(file, bedClusterFile(CLUSTER, cb.bed!));
    const run = await runIngot(
      ['cluster', 'create', '-f', file, '--image', NODE_IMAGE.name, '--wait', '--timeout', '1200'],
      { env: cb.r!.cliEnv },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
    assert.match(run.out, /^cluster bedc running: API reachable, nodes Ready 2\/2/m);
    // The step-by-step progress (on stderr) names each node's reported phases.
    assert.match(run.err, /node1: phase kubeadm-init-done/);
    assert.match(run.err, /node2: phase kubeadm-join-done/);
    const c = await cluster();
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(c.conditions?.nodes, { ready: 2, total: 2 });
    assert.deepEqual(
      c.members.map((m) => [m.hostname, m.address.split('/')[0]]).sort(),
      cb.bed!.nodes.map((n) => [n.name, n.ip]).sort(),
      'the plan gave each bed node its own address',
    );
  });

  it("puts each node's bootstrap phases, as its node agent reported them, on the cluster timeline", async () => {
    const res = await cb.r!.api<TimelineEvent[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`);
    assert.equal(res.status, 200);
    const phases = (machine: string) =>
      res.body
        .filter(
          (e) =>
            e.machineId === machine && e.type === 'agent.bootstrap.progress' && / phase /.test(e.message),
        )
        .map((e) => e.message.replace(/^node\d+: phase /, ''));
    const init = phases(ids.get('node1')!);
    const worker = phases(ids.get('node2')!);
    // Each phase once, in the order the bootstrap entered it.
    assert.deepEqual(init, [
      'packages-installed',
      'kubeadm-init-done',
      'kubelet-registered',
      'manifests-applied',
      'node-ready',
      'bootstrapped',
    ]);
    assert.deepEqual(worker, [
      'packages-installed',
      'api-reachable',
      'kubeadm-join-done',
      'kubelet-registered',
      'node-ready',
      'bootstrapped',
    ]);
    for (const n of ['node1', 'node2'])
      process.stderr.write(
        `timeline ${n}: ${nodeTimeline(res.body, ids.get(n)!)
          .map((t) => `${t.what} +${t.s.toFixed(1)}s`)
          .join(' | ')}\n`,
      );
  });

  it('`ingot cluster kubeconfig` gives a kubeconfig whose API lists both nodes Ready on v1.20.2', async () => {
    const run = await runIngot(['cluster', 'kubeconfig', CLUSTER, '-o', '-'], { env: cb.r!.cliEnv });
    assert.equal(run.code, 0, run.err);
    const kc = new KubeConfig();
    kc.loadFromString(cb.kube!.rewrite(run.out));
    const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items;
    assert.deepEqual(nodes.map((n) => n.metadata?.name).sort(), ['node1', 'node2']);
    for (const n of nodes) {
      assert.equal(n.status?.nodeInfo?.kubeletVersion, 'v1.20.2');
      assert.ok(
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        n.metadata?.name,
      );
    }
  });

  it("has the create's own join token on the control plane for 2 h; gone, the region's client re-creates it and it authenticates again", async () => {
    const store = cb.r!.region.store;
    const c = await store.getCluster(CLUSTER);
    const [create] = (await store.listJobs({ clusterId: c.id }, 50)).filter(
      (j) => j.kind === 'cluster-create',
    );
    const token = JSON.parse(await store.getSecret(String(create.params.joinTokenSecret)));
    const kubeconfig = (await store.clusterKubeconfig(c.id))!;
    const kc = new KubeConfig();
    kc.loadFromString(cb.kube!.rewrite(kubeconfig));
    const api = kc.makeApiClient(CoreV1Api);
    const name = `bootstrap-token-${token.token.split('.')[0]}`;
    const expiry = async () =>
      Date.parse(
        Buffer.from(
          (await api.readNamespacedSecret({ name, namespace: 'kube-system' })).data!.expiration,
          'base64',
        ).toString(),
      );
    // kubeadm init wrote it with the rendered ttl (2h0m0s), minutes ago.
    const left = (await expiry()) - Date.now();
    assert.ok(left > 100 * 60_000 && left <= 120 * 60_000, `${Math.round(left / 60_000)} min left`);
    // As the API server sees it: a valid bootstrap token is someone (403 for nodes), a gone one is nobody (401).
    const _server = kc.getCurrentCluster()!.server;
    const cluster = kc.getCurrentCluster()!;
    const asToken = () =>
      new Promise<number>((resolve, reject) =>
        httpsGet(
          `${cluster.server}/api/v1/nodes`,
          {
            headers: { authorization: `Bearer ${token.token}` },
            ca: cluster.caData ? Buffer.from(cluster.caData, 'base64') : undefined,
            rejectUnauthorized: !cluster.skipTLSVerify,
            // The forward's loopback address is not among the serving certificate's names.
            checkServerIdentity: () => undefined,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        ).on('error', reject),
      );
    assert.equal(await asToken(), 403);
    await api.deleteNamespacedSecret({ name, namespace: 'kube-system' });
    await waitFor(async () => (await asToken()) === 401, 30_000, 'the deleted token to stop authenticating');
    assert.equal(await cb.kube!.ensureBootstrapToken(kubeconfig, token), 'created');
    assert.ok((await expiry()) - Date.now() > 119 * 60_000, 'a fresh 2 h');
    await waitFor(async () => (await asToken()) === 403, 30_000, 'the re-created token to authenticate');
    assert.equal(await cb.kube!.ensureBootstrapToken(kubeconfig, token), 'valid');
  });

  it('deletes the cluster: the machines are released (wiped: no /etc/kubernetes left) and ready again', async () => {
    const res = await cb.r!.api('DELETE', `/api/v1/clusters/${CLUSTER}`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await waitFor(async () => (await cluster()).state === 'deleted', 10 * 60_000, 'the cluster deleted');
    for (const [node, id] of ids) {
      const m = (await cb.r!.api<{ state: string; owner: string }>('GET', `/api/v1/machines/${id}`)).body;
      assert.equal(m.state, 'ready', node);
      assert.equal(m.owner, '', node);
      assert.equal(existsSync(join(cb.root, cb.name, node, 'etc-up', 'kubernetes')), false, `${node} wiped`);
    }
  });

  it("fails a create whose node cannot bootstrap, with that node's own message", async () => {
    // A deliberately broken input: the nodes carry kubeadm v1.20.2, the Cluster file asks for
    // v1.20.6 (packages.source: preinstalled), so node1's rendered bootstrap refuses to start.
    const res = await cb.r!.api('POST', '/api/v1/clusters', {
      cluster: bedClusterFile('bedbad', cb.bed!, 'v1.20.6'),
      image: NODE_IMAGE.name,
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const get = async () =>
      (await cb.r!.api<{ cluster: ClusterBody }>('GET', '/api/v1/clusters/bedbad')).body.cluster;
    await waitFor(async () => (await get()).state === 'failed_creating', 5 * 60_000, 'the create failed');
    const c = await get();
    assert.match(c.stateReason, /^node1 failed to bootstrap: the init bootstrap script exited with status 1/);
    assert.match(c.stateReason, /this image needs kubeadm v1\.20\.6/);
  });
});
