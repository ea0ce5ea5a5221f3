import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildPlan } from '../plan/plan.ts';
import type { Plan, PlannedNode } from '../plan/types.ts';
import { generatePki } from '../pki/generate.ts';
import type { PkiMaterial } from '../pki/types.ts';
import { cluster, inventory } from '../testing.ts';
import { clusterManifests } from './addons/index.ts';
import { userData } from './cloud-init.ts';
import { nodeLabelsArg, type RenderContext } from './context.ts';
import { nodeFiles, sharedFiles } from './node-files.ts';
import { asIsWord, nodeTemplates, nodeUserData, templateNode } from './node-template.ts';
import { isTemplateWord, yamlTemplates } from './yaml-template.ts';
import { scalarYaml, TOKEN } from './yaml-tokens.ts';

let pki: PkiMaterial;

function context(spec: Record<string, unknown>, plan: (c: ReturnType<typeof cluster>) => Plan) {
  const c = cluster(spec);
  const p = plan(c);
  const make = (bootstrapBy: RenderContext['bootstrapBy']): RenderContext => ({
    spec: c,
    plan: p,
    pki,
    secrets: new Map(),
    caHash: 'sha256:0123',
    minor: Number(c.spec.version.split('.')[1]),
    bootstrapBy,
    joinToken: { token: 'abcdef.0123456789abcdef', ttlSeconds: 3600 },
    yaml: yamlTemplates(),
  });
  return { plan: p, make };
}

/** Every node's user-data through its class's template and node by node, each with its own render's templates. */
function both(ctx: RenderContext, ref: RenderContext): [string[], string[]] {
  const shared = sharedFiles(ctx, clusterManifests(ctx));
  const refShared = sharedFiles(ref, clusterManifests(ref));
  return [
    ctx.plan.nodes.map((n) => nodeUserData(ctx, n, shared)),
    ref.plan.nodes.map((n) => userData(ref, n, nodeFiles(ref, n, refShared))),
  ];
}

/** The plan with some workers renamed: names the YAML library quotes, token-like, plain. */
function renamed(plan: Plan, names: readonly string[]): Plan {
  let w = 0;
  const nodes = plan.nodes.map((n): PlannedNode => {
    if (n.role !== 'worker' || w >= names.length) return n;
    return { ...n, hostname: names[w++] };
  });
  return { ...plan, nodes };
}

const pools = [
  { name: 'general', count: 6 },
  { name: 'gpu', count: 3, taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] },
  { name: 'edge', count: 3, labels: { 'example.com/tier': 'edge' } },
  { name: 'odd', count: 2, labels: { 'example.com/note': 'two words' } },
];

describe('user-data from node templates', () => {
  before(async () => {
    pki = await generatePki('kubeadm:cluster-admins', new Date('2026-11-22T00:00:00Z'));
  });

  for (const version of ['v1.20.2', 'v1.34.1']) {
    for (const by of ['cloud-init', 'agent'] as const) {
      it(`gives each node the user-data its own files give (${version}, bootstrap by ${by})`, () => {
        const { make } = context(
          {
            version,
            controlPlane: { count: 3 },
            etcd: { topology: 'external', count: 3 },
            workers: pools,
            networking: { cni: { plugin: 'cilium' } },
          },
          (c) =>
            renamed(buildPlan(c, inventory(3, 2, 4)), [
              'yes',
              'e1',
              'Ingotvar0Q',
              '52:54:00:12:34:56',
              '10.0.0.99',
              'w-a.example.com',
            ]),
        );
        const ctx = make(by);
        const [templated, nodeByNode] = both(ctx, make(by));
        assert.equal(templated.length, 20);
        for (let i = 0; i < templated.length; i++)
          assert.equal(templated[i], nodeByNode[i], ctx.plan.nodes[i].hostname);
        // Workers of one pool share a template; a pool with other taints has its own.
        const t = nodeTemplates(ctx);
        assert.ok(t.get('worker\nfalse\n[]'));
        assert.ok(t.get(`worker\nfalse\n${JSON.stringify(pools[1].taints)}`));
      });
    }
  }

  it('gives a template node its class and tokens and refuses any other read of it', () => {
    const c = cluster({ workers: [{ name: 'general', count: 2 }] });
    const node = buildPlan(c, inventory(3, 1, 3)).nodes.find((n) => n.role === 'worker');
    assert.ok(node);
    const t = templateNode(node);
    assert.equal(t.role, 'worker');
    assert.equal(t.init, false);
    assert.equal(t.taints, node.taints);
    assert.equal(t.hostname, 'Ingotvar0Q');
    assert.equal(t.ip, 'Ingotvar1Q');
    assert.equal(nodeLabelsArg(t), 'Ingotvar2Q');
    assert.throws(() => t.address);
    assert.throws(() => t.nics);
    assert.throws(() => t.rack);
    assert.throws(() => ({ ...t }));
    assert.throws(() => 'address' in t);
  });

  it('renders control planes node by node (kube-vip reads their interface)', () => {
    const { make } = context(
      {
        controlPlane: { count: 3 },
        endpoint: { address: '10.0.0.10', mode: 'kube-vip' },
        workers: [{ name: 'general', count: 2 }],
        networking: { cni: { plugin: 'cilium' } },
      },
      (c) => buildPlan(c, inventory(3, 1, 3)),
    );
    const ctx = make('cloud-init');
    const [templated, nodeByNode] = both(ctx, make('cloud-init'));
    assert.deepEqual(templated, nodeByNode);
    assert.deepEqual([...nodeTemplates(ctx).keys()], ['worker\nfalse\n[]']);
  });

  it('renders node by node where a file holds the node’s place in the plan (bridge CNI)', () => {
    const { make } = context(
      { workers: [{ name: 'general', count: 4 }], networking: { cni: { plugin: 'bridge' } } },
      (c) => buildPlan(c, inventory(3, 1, 3)),
    );
    const ctx = make('cloud-init');
    const [templated, nodeByNode] = both(ctx, make('cloud-init'));
    assert.deepEqual(templated, nodeByNode);
    assert.equal(nodeTemplates(ctx).size, 0);
  });

  it('reads a word as written as it is exactly when the full rules do', () => {
    const cache = yamlTemplates();
    const full = (v: string) => !v.includes(TOKEN) && isTemplateWord(v) && scalarYaml(v, cache) === `${v}\n`;
    const chars = 'aeEyYnNo01259.-_/=,:+ #"';
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const words = [
      'w-0001',
      '10.0.0.1',
      '10.0.0.1/24',
      '1.2.3',
      '1.2.3.4.5',
      '1234.1.1.1',
      'e1',
      'e-1',
      'E+1',
      'e-a',
      'yes',
      'No',
      'null',
      'y',
      'on-1',
      'ingot.dev/pool=general,ingot.dev/rack=z1-r1',
      'Ingotvar0Q',
      'a:b',
      'a: b',
      '',
    ];
    for (let i = 0; i < 20000; i++) {
      let w = '';
      for (let n = 1 + next(6); n > 0; n--) w += chars[next(chars.length)];
      words.push(w);
    }
    for (const w of words) assert.equal(asIsWord(w, cache), full(w), JSON.stringify(w));
  });
});
