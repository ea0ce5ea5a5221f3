/**
 * What the cluster tests share: a small kubeadm Cluster file (one control plane on pool
 * `control`, workers on `general`, one zone, no add-ons), the registered node image, a
 * region seeded with a subnet, the image and commissioned fake:// machines (three by default,
 * through the API), a cluster created and running, such a region started on a simulated
 * cluster, and the same seed written to a store directly for engine tests, with ready machines.
 */
import assert from 'node:assert/strict';
import type { Machine } from '../../src/core/machine.ts';
import type { SqlStore } from '../../src/store/sql-store.ts';
import type { NewImage } from '../../src/store/store.ts';
import { machineInput } from '../../src/store/testing.ts';
import type { FakeKube } from '../../src/kube/fake.ts';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from './region.ts';

/**
 * `net` is the first two octets of the node subnet (`10.20` → 10.20.0.0/22, API at .0.10). The
 * file ends inside `spec`: a suite adds spec fields by appending lines indented two spaces.
 */
export function clusterYaml(
  name: string,
  o: { workers?: number; net?: string; version?: string } = {},
): string {
  const net = o.net ?? '10.20';
  return `apiVersion: ingot.dev/v1alpha1
kind: Cluster
metadata:
  name: ${name}
spec:
  distribution: kubeadm
  version: ${o.version ?? 'v1.30.2'}
  controlPlane:
    count: 1
    machines: { pool: control }
  placement: { tolerate: [] }
  workers:
    - name: general
      count: ${o.workers ?? 2}
      machines: { pool: general }
  endpoint:
    address: ${net}.0.10
  storage: { provider: none }
  observability: { kubePrometheusStack: false, loki: false, nodeExporter: false, smartctlExporter: false, hardwareAlerts: false }
`;
}

/** The node subnet of `clusterYaml` for `net`. */
export function nodeSubnet(net: string) {
  return {
    name: 'nodes',
    cidr: `${net}.0.0/22`,
    gateway: `${net}.0.1`,
    ranges: [{ kind: 'dynamic' as const, start: `${net}.1.0`, end: `${net}.1.254` }],
  };
}

/** A ready OS image row (fake:// machines only pretend to write it). */
export const NODE_IMAGE: NewImage = {
  name: 'kubernetes-node',
  kind: 'os',
  format: 'raw',
  compression: 'none',
  source: 'test',
  path: 'images/kubernetes-node.raw',
  status: 'ready',
  sha256: 'b'.repeat(64),
  size: 1024,
};

/** The machines `clusterYaml` with two workers takes: hostname and pool. */
export const THREE_NODES: readonly (readonly [hostname: string, pool: string])[] = [
  ['cp-1', 'control'],
  ['w-1', 'general'],
  ['w-2', 'general'],
];

/**
 * The subnet, the image and `machines` (default cp-1 on control, w-1 and w-2 on general, all in
 * zone z1 and rack r1) commissioned to ready; hostname → id.
 */
export async function seedClusterRegion(
  r: TestRegion,
  net: string,
  machines: readonly (readonly [hostname: string, pool: string])[] = THREE_NODES,
): Promise<Map<string, string>> {
  assert.equal((await r.api('POST', '/api/v1/subnets', nodeSubnet(net))).status, 201);
  await r.region.store.createImage(NODE_IMAGE, 'user:test');
  const ids = new Map<string, string>();
  for (const [hostname, pool] of machines) {
    const m = await r.api<{ id: string }>(
      'POST',
      '/api/v1/machines',
      newMachineBody({ hostname, pool, zone: 'z1', rack: 'r1' }),
    );
    assert.equal(m.status, 201);
    ids.set(hostname, m.body.id);
    await r.api('POST', `/api/v1/machines/${m.body.id}/actions/commission`, {});
  }
  await eventually(
    async () =>
      (await r.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total ===
      machines.length,
    15_000,
    `${machines.length} ready machines`,
  );
  return ids;
}

/** Creates the cluster of `yaml` (202) and waits until `name` runs; the cluster's id. */
export async function createRunningCluster(
  r: TestRegion,
  name: string,
  yaml: string,
  ms = 60_000,
): Promise<string> {
  const created = await r.api('POST', '/api/v1/clusters', { cluster: yaml });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const c = await eventually(
    async () => {
      const g = await r.api<{ cluster: { id: string; state: string } }>('GET', `/api/v1/clusters/${name}`);
      return g.body.cluster.state === 'running' ? g.body.cluster : null;
    },
    ms,
    `cluster ${name} running`,
  );
  return c.id;
}

/**
 * A test region on a simulated cluster whose Kubernetes API is `kube`, seeded (cp-1, w-1, w-2)
 * and running cluster `name` of `clusterYaml` on `net`; with a viewer token.
 */
export async function startRunningClusterRegion(
  name: string,
  net: string,
  kube: FakeKube,
): Promise<{ r: TestRegion; viewer: string }> {
  const r = await startTestRegion({ clusterLimits: { pollMs: 20 }, simulatedKube: kube });
  try {
    const viewer = (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' }))
      .body.secret;
    await seedClusterRegion(r, net);
    await createRunningCluster(r, name, clusterYaml(name, { net }), 30_000);
    return { r, viewer };
  } catch (e) {
    await r.stop();
    throw e;
  }
}

/** A store seeded for an engine-level cluster test: the node subnet of `net` and the node image. */
export async function seedClusterStore(store: SqlStore, net: string): Promise<void> {
  await store.createSubnet(
    { ...nodeSubnet(net), dns: [], vlan: null, dhcpMode: 'full', autoEnlist: false },
    'user:test',
  );
  await store.createImage(NODE_IMAGE, 'user:test');
}

/** Ready machines with the hardware a commission would have recorded. */
export async function readyMachines(store: SqlStore, pool: string, n: number): Promise<Machine[]> {
  const out: Machine[] = [];
  for (let i = 0; i < n; i++) {
    const m = await store.createMachine(
      machineInput({ pool, state: 'ready', stateReason: 'test' }),
      'user:test',
    );
    out.push(
      await store.updateMachine(
        m.id,
        { disks: [{ name: 'sda', sizeBytes: 480e9 }], cpu: { cores: 8 }, memoryBytes: 32 * 2 ** 30 },
        'user:test',
      ),
    );
  }
  return out;
}
