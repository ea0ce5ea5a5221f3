/**
 * The shape of a single-node, offline lab cluster (examples/lab-cluster.yaml): the bridge CNI
 * as a node file and no chart, untainted control planes when there are no workers, kubeadm's
 * ImagePull preflight ignored with a bundle. Run on a real VM by test/lab-cluster.test.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { buildPlan } from '../plan/plan.ts';
import { generatePki } from '../pki/generate.ts';
import type { PkiMaterial } from '../pki/types.ts';
import { validateCluster } from '../spec/parse.ts';
import { cluster, inventory } from '../testing.ts';
import type { Artifact } from './context.ts';
import { BRIDGE_CNI_CONFIG } from './host.ts';
import { renderArtifacts } from './index.ts';

let pki: PkiMaterial;

async function render(spec: Record<string, unknown>): Promise<Artifact[]> {
  const c = cluster({ version: 'v1.20.2', ...spec });
  return renderArtifacts(c, buildPlan(c, inventory(3, 1, 2)), pki, new Map());
}

function files(a: readonly Artifact[], host: string): Map<string, string> {
  const ud = a.find((x) => x.path === `nodes/${host}/user-data`);
  assert.ok(ud, `no user-data for ${host}`);
  const w = (parse(ud.content, { version: '1.1' }) as { write_files: { path: string; content: string }[] })
    .write_files;
  return new Map(w.map((f) => [f.path, f.content]));
}

const kubeadm = (a: readonly Artifact[], host: string) =>
  parseAllDocuments(files(a, host).get('/etc/kubernetes/ingot/kubeadm.yaml')!).map(
    (d) =>
      d.toJS() as {
        kind: string;
        nodeRegistration?: { taints: unknown[]; ignorePreflightErrors?: string[] };
      },
  )[0];

const manifests = (a: readonly Artifact[]) =>
  a.filter((x) => x.path.startsWith('manifests/')).map((x) => x.path);

const lab = {
  packages: { source: 'bundle' },
  controlPlane: { count: 1 },
  placement: { tolerate: [] },
  networking: { cni: { plugin: 'bridge' } },
  security: { cis: false, firewall: { enabled: false } },
  storage: { provider: 'none' },
  observability: {
    kubePrometheusStack: false,
    loki: false,
    nodeExporter: false,
    smartctlExporter: false,
    hardwareAlerts: false,
  },
};

describe('render: a single-node offline lab cluster', () => {
  before(async () => {
    pki = await generatePki('system:masters', new Date('2026-11-22T00:00:00Z'));
  });

  it('writes the bridge CNI config with each node’s own /24 of the pod CIDR, and no chart', async () => {
    const a = await render({ ...lab, workers: [{ name: 'w', count: 1 }] });
    const cfgs = ['z1r1-1', 'z1r1-2'].map(
      (h) =>
        JSON.parse(files(a, h).get(BRIDGE_CNI_CONFIG)!) as {
          plugins: { type: string; ipam?: { ranges: { subnet: string }[][] } }[];
        },
    );
    assert.deepEqual(
      cfgs.map((c) => c.plugins.map((p) => p.type)),
      [
        ['bridge', 'portmap'],
        ['bridge', 'portmap'],
      ],
    );
    const subnets = cfgs.map((c) => c.plugins[0].ipam!.ranges[0][0].subnet);
    assert.equal(new Set(subnets).size, 2, `distinct pod subnets per node: ${subnets.join(', ')}`);
    for (const s of subnets) assert.match(s, /^10\.244\.\d+\.0\/24$/);
    // No HelmChart anywhere, so no helm-controller either (its image cannot be pulled offline).
    const m = manifests(a);
    assert.ok(!m.some((p) => /helm-controller|cni/.test(p)), m.join(', '));
    for (const x of a.filter((y) => y.path.startsWith('manifests/')))
      assert.doesNotMatch(x.content, /kind: HelmChart/);
  });

  it('keeps helm-controller and the CNI chart with calico', async () => {
    const a = await render({ ...lab, networking: { cni: { plugin: 'calico' } } });
    const m = manifests(a);
    assert.ok(
      m.some((p) => p.endsWith('helm-controller.yaml')) && m.some((p) => p.endsWith('cni.yaml')),
      m.join(', '),
    );
    assert.equal(files(a, 'z1r1-1').has(BRIDGE_CNI_CONFIG), false);
  });

  it('leaves control planes untainted without workers, tainted with workers', async () => {
    const alone = kubeadm(await render(lab), 'z1r1-1');
    assert.equal(alone.kind, 'InitConfiguration');
    assert.deepEqual(alone.nodeRegistration?.taints, []);
    const withWorkers = kubeadm(await render({ ...lab, workers: [{ name: 'w', count: 1 }] }), 'z1r1-1');
    assert.deepEqual(withWorkers.nodeRegistration?.taints, [
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
    ]);
  });

  it('ignores the ImagePull preflight check only when packages come from a bundle', async () => {
    assert.deepEqual(kubeadm(await render(lab), 'z1r1-1').nodeRegistration?.ignorePreflightErrors, [
      'ImagePull',
    ]);
    const pre = kubeadm(await render({ ...lab, packages: { source: 'preinstalled' } }), 'z1r1-1');
    assert.equal(pre.nodeRegistration?.ignorePreflightErrors, undefined);
  });

  it('refuses the bridge CNI on k3s, naming the field', () => {
    assert.throws(
      () =>
        validateCluster({
          apiVersion: 'ingot.dev/v1alpha1',
          kind: 'Cluster',
          metadata: { name: 'x' },
          spec: {
            distribution: 'k3s',
            endpoint: { address: '10.0.0.10' },
            networking: { cni: { plugin: 'bridge' } },
          },
        }),
      /spec\.networking\.cni\.plugin: bridge is for kubeadm clusters/,
    );
  });
});
