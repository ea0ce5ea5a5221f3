/**
 * Builders for the engine's cluster tests (never imported by production code): a store in a
 * temp dir seeded for `clusterYaml` (test/support/cluster-seed.ts), the job worker on a
 * simulated cluster (fake agent and Kubernetes), a cluster created through the engine and
 * running, and what the remediation tests read: Node objects, a loopback API over a map of
 * Nodes, the fake BMC of a machine, the remediation events of the timeline, a result's steps.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterYaml, readyMachines, seedClusterStore } from '../../../test/support/cluster-seed.ts';
import { type NodeApi, startNodeApi } from '../../../test/support/node-api.ts';
import { eventually } from '../../../test/support/region.ts';
import { fakeBmcState } from '../../bmc/fake.ts';
import type { Cluster } from '../../core/cluster.ts';
import type { Machine } from '../../core/machine.ts';
import type { FakeKube } from '../../kube/fake.ts';
import { openStore } from '../../store/open.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import type { AgentPort } from '../agent-port.ts';
import { FakeAgent } from '../fake-agent.ts';
import type { RetryPolicy } from '../job-run.ts';
import { POLL } from '../steps.ts';
import { Worker } from '../worker.ts';
import { createCluster } from './actions.ts';
import type { ClusterLimits } from './context.ts';

/** A store and the temp dir it lives in. */
export interface TestStore {
  store: SqlStore;
  dir: string;
}

/**
 * A SQLite store in a new temp dir (`ingot-<prefix>-…`), seeded with the node subnet of `net`
 * and the node image; the engine's agent polls every 10 ms.
 */
export async function openClusterStore(prefix: string, net: string): Promise<TestStore> {
  POLL.agentMs = 10;
  const dir = await mkdtemp(join(tmpdir(), `ingot-${prefix}-`));
  const store = await openStore({ dataDir: dir });
  await seedClusterStore(store, net);
  return { store, dir };
}

/** Closes the store (if it was opened) and removes its dir. */
export async function closeClusterStore(s: Partial<TestStore>): Promise<void> {
  await s.store?.close();
  if (s.dir) rmSync(s.dir, { recursive: true, force: true });
}

/** Retries that give up within a test's time: 5 ms, then at most 20 ms, 4 tries. */
export const QUICK_RETRY: RetryPolicy = { baseMs: 5, capMs: 20, maxAttempts: 4 };

/** The job worker on the simulated cluster `kube` (the fake agent unless `agent`), started. */
export function startWorker(
  store: SqlStore,
  kube: FakeKube,
  o: { agent?: AgentPort; owner?: string; retry?: RetryPolicy; limits?: Partial<ClusterLimits> } = {},
): Worker {
  const worker = new Worker({
    store,
    agent: o.agent ?? new FakeAgent({ kube }),
    owner: o.owner,
    pollMs: 10,
    leaseMs: 300,
    retry: o.retry,
    cluster: { kube, limits: { pollMs: 10, ...o.limits }, secrets: () => undefined },
  });
  worker.start();
  return worker;
}

/** The cluster once it is `want` or failed (a test asserts which), within `ms`. */
export function clusterSettled(store: SqlStore, id: string, want: string, ms = 30_000): Promise<Cluster> {
  return eventually(
    async () => {
      const c = await store.getCluster(id);
      return c.state === want || c.state.startsWith('failed_') ? c : null;
    },
    ms,
    `the cluster ${want}`,
  );
}

/** Creates the cluster of `clusterFile` through the engine and waits until it runs. */
export async function runCluster(store: SqlStore, clusterFile: string): Promise<Cluster> {
  const created = await createCluster(store, { clusterFile, actor: 'user:test' });
  return eventually(
    async () => {
      const c = await store.getCluster(created.cluster.id);
      return c.state === 'running' ? c : null;
    },
    30_000,
    'the cluster to run',
  );
}

/** What a remediation test starts from: a store and a cluster running on it. */
export interface RemediationBed extends TestStore {
  cluster: Cluster;
  /** The ready machines seeded for it: the control ones, then the general ones. */
  machines: Machine[];
  /** The worker that created it, still running, on `kube`. */
  worker: Worker;
}

/**
 * A store (`openClusterStore`) with `controlPlanes` ready control machines and `workers` general
 * ones, and cluster `name` of `clusterYaml` on `net` with that many control planes and workers
 * and `spec.remediation` enabled (unhealthy after 60 s, `maxUnhealthy`), created by a worker on
 * `kube` (with `agent`) and running. On failure the worker is stopped and the store removed.
 */
export async function startRemediationBed(o: {
  prefix: string;
  name: string;
  net: string;
  controlPlanes: number;
  workers: number;
  maxUnhealthy: string;
  kube: FakeKube;
  agent?: AgentPort;
}): Promise<RemediationBed> {
  const s = await openClusterStore(o.prefix, o.net);
  let worker: Worker | undefined;
  try {
    const machines = [
      ...(await readyMachines(s.store, 'control', o.controlPlanes)),
      ...(await readyMachines(s.store, 'general', o.workers)),
    ];
    worker = startWorker(s.store, o.kube, { agent: o.agent });
    const yaml = clusterYaml(o.name, { workers: o.workers, net: o.net }).replace(
      'count: 1',
      `count: ${o.controlPlanes}`,
    );
    const file = `${yaml}  remediation: { enabled: true, unhealthyAfterSeconds: 60, maxUnhealthy: "${o.maxUnhealthy}" }\n`;
    const cluster = await runCluster(s.store, file);
    return { ...s, cluster, machines, worker };
  } catch (e) {
    await worker?.stop();
    await closeClusterStore(s);
    throw e;
  }
}

const tenMinutesAgo = () => new Date(Date.now() - 600_000).toISOString();

/** A Node as the API answers it: its Ready condition `status` since ten minutes ago. */
export const nodeObject = (name: string, status: 'True' | 'Unknown' | undefined) => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: {},
  status: {
    conditions: [{ type: 'Ready', status, lastTransitionTime: tenMinutesAgo() }],
  },
});

/**
 * The cluster's loopback Kubernetes API (test/support/node-api.ts) answering the Nodes of
 * `nodes` with their Ready status; a DELETE takes the Node out of the map.
 */
export function startNodesApi(
  store: SqlStore,
  clusterId: string,
  nodes: Map<string, 'True' | 'Unknown'>,
): Promise<NodeApi> {
  return startNodeApi(store, clusterId, {
    names: () => [...nodes.keys()],
    node: (name) => nodeObject(name, nodes.get(name)),
    deleted: (n) => nodes.delete(n),
  });
}

/** The state of a fake:// machine's BMC (its power, the calls it took). */
export const bmcOf = (m: Pick<Machine, 'bmc'>) => fakeBmcState(m.bmc!.address.slice('fake://'.length));

/** The cluster's remediation events, oldest first (only those of `node` when given). */
export async function remediationEvents(store: SqlStore, clusterId: string, node?: string) {
  return (await store.listEvents({ clusterId, limit: 1000 })).filter(
    (e) => e.type === 'cluster.node.remediation' && (node === undefined || e.data.node === node),
  );
}

/** A remediation's steps as `[step, ok]`, in order. */
export const stepsOf = (r: { readonly done: readonly { step: string; ok: boolean }[] }) =>
  r.done.map((d) => [d.step, d.ok]);

/** Every rung up to a replace: fenced, Node deleted, power-on and reprovision failed, the replace `ok`. */
export const ladderToReplace = (ok: boolean) => [
  ['fence', true],
  ['delete-node', true],
  ['power-on', false],
  ['reprovision', false],
  ['replace', ok],
];
