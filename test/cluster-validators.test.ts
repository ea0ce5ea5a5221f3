/**
 * Every artifact `ingot cluster render` writes for the examples passes its real validator
 * (TESTING.md, "Validators for generated configs"). A failure prints the validator's stderr.
 * Needs root (network namespaces) and the Debian packages cloud-init, nftables, frr, bird2,
 * prometheus, haproxy, keepalived, iproute2.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { checkNetworkConfigs } from '../src/engine/network-config.ts';
import { ManifestValidator } from './cluster-manifest-schemas.ts';
import { chartValuesErrors, coalesce, pinnedChart, pinnedCharts } from './support/chart-schemas.ts';
import { type Rendered, renderExamples, writeFilesOf } from './cluster-examples.ts';
import { scratchDirs } from './support/scratch.ts';

const run = promisify(execFile);
const scratchDir = scratchDirs();
const scratch = scratchDir('ingot-validators-');

/** Runs a validator; rejects with its output so the test failure shows what it said. */
async function check(cmd: string, args: readonly string[], cwd?: string): Promise<void> {
  try {
    await run(cmd, args, { cwd, maxBuffer: 16 * 2 ** 20 });
  } catch (e) {
    const x = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed:\n${x.stderr || ''}${x.stdout || ''}${x.stderr || x.stdout ? '' : x.message}`,
    );
  }
}

/** Runs `fn` over items with at most `n` in flight (2 cores: keep it small). */
async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await fn(t);
    }),
  );
}

/** Distinct contents only: 1,000 identical worker rulesets are one check. */
function distinct(
  items: { name: string; content: string }[],
): { name: string; file: string; content: string }[] {
  const seen = new Map<string, { name: string; file: string; content: string }>();
  for (const it of items) {
    const h = createHash('sha256').update(it.content).digest('hex').slice(0, 16);
    if (seen.has(h)) continue;
    const file = join(scratch, `${h}-${it.name.replace(/[^A-Za-z0-9.-]/g, '_')}`);
    writeFileSync(file, it.content);
    seen.set(h, { name: it.name, file, content: it.content });
  }
  return [...seen.values()];
}

async function withNetns<T>(fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `ingot-v-${randomBytes(4).toString('hex')}`;
  await run('ip', ['netns', 'add', ns]);
  try {
    return await fn(ns);
  } finally {
    await run('ip', ['netns', 'del', ns]);
  }
}

let rendered: Rendered[] = [];
const of = (kind: string) =>
  rendered.flatMap((r) =>
    r.artifacts.filter((a) => a.kind === kind).map((a) => ({ ...a, file: join(r.dir, a.path) })),
  );
const nodeFiles = () =>
  rendered.flatMap((r) =>
    of('cloud-config')
      .filter((a) => a.file.startsWith(r.dir))
      .flatMap((a) => writeFilesOf(a.content).map((f) => ({ ...f, node: a.path }))),
  );

describe('rendered examples pass their real validators', () => {
  before(async () => {
    rendered = await renderExamples(scratchDir('ingot-cluster-'));
  });

  it('renders every example, each with nodes, manifests and a kubeconfig', () => {
    assert.ok(rendered.length >= 4);
    for (const r of rendered) {
      assert.ok(
        r.artifacts.some((a) => a.kind === 'cloud-config'),
        r.example,
      );
      assert.ok(
        r.artifacts.some((a) => a.kind === 'kubernetes-manifests'),
        r.example,
      );
    }
  });

  it('passes cloud-init schema for every node user-data', async () => {
    const files = of('cloud-config');
    assert.ok(files.length > 20);
    await pool(files, 3, (f) => check('cloud-init', ['schema', '--config-file', f.file]));
  });

  it('passes netplan generate and the node’s cloud-init renderer for every node network-config (the region’s deploy check)', async () => {
    const files = of('network-config');
    assert.ok(files.length > 20);
    assert.ok(
      files.some((f) => /bonds:/.test(f.content)),
      'bonded nodes are checked',
    );
    await checkNetworkConfigs(files.map((f) => ({ text: f.content, who: f.path })));
  });

  it('passes nft -c inside a throwaway namespace for every ruleset a node loads', async () => {
    const sets = distinct([
      ...of('nftables').map((a) => ({ name: a.path, content: a.content })),
      ...nodeFiles()
        .filter((f) => f.path === '/etc/nftables.conf')
        .map((f) => ({ name: f.node, content: f.content })),
    ]);
    assert.ok(sets.length >= 4);
    await withNetns(async (ns) => {
      for (const s of sets) await check('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', s.file]);
    });
  });

  it('passes vtysh --dryrun for every FRR snippet and bird -p for every BIRD snippet', async () => {
    const frr = of('frr');
    const bird = of('bird');
    assert.ok(frr.length >= 3 && bird.length === frr.length);
    for (const f of frr) await check('vtysh', ['--dryrun', '-f', f.file]);
    for (const f of bird) await check('bird', ['-p', '-c', f.file]);
  });

  it('passes promtool check rules and the rule unit tests', async () => {
    for (const f of of('prometheus-rules')) await check('promtool', ['check', 'rules', f.file]);
    const tests = of('prometheus-rule-tests');
    assert.ok(tests.length > 0);
    for (const t of tests) await check('promtool', ['test', 'rules', t.file], dirname(t.file));
  });

  it('passes haproxy -c and keepalived -t (external load-balancer mode)', async () => {
    const haproxy = of('haproxy');
    const keepalived = of('keepalived');
    assert.ok(haproxy.length > 0 && keepalived.length >= 2);
    for (const h of haproxy) await check('haproxy', ['-c', '-f', h.file]);
    await withNetns(async (ns) => {
      // keepalived refuses configs naming interfaces that do not exist: give it eth0.
      await run('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
      for (const k of keepalived) await check('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', k.file]);
    });
  });

  it('checks every HelmChart’s values against the chart’s own values.schema.json where one is pinned', (t) => {
    const charts = new Set<string>();
    for (const a of of('kubernetes-manifests'))
      for (const doc of parseAllDocuments(a.content)) {
        const o = doc.toJS() as {
          kind?: string;
          spec?: { chart: string; version: string; valuesContent?: string };
        };
        if (o?.kind !== 'HelmChart' || !o.spec) continue;
        charts.add(`${o.spec.chart}-${o.spec.version.replace(/^v/, '')}`);
        const pinned = pinnedChart(o.spec.chart, o.spec.version);
        if (!pinned) continue;
        const values = (parseAllDocuments(o.spec.valuesContent ?? '')[0]?.toJS() ?? {}) as Record<
          string,
          unknown
        >;
        assert.deepEqual(
          chartValuesErrors(pinned, values),
          [],
          `${a.path}: ${o.spec.chart} ${o.spec.version}`,
        );
      }
    assert.ok(charts.size >= 8, `HelmCharts rendered: ${[...charts].join(', ')}`);
    const pinned = new Set(pinnedCharts());
    const validated = [...charts].filter((k) => pinned.has(k));
    t.diagnostic(
      `validated against pinned schemas: ${validated.join(', ') || 'none'}; no schema pinned (test/fixtures/chart-schemas/README.md): ${[...charts].filter((k) => !pinned.has(k)).join(', ')}`,
    );
    // A pinned folder no rendered chart uses is a stale pin (versions.ts moved on).
    assert.deepEqual(
      [...pinned].filter((p) => !charts.has(p)),
      [],
      'pinned schemas no chart renders',
    );
  });

  it('the chart values check has teeth: Helm’s coalescing, a wrong type, a missing required value', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['speaker'],
      properties: {
        speaker: {
          type: 'object',
          required: ['image'],
          properties: { image: { type: 'string' }, logLevel: { enum: ['info', 'debug'] } },
        },
      },
    };
    const defaults = { speaker: { image: 'quay.io/x', logLevel: 'info' }, other: 1 };
    assert.deepEqual(coalesce(defaults, { speaker: { logLevel: 'debug' }, other: null }), {
      speaker: { image: 'quay.io/x', logLevel: 'debug' },
    });
    assert.deepEqual(chartValuesErrors({ schema, defaults }, { speaker: { logLevel: 'debug' } }), []);
    assert.match(
      chartValuesErrors({ schema, defaults }, { speaker: { logLevel: 'loud' } }).join('\n'),
      /\/speaker\/logLevel: must be equal to one of the allowed values/,
    );
    // A null removes the default: the required image is gone.
    assert.match(
      chartValuesErrors({ schema, defaults }, { speaker: { image: null } }).join('\n'),
      /\/speaker: must have required property 'image'/,
    );
    // Without the defaults pinned, only what Ingot sets is checked: no `required`.
    assert.deepEqual(chartValuesErrors({ schema, defaults: null }, { speaker: { logLevel: 'info' } }), []);
    assert.match(
      chartValuesErrors({ schema, defaults: null }, { speaker: { image: 7 } }).join('\n'),
      /\/speaker\/image: must be string/,
    );
  });

  it('validates every Kubernetes object against its schema, including those inside user-data', async () => {
    const v = new ManifestValidator();
    const docs = distinct([
      ...of('kubernetes-manifests').map((a) => ({ name: a.path, content: a.content })),
      ...nodeFiles()
        .filter((f) => /\/(manifests|pod-manifests)\//.test(f.path))
        .map((f) => ({ name: `${f.node}:${f.path}`, content: f.content })),
    ]);
    const errors: string[] = [];
    const used = new Set<string>();
    for (const d of docs) {
      for (const doc of parseAllDocuments(d.content)) {
        const r = await v.validate(doc.toJS());
        used.add(r.validator);
        errors.push(...r.errors.map((e) => `${d.name}: ${e}`));
      }
    }
    assert.deepEqual(errors, []);
    for (const want of [
      'kubernetes-models',
      '@kubernetes-models/prometheus-operator',
      '@kubernetes-models/flux-cd',
      '@kubernetes-models/argo-cd',
      'crd:metallb.io',
      'crd:cilium.io',
      'crd:projectcalico.org',
      'crd:longhorn.io',
      'crd:ceph.rook.io',
      'crd:helm.cattle.io',
    ]) {
      assert.ok(used.has(want), `no example exercises ${want}: ${[...used].join(', ')}`);
    }
  });
});
