/**
 * A region that holds a test bed's own cluster (the HA bed: `up` made it with kubeadm) as a
 * cluster it created, so the region's day-2 operations roll over the bed — shared by the HA
 * suite of test/testbed.test.ts and bench/day2-reconfigure.ts.
 *
 * The record is what a finished `cluster create` leaves: the bed's Cluster file (the one the
 * bed rendered its nodes from: src/lab/testbed/render.ts `bedCluster`), one ready machine per
 * node allocated as a member (node1 `init`, the other control planes, the workers), the create
 * job with the plan and the sealed PKI — the PKI the bed rendered with, kept in the bed's
 * directory — ended `done` with the cluster's move creating → running, and the admin kubeconfig
 * (the bed's, through its forward on loopback, so through its haproxy). The region's node shell
 * is the bed's (the operation's etcd snapshot) and its agent port the lab's shell agent
 * (src/lab/testbed/shell-agent.ts: the node agent's `bootstrap` script run inside the node).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildPlan } from '../../src/cluster/plan/plan.ts';
import { readPkiDir } from '../../src/cluster/pki/dir.ts';
import type { Cluster } from '../../src/core/cluster.ts';
import { type BedState, bedPkiDir } from '../../src/lab/testbed/bed.ts';
import { bedCluster, bedInventory } from '../../src/lab/testbed/render.ts';
import { BedShellAgent } from '../../src/lab/testbed/shell-agent.ts';
import { bedShell } from '../../src/lab/testbed/shell.ts';
import { bedLayout } from '../../src/lab/testbed/topology.ts';
import type { ApiAccess } from '../../src/lab/testbed/api.ts';
import type { NodeShell } from '../../src/kube/etcd/shell.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import { machineInput } from '../../src/store/testing.ts';
import type { ClusterLimits } from '../../src/engine/cluster/context.ts';
import { startTestRegion, type TestRegion } from './region.ts';
import { bedKubeConfig } from './testbed.ts';

/**
 * The bed's Cluster file as text: what the bed rendered its nodes from; with `apiServerArgs`,
 * those kube-apiserver flags in `spec.apiServer.extraArgs` (a reconfigure's changed file).
 */
export function bedRecordFile(bed: BedState, apiServerArgs: Record<string, string> = {}): string {
  const spec = bedCluster(bedLayout(bed.name, bed.topology));
  const extra = { ...(spec.spec.apiServer?.extraArgs ?? {}), ...apiServerArgs };
  return stringify({
    ...spec,
    spec: { ...spec.spec, apiServer: { ...spec.spec.apiServer, extraArgs: extra } },
  });
}

/** Records the bed as a running cluster the store's region created (see the file's comment). */
export async function recordBedCluster(
  store: Store,
  o: { root: string; bed: BedState; api: ApiAccess },
): Promise<Cluster> {
  const { bed } = o;
  const layout = bedLayout(bed.name, bed.topology);
  const spec = bedCluster(layout);
  const plan = buildPlan(spec, bedInventory(layout));
  // The plan the bed rendered with: the same nodes at the same addresses.
  assert.deepEqual(
    plan.nodes.map((n) => [n.hostname, n.ip]),
    bed.nodes.map((n) => [n.name, n.ip]),
    'the recomputed plan is the bed’s',
  );
  const pki = readPkiDir(bedPkiDir(o.root, bed.name));
  assert.ok(pki, `the bed kept its PKI in ${bedPkiDir(o.root, bed.name)}`);
  const pkiSecret = await store.putSecret('cluster-pki', JSON.stringify(pki));
  const members = [];
  for (const [i, n] of plan.nodes.entries()) {
    const m = await store.createMachine(
      machineInput({
        hostname: n.hostname,
        zone: n.zone,
        rack: n.rack,
        pool: n.role === 'control-plane' ? 'control' : 'general',
        state: 'ready',
        stateReason: 'test: a test bed node',
      }),
      'user:test',
    );
    members.push({
      machineId: m.id,
      hostname: n.hostname,
      role: n.init
        ? ('init' as const)
        : n.role === 'control-plane'
          ? ('control-plane' as const)
          : ('worker' as const),
      order: i,
      address: `${n.ip}/${layout.cidr.split('/')[1]}`,
    });
  }
  const { cluster, job } = await store.createCluster(
    {
      name: spec.metadata.name,
      clusterFile: bedRecordFile(bed),
      distribution: 'kubeadm',
      version: spec.spec.version,
      endpoint: `${bed.endpoint}:${spec.spec.endpoint.port}`,
      members,
      job: { kind: 'cluster-create', steps: [], params: { plan, pkiSecret } },
      reason: 'test: the bed, made by `ingot lab testbed up`',
    },
    'user:test',
  );
  // The create job's end, as the create workflow's last step writes it.
  const owner = `bed-record-${process.pid}`;
  const claimed = await store.claimJobs({ owner, leaseMs: 60_000, limit: 10 });
  assert.ok(
    claimed.some((j) => j.id === job.id),
    'the create job claimed',
  );
  assert.ok(
    await store.finishJob(job.id, owner, {
      status: 'done',
      error: null,
      steps: [],
      stepIndex: 0,
      cluster: { from: 'creating', to: 'running', reason: 'cluster-create finished (the bed)' },
      events: [],
    }),
  );
  await store.setClusterKubeconfig(cluster.id, bedKubeConfig(o.api).exportConfig());
  return store.getCluster(cluster.id);
}

export interface BedRegion {
  r: TestRegion;
  cluster: Cluster;
  agent: BedShellAgent;
}

/**
 * A test region on a fresh data dir holding the bed as its running cluster, its agent port the
 * bed's shell agent and its node shell the bed's. `stop()` the region when done.
 */
export async function startBedRegion(o: {
  root: string;
  bed: BedState;
  api: ApiAccess;
  clusterLimits?: Partial<ClusterLimits>;
}): Promise<BedRegion> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-bed-region-'));
  const store = await openStore({ dataDir });
  let cluster: Cluster;
  try {
    cluster = await recordBedCluster(store, o);
  } finally {
    await store.close();
  }
  const shell = bedShell(o.root, o.bed.name);
  const agent = new BedShellAgent(shell);
  const r = await startTestRegion({
    dataDir,
    agent,
    nodeShell: shell,
    ...(o.clusterLimits ? { clusterLimits: o.clusterLimits } : {}),
  });
  return { r, cluster, agent };
}

/** An operation as `GET …/operations` shows it (the fields the roll's checks read). */
export interface ShownOperation {
  id: string;
  state: string;
  reason: string;
  progress: {
    snapshot: { state: string; id?: string };
    nodes: {
      hostname: string;
      role: string;
      state: string;
      step: string | null;
      startedAt?: string;
      endedAt?: string;
    }[];
  };
}

/**
 * Starts a reconfigure to `file` as `ingot cluster reconfigure` does (POST …/reconfigure) and
 * waits for its end; the operation as it ended, when it was requested (epoch ms) and the seconds
 * from the request to its end.
 */
export async function reconfigureBed(
  br: BedRegion,
  file: string,
  timeoutMs = 15 * 60_000,
): Promise<{ op: ShownOperation; seconds: number; requestedAt: number }> {
  const t0 = Date.now();
  const name = br.cluster.name;
  const start = await br.r.api<ShownOperation>('POST', `/api/v1/clusters/${name}/reconfigure`, {
    cluster: file,
  });
  assert.equal(start.status, 202, JSON.stringify(start.body));
  let op = start.body;
  for (;;) {
    const list = await br.r.api<ShownOperation[]>('GET', `/api/v1/clusters/${name}/operations`);
    op = list.body.find((o) => o.id === start.body.id) ?? op;
    if (op.state !== 'running' && op.state !== 'paused') break;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`the reconfigure did not end within ${timeoutMs / 1000} s: ${JSON.stringify(op)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
  return { op, seconds: (Date.now() - t0) / 1000, requestedAt: t0 };
}

export interface ApiPoll {
  at: number;
  /** How long the answer took. */
  ms: number;
  ok: boolean;
  error?: string;
}

/**
 * Asks `ask` (a cheap API read) every second until `stop()`, which gives every answer and
 * failure; an answer slower than `timeoutMs` (default 10 s) counts as a failure.
 */
export function pollEverySecond(
  ask: () => Promise<unknown>,
  timeoutMs = 10_000,
): { stop(): Promise<ApiPoll[]> } {
  const polls: ApiPoll[] = [];
  let polling = true;
  const loop = (async () => {
    while (polling) {
      const at = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      await Promise.race([ask(), late]).then(
        () => polls.push({ at, ms: Date.now() - at, ok: true }),
        (e: Error) =>
          polls.push({ at, ms: Date.now() - at, ok: false, error: String(e?.message ?? e).slice(0, 200) }),
      );
      clearTimeout(timer);
      await new Promise((res) => setTimeout(res, Math.max(0, 1000 - (Date.now() - at))));
    }
  })();
  return {
    stop: async () => {
      polling = false;
      await loop;
      return polls;
    },
  };
}

/** The command line (space-separated) of the kube-apiserver running in `node`'s network namespace. */
export function runningApiServer(shell: NodeShell, node: string): Promise<string> {
  return shell.exec(node, [
    'sh',
    '-c',
    'me=$(readlink /proc/self/ns/net); for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = kube-apiserver ] && [ "$(readlink $d/ns/net)" = "$me" ] && tr "\\0" " " <$d/cmdline && exit 0; done; exit 1',
  ]);
}
