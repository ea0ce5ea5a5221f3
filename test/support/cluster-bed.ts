/**
 * A region wired to a prepared test bed (docs/cluster.md "Proven on real Kubernetes"), shared by
 * test/cluster-testbed.test.ts and bench/cluster-testbed.ts: the bed's nodes stop before
 * kubeadm; `ingot rack` runs in the bed's hub namespace on the region's store; the region's
 * agent port is the lab's deploy seam for the bed's machines (everything but the OS write goes
 * to its own store-backed port); its Kubernetes port is the real client, reaching the bed's API
 * through the bed's forward on loopback. The nodes are enrolled behind the virtual Redfish BMC
 * and commissioned. `stopClusterBed` takes everything down, whatever got started.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/bmc/index.ts';
import type { AgentPort } from '../../src/engine/agent-port.ts';
import { AgentTasksPort } from '../../src/engine/agent-tasks-port.ts';
import { stopPid } from '../../src/host/process.ts';
import type { RegionOptions } from '../../src/api/region.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubePort } from '../../src/kube/port.ts';
import { startRackChild } from '../../src/lab/rack-child.ts';
import { type ApiAccess, apiAccess } from '../../src/lab/testbed/api.ts';
import { type BedState, up } from '../../src/lab/testbed/bed.ts';
import { BedDeployAgent } from '../../src/lab/testbed/deploy-agent.ts';
import { type BedBmc, bedBmc } from '../../src/lab/testbed/power.ts';
import { hostSysctls } from '../../src/lab/testbed/sysctls.ts';
import { NODE_IMAGE } from './cluster-seed.ts';
import { startTestRegion, type TestRegion } from './region.ts';
import { stopBed, waitFor } from './testbed.ts';

/**
 * The Cluster file: 1 control plane (pool control) + 1 worker (pool general) on the bed's
 * network, Kubernetes `version` (default the bundle's v1.20.2); `counts` for other sizes (the
 * 3+0 bed's 3 control planes with stacked etcd and no worker).
 */
export const bedClusterFile = (
  name: string,
  bed: BedState,
  version = 'v1.20.2',
  counts: { controlPlanes: number; workers: number } = { controlPlanes: 1, workers: 1 },
) => `apiVersion: ingot.dev/v1alpha1
kind: Cluster
metadata:
  name: ${name}
spec:
  distribution: kubeadm
  version: ${version}
  packages: { source: preinstalled }
  controlPlane:
    count: ${counts.controlPlanes}
    machines: { pool: control }
  placement: { tolerate: [] }
  workers:
    - name: general
      count: ${counts.workers}
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
    drainNode: (k, node, o) => real.drainNode(rewrite(k), node, o),
    uncordon: (k, node) => real.uncordon(rewrite(k), node),
    cordon: (k, node) => real.cordon(rewrite(k), node),
    isCordoned: (k, node) => real.isCordoned(rewrite(k), node),
    requests: (k) => real.requests(rewrite(k)),
    deleteNode: (k, node) => real.deleteNode(rewrite(k), node),
    ensureBootstrapToken: (k, t) => real.ensureBootstrapToken(rewrite(k), t),
    versions: (k) => real.versions(rewrite(k)),
    nodesHeard: (k) => real.nodesHeard(rewrite(k)),
  };
}

export interface ClusterBed {
  readonly name: string;
  root: string;
  bed?: BedState;
  api?: ApiAccess;
  bmc?: BedBmc;
  r?: TestRegion;
  rack?: ChildProcess;
  kube?: ReturnType<typeof forwardedKube>;
  /** Bed node name → machine id. */
  readonly ids: Map<string, string>;
  readonly sysctlsBefore: Record<string, string>;
  /** Seconds the prepared bed took to come up, by phase. */
  prepareTimings?: Record<string, number>;
}

/** Fills `cb` as it goes, so that `stopClusterBed(cb)` cleans up whatever a failure left. */
export async function startClusterBed(
  cb: ClusterBed,
  o: {
    topology?: '1+1' | '1+2' | '3+0';
    extra?: (cb: ClusterBed) => Partial<RegionOptions>;
    /**
     * The nodes resolve no name outside their hosts file: a lookup fails at once (nothing answers
     * on the node's 127.0.0.1:53) instead of timing out on the host's resolver, which the bed's
     * network cannot reach. kubeadm's preflight pulls CoreDNS, which the bundle lacks (ImagePull
     * is ignored, the pull still runs): that lookup took ~50 s of every kubeadm init and join.
     * The default; `false` leaves the host's resolv.conf in the nodes.
     */
    noDns?: boolean;
  } = {},
): Promise<void> {
  const creds = { username: 'admin', password: 'bed-bmc-pass' };
  cb.root = mkdtempSync(join(tmpdir(), 'ingot-cc-'));
  const bed = await up({ name: cb.name, topology: o.topology ?? '1+1', root: cb.root, prepared: true });
  cb.bed = bed;
  // Written through each node's own mount namespace: the overlay keeps it in the node's /etc
  // layer, across the power cycles of its deploys. The host's file (or link) is removed in the
  // node first, never followed: a link's target would be the host's.
  if (o.noDns ?? true)
    for (const n of bed.nodes) {
      const f = `/proc/${n.pid}/root/etc/resolv.conf`;
      rmSync(f, { force: true });
      writeFileSync(f, 'nameserver 127.0.0.1\n', { flag: 'wx' });
    }
  cb.prepareTimings = bed.timings;
  cb.api = await apiAccess(bed, cb.root);
  cb.kube = forwardedKube(bed, cb.api);
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-cc-region-'));
  let agent: AgentPort | undefined;
  const r = await startTestRegion({
    dataDir,
    agent: { task: (...a) => agent!.task(...a) },
    kube: cb.kube,
    clusterLimits: { pollMs: 1000 },
    ...o.extra?.(cb),
  });
  cb.r = r;
  const artifacts = join(dataDir, 'artifacts');
  mkdirSync(join(artifacts, 'ephemeral'), { recursive: true });
  for (const f of ['vmlinuz', 'initrd.img']) writeFileSync(join(artifacts, 'ephemeral', f), '');
  const hubIp = bed.endpoint.replace(/\.\d+$/, '.1');
  const started = await startRackChild(
    join(cb.root, cb.name),
    bed.hubNs,
    {
      dataDir,
      provisioningIp: hubIp,
      httpPort: 8081,
      artifactsDir: artifacts,
      // Two minutes, not the default 30 s: on a loaded 2-core machine (CI at concurrency 3)
      // the rack's Node start alone has taken longer.
    },
    120_000,
  );
  cb.rack = started.child;
  const store = () => r.region.store;
  agent = new BedDeployAgent({
    store,
    root: cb.root,
    bed: bed.name,
    rackUrl: `https://${hubIp}:8443`,
    rackCertPem: readFileSync(join(dataDir, 'tls', 'rack.crt'), 'utf8'),
    real: new AgentTasksPort(store),
  });
  cb.bmc = await bedBmc(bed, cb.root, creds);
  const subnet = await r.api('POST', '/api/v1/subnets', {
    name: 'bed',
    cidr: '10.78.0.0/24',
    gateway: hubIp,
  });
  assert.equal(subnet.status, 201);
  await r.region.store.createImage(NODE_IMAGE, 'user:test');
  for (const m of cb.bmc.machines) {
    // The bed's control planes (node1, or node1–node3 of the 3+0 bed) in pool control.
    const role = bed.nodes.find((n) => n.name === m.node)?.role;
    const res: { status: number; body: { id: string } } = await r.api('POST', '/api/v1/machines', {
      hostname: m.node,
      pool: role === 'control-plane' ? 'control' : 'general',
      zone: 'z1',
      rack: 'r1',
      bmc: { address: m.address, ...creds },
      nics: [{ mac: m.mac }],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    cb.ids.set(m.node, res.body.id);
    assert.equal((await r.api('POST', `/api/v1/machines/${res.body.id}/actions/commission`, {})).status, 202);
  }
  await waitFor(
    async () =>
      (await r.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total ===
      cb.bmc!.machines.length,
    120_000,
    'every bed node commissioned',
  );
}

/** Keeps the nodes' and the rack's logs in KEEP, then takes everything down and checks nothing is left. */
export async function stopClusterBed(cb: ClusterBed, keep?: string): Promise<void> {
  if (cb.bed && keep) {
    for (const n of cb.bed.nodes) {
      const d = join(cb.root, cb.name, n.name);
      mkdirSync(join(keep, n.name), { recursive: true });
      for (const f of [
        'node-agent.log',
        'phone-home.log',
        'init.log',
        'var-up/log/ingot-bootstrap.log',
        'var-up/log/kubelet.log',
        'containerd.log',
        '../rack.log',
      ])
        if (existsSync(join(d, f)))
          writeFileSync(join(keep, n.name, f.split('/').pop()!), readFileSync(join(d, f)));
    }
  }
  await stopPid(cb.rack?.pid, 5000);
  await cb.r?.stop();
  await cb.bmc?.emulator.close();
  await stopBed(cb.name, cb.root, cb.bed, cb.api, cb.sysctlsBefore);
  if (cb.r) rmSync(cb.r.dataDir, { recursive: true, force: true });
}

export const newClusterBed = (name: string): ClusterBed => ({
  name,
  root: '',
  ids: new Map(),
  sysctlsBefore: hostSysctls().values,
});

export interface TimelineEvent {
  type: string;
  message: string;
  machineId: string | null;
  at: string;
}

/** A cluster's whole timeline through the region's API, oldest first (pages of 1000). */
export async function clusterTimeline(
  cb: ClusterBed,
  cluster: string,
): Promise<(TimelineEvent & { id: number; data: { node: string; step: string } })[]> {
  const out: (TimelineEvent & { id: number; data: { node: string; step: string } })[] = [];
  for (;;) {
    const after = out.length ? `&after=${out.at(-1)!.id}` : '';
    const page = (
      await cb.r!.api<(TimelineEvent & { id: number; data: { node: string; step: string } })[]>(
        'GET',
        `/api/v1/clusters/${cluster}/events?limit=1000${after}`,
      )
    ).body;
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

/** Seconds after `cluster.created` of each node's reported phases (and deploy/bootstrap notes). */
export function nodeTimeline(
  events: readonly TimelineEvent[],
  machineId: string,
): { what: string; s: number }[] {
  const t0 = Date.parse(events.find((e) => e.type === 'cluster.created')?.at ?? '');
  return events
    .filter(
      (e) =>
        e.machineId === machineId &&
        ((e.type === 'agent.bootstrap.progress' && / phase /.test(e.message)) ||
          e.type.startsWith('cluster.node')),
    )
    .map((e) => ({ what: e.message.replace(/^node\d+: /, ''), s: (Date.parse(e.at) - t0) / 1000 }));
}
