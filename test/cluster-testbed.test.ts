/**
 * `cluster create` on real Kubernetes 1.20.2: a region enrols the nodes of a prepared test bed
 * (containerd running, the bundle's binaries and images in place, no kubeadm yet) as machines
 * behind the virtual Redfish BMC, commissions them, and creates a 1 control plane + 1 worker
 * cluster from a Cluster file. Every member is deployed by its own deploy job — the BMC steps
 * switch the node, the OS write is the lab's seam (src/lab/testbed/deploy-agent.ts) — and the
 * real node agent, started by each node's boot with the seed and OS token the deploy wrote,
 * runs the region's rendered bootstrap: kubeadm init, then join, against `ingot rack` in the
 * bed's hub namespace. Conditions come from the real API (src/kube/client.ts) through the bed's
 * API forward. Then the kubeconfig lists both nodes Ready, and `cluster delete` releases them.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import '../src/bmc/index.ts';
import { AgentTasksPort } from '../src/engine/agent-tasks-port.ts';
import type { AgentPort } from '../src/engine/agent-port.ts';
import { KubeClient } from '../src/kube/client.ts';
import type { KubePort } from '../src/kube/port.ts';
import { startRackChild } from '../src/lab/rack-child.ts';
import { type ApiAccess, apiAccess } from '../src/lab/testbed/api.ts';
import { type BedState, up } from '../src/lab/testbed/bed.ts';
import { BedDeployAgent } from '../src/lab/testbed/deploy-agent.ts';
import { type BedBmc, bedBmc } from '../src/lab/testbed/power.ts';
import { saveSysctls } from '../src/lab/testbed/sysctls.ts';
import { stopPid } from '../src/host/process.ts';
import { skipUnless } from './support/needs.ts';
import { startTestRegion, type TestRegion } from './support/region.ts';
import { NODE_IMAGE } from './support/cluster-seed.ts';
import { BED_NEEDS, bedName, reapStaleBeds, stopBed, waitFor } from './support/testbed.ts';

const CLUSTER = 'bedc';
const clusterFile = (bed: BedState) => `apiVersion: ingot.dev/v1alpha1
kind: Cluster
metadata:
  name: ${CLUSTER}
spec:
  distribution: kubeadm
  version: v1.20.2
  packages: { source: preinstalled }
  controlPlane:
    count: 1
    machines: { pool: control }
  placement: { tolerate: [] }
  workers:
    - name: general
      count: 1
      machines: { pool: general }
  endpoint:
    address: ${bed.endpoint}
    mode: external
    certSANs: ['127.0.0.1']
    externalLoadBalancer: { render: true, hosts: [lb1, lb2] }
  networking: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, cni: { plugin: calico } }
  security: { cis: false, firewall: { enabled: false } }
  storage: { provider: none }
  observability: { kubePrometheusStack: false, loki: false, nodeExporter: false, smartctlExporter: false, hardwareAlerts: false }
`;

/** The real client, with the bed's API endpoint reached through its forward on loopback. */
function forwardedKube(bed: BedState, api: ApiAccess): KubePort & { rewrite(k: string): string } {
  const real = new KubeClient();
  const rewrite = (k: string) => k.split(`https://${bed.endpoint}:6443`).join(api.server);
  return {
    rewrite,
    conditions: (k) => real.conditions(rewrite(k)),
    drain: (k, nodes) => real.drain(rewrite(k), nodes),
  };
}

interface ClusterBody {
  state: string;
  stateReason: string;
  members: { hostname: string; address: string; role: string; machineId: string; state?: string }[];
  conditions: { nodes?: { ready: number; total: number } | null } | null;
}

describe('cluster create on the test bed: a real 1+1 Kubernetes 1.20.2 from prepared nodes', {
  skip: skipUnless(BED_NEEDS),
  timeout: 30 * 60_000,
}, () => {
  const name = bedName('cc');
  const sysctlsBefore = saveSysctls();
  let root = '';
  let bed: BedState | undefined;
  let api: ApiAccess | undefined;
  let bmc: BedBmc | undefined;
  let r: TestRegion | undefined;
  let rack: ChildProcess | undefined;
  let kube: ReturnType<typeof forwardedKube>;
  const ids = new Map<string, string>();
  const creds = { username: 'admin', password: 'bed-bmc-pass' };
  const _t0 = Date.now();
  const marks: Record<string, number> = {};

  before(async () => {
    await reapStaleBeds('cc');
    root = mkdtempSync(join(tmpdir(), 'ingot-cc-'));
    bed = await up({
      name,
      topology: '1+1',
      root,
      prepared: true,
      say: (l) => process.stderr.write(`bed: ${l}\n`),
    });
    process.stderr.write(`prepared bed up: ${JSON.stringify(bed.timings)}\n`);
    api = await apiAccess(bed, root);
    kube = forwardedKube(bed, api);
    const dataDir = mkdtempSync(join(tmpdir(), 'ingot-cc-region-'));
    let agent: AgentPort | undefined;
    r = await startTestRegion({
      dataDir,
      agent: { task: (...a) => agent!.task(...a) },
      kube,
      clusterLimits: { pollMs: 1000 },
    });
    const artifacts = join(dataDir, 'artifacts');
    mkdirSync(join(artifacts, 'ephemeral'), { recursive: true });
    for (const f of ['vmlinuz', 'initrd.img']) writeFileSync(join(artifacts, 'ephemeral', f), '');
    const started = await startRackChild(join(root, name), bed.hubNs, {
      dataDir,
      provisioningIp: bed.endpoint.replace(/\.\d+$/, '.1'),
      httpPort: 8081,
      artifactsDir: artifacts,
    });
    rack = started.child;
    const store = () => r!.region.store;
    agent = new BedDeployAgent({
      store,
      root,
      bed: bed.name,
      rackUrl: `https://${bed.endpoint.replace(/\.\d+$/, '.1')}:8443`,
      rackCertPem: readFileSync(join(dataDir, 'tls', 'rack.crt'), 'utf8'),
      real: new AgentTasksPort(store),
    });
    bmc = await bedBmc(bed, root, creds);
    assert.equal(
      (await r.api('POST', '/api/v1/subnets', { name: 'bed', cidr: '10.78.0.0/24', gateway: '10.78.0.1' }))
        .status,
      201,
    );
    await r.region.store.createImage(NODE_IMAGE, 'user:test');
    for (const [i, m] of bmc.machines.entries()) {
      const res: { status: number; body: { id: string } } = await r.api('POST', '/api/v1/machines', {
        hostname: m.node,
        pool: i === 0 ? 'control' : 'general',
        zone: 'z1',
        rack: 'r1',
        bmc: { address: m.address, ...creds },
        nics: [{ mac: m.mac }],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids.set(m.node, res.body.id);
      assert.equal(
        (await r.api('POST', `/api/v1/machines/${res.body.id}/actions/commission`, {})).status,
        202,
      );
    }
    await waitFor(
      async () =>
        (await r!.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total === 2,
      120_000,
      'both bed nodes commissioned',
    );
  });

  after(async () => {
    if (r) {
      const ev = await r.api<{ items: { type: string; message: string }[] }>(
        'GET',
        `/api/v1/clusters/${CLUSTER}/events?limit=500`,
      );
      if (ev.status === 200)
        writeFileSync(
          join(tmpdir(), `ingot-cc-events-${process.pid}.json`),
          JSON.stringify(ev.body, null, 1),
        );
    }
    // The nodes' logs (node agent, kubelet, containerd, bootstrap) outlive the bed, for a look.
    if (bed) {
      const keep = join(tmpdir(), `ingot-cc-logs-${process.pid}`);
      for (const n of bed.nodes) {
        const d = join(root, name, n.name);
        mkdirSync(join(keep, n.name), { recursive: true });
        for (const f of [
          'node-agent.log',
          'phone-home.log',
          'init.log',
          'var-up/log/ingot-bootstrap.log',
          '../rack.log',
        ])
          if (existsSync(join(d, f)))
            writeFileSync(join(keep, n.name, f.split('/').pop()!), readFileSync(join(d, f)));
      }
    }
    await stopPid(rack?.pid, 5000);
    await r?.stop();
    await bmc?.emulator.close();
    await stopBed(name, root, bed, api, sysctlsBefore);
    if (r) rmSync(r.dataDir, { recursive: true, force: true });
  });

  const cluster = async () =>
    (await r!.api<{ cluster: ClusterBody }>('GET', `/api/v1/clusters/${CLUSTER}`)).body.cluster;

  it('creates the cluster: both nodes deployed, kubeadm init then join by the node agent, running with nodes Ready 2/2', async () => {
    const res = await r!.api('POST', '/api/v1/clusters', {
      cluster: clusterFile(bed!),
      image: NODE_IMAGE.name,
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const start = Date.now();
    let c = await cluster();
    assert.deepEqual(
      c.members.map((m) => [m.hostname, m.address.split('/')[0]]).sort(),
      bed!.nodes.map((n) => [n.name, n.ip]).sort(),
      'the plan gives each bed node its own address',
    );
    let last = '';
    while (!['running', 'failed_creating'].includes(c.state) && Date.now() - start < 20 * 60_000) {
      await new Promise((res) => setTimeout(res, 2000));
      c = await cluster();
      if (c.stateReason !== last) {
        last = c.stateReason;
        process.stderr.write(`cluster: ${c.state} ${last}\n`);
      }
    }
    marks.ready = (Date.now() - start) / 1000;
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(c.conditions?.nodes, { ready: 2, total: 2 });
  });

  it("puts each node's bootstrap phases, as its node agent reported them, on the cluster timeline", async () => {
    const res = await r!.api<{ type: string; message: string; machineId: string | null; at: string }[]>(
      'GET',
      `/api/v1/clusters/${CLUSTER}/events?limit=1000`,
    );
    assert.equal(res.status, 200);
    const ev = { body: { items: res.body } };
    const phases = (machine: string) =>
      ev.body.items
        .filter((e) => e.machineId === machine && e.message.startsWith('phase '))
        .map((e) => e.message.slice('phase '.length));
    const init = phases(ids.get('node1')!);
    const worker = phases(ids.get('node2')!);
    for (const p of [
      'packages-installed',
      'kubeadm-init-done',
      'kubelet-registered',
      'node-ready',
      'bootstrapped',
    ])
      assert.ok(init.includes(p), `node1 reported ${p}: ${init}`);
    for (const p of [
      'packages-installed',
      'api-reachable',
      'kubeadm-join-done',
      'kubelet-registered',
      'node-ready',
    ])
      assert.ok(worker.includes(p), `node2 reported ${p}: ${worker}`);
    // Per phase, seconds since the create, for docs/bench-cluster.md.
    const at0 = Date.parse(ev.body.items.find((e) => e.type === 'cluster.created')?.at ?? '');
    const line = (m: string) =>
      ev.body.items
        .filter(
          (e) => e.machineId === m && (e.message.startsWith('phase ') || e.type.startsWith('cluster.node')),
        )
        .map(
          (e) => `${e.message.replace(/^node\d: /, '')} +${((Date.parse(e.at) - at0) / 1000).toFixed(1)}s`,
        );
    process.stderr.write(
      `timeline node1: ${line(ids.get('node1')!).join(' | ')}\ntimeline node2: ${line(ids.get('node2')!).join(' | ')}\n`,
    );
  });

  it('hands back a kubeconfig whose API lists both nodes Ready on v1.20.2', async () => {
    const res = await r!.api<{ kubeconfig: string }>('GET', `/api/v1/clusters/${CLUSTER}/kubeconfig`);
    assert.equal(res.status, 200);
    const kc = new KubeConfig();
    kc.loadFromString(kube.rewrite(res.body.kubeconfig));
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

  it('deletes the cluster: the machines are released (wiped: no /etc/kubernetes left) and ready again', async () => {
    const res = await r!.api('DELETE', `/api/v1/clusters/${CLUSTER}`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await waitFor(async () => (await cluster()).state === 'deleted', 10 * 60_000, 'the cluster deleted');
    for (const [node, id] of ids) {
      const m = (await r!.api<{ state: string; owner: string }>('GET', `/api/v1/machines/${id}`)).body;
      assert.equal(m.state, 'ready', node);
      assert.equal(m.owner, '', node);
      assert.equal(existsSync(join(root, name, node, 'etc-up', 'kubernetes')), false, `${node} wiped`);
    }
  });
});
