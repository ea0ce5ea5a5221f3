/**
 * Ingot's Grafana dashboards and the observability stack they ship in (src/cluster/render/
 * dashboards, addons/observability.ts). The dashboards are typed against `@grafana/schema`
 * (tsc); here: every query parses as PromQL (Prometheus' own promtool), every metric a panel
 * queries exists in a real region's /metrics or a real node-exporter's, every datasource a
 * panel names is one the rendered Grafana provisions, the rendered stack's URLs point at the
 * services its charts create, and the dashboards ship as sidecar ConfigMaps and as files.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Dashboard, Panel } from '@grafana/schema';
import { parse, parseAllDocuments } from 'yaml';
import { ENDPOINTS } from '../src/cluster/render/addons/observability.ts';
import { DASHBOARD_LABEL, DATASOURCE, dashboards } from '../src/cluster/render/dashboards/index.ts';
import { healthMetrics } from '../src/health/metrics.ts';
import { createMetrics } from '../src/observe/metrics.ts';
import { openStore } from '../src/store/open.ts';
import type { SqlStore } from '../src/store/sql-store.ts';
import { diskHealthInput, healthSampleInput, machineInput } from '../src/store/testing.ts';
import { type Rendered, renderExamples } from './cluster-examples.ts';
import { scratchDirs } from './support/scratch.ts';
import { skipUnless } from './support/needs.ts';

const run = promisify(execFile);
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';

interface Q {
  dashboard: string;
  panel: string;
  expr: string;
  datasource: string;
}

function queries(d: Dashboard): Q[] {
  return ((d.panels ?? []) as Panel[]).flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      dashboard: d.uid ?? '',
      panel: p.title ?? '',
      expr: String((t as { expr?: unknown }).expr),
      datasource: String((t.datasource as { uid?: string } | undefined)?.uid ?? p.datasource?.uid),
    })),
  );
}

/** Grafana's variables as Prometheus would see them once Grafana substituted them. */
const substitute = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replace(/\$[a-z_]+/g, '.*');

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression reads (not its functions, labels, keywords or numbers). */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out: string[] = [];
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = s.slice((m.index ?? 0) + m[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(m[0].toLowerCase())) continue;
    out.push(m[0]);
  }
  return out;
}

/** Sample names a text exposition can carry: each family, and a histogram's/summary's parts. */
function exposedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line);
    if (t) {
      out.add(t[1]);
      if (t[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(t[1] + s);
      if (t[2] === 'summary') for (const s of ['_sum', '_count']) out.add(t[1] + s);
    } else if (line && !line.startsWith('#')) out.add(line.split(/[{ ]/)[0]);
  }
  return out;
}

/** The label names each metric's series carry in an exposition (plus the target's, added at scrape). */
function labelsOf(text: string, into: Map<string, Set<string>>): void {
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!m) continue;
    const set = into.get(m[1]) ?? new Set(['instance', 'job']);
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) set.add(l[1]);
    into.set(m[1], set);
  }
}

/** Each `metric{label…}` selector's label names, and the labels of every `by (…)`. */
function labelUses(expr: string): { selectors: [string, string[]][]; by: string[] } {
  const clean = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const selectors = [...clean.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}/g)].map(
    (m) =>
      [m[1], [...m[2].matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1])] as [
        string,
        string[],
      ],
  );
  const by = [...clean.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
  return { selectors, by };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('Grafana dashboards', () => {
  const all = dashboards();
  const qs = all.flatMap(queries);

  it('ships hardware, provisioning, cluster health and region dashboards with unique uids', () => {
    assert.deepEqual(all.map((d) => d.uid).sort(), [
      'ingot-cluster-health',
      'ingot-hardware',
      'ingot-provisioning',
      'ingot-region',
    ]);
    for (const d of all) assert.ok((d.panels ?? []).length >= 4, `${d.uid} has panels`);
  });

  it('lays every panel inside the 24-column grid without overlaps, ids unique', () => {
    for (const d of all) {
      const ps = (d.panels ?? []) as Panel[];
      assert.equal(new Set(ps.map((p) => p.id)).size, ps.length, `${d.uid}: panel ids unique`);
      const cells = new Set<string>();
      for (const p of ps) {
        const g = p.gridPos;
        assert.ok(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `${d.uid}/${p.title}: inside the grid`);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            const k = `${x},${y}`;
            assert.ok(!cells.has(k), `${d.uid}/${p.title}: overlaps at ${k}`);
            cells.add(k);
          }
      }
    }
  });

  it('names only the datasources the rendered Grafana provisions', () => {
    const uids = new Set<string>(Object.values(DATASOURCE).map((d) => d.uid));
    for (const q of qs)
      assert.ok(uids.has(q.datasource), `${q.dashboard}/${q.panel}: datasource ${q.datasource}`);
  });

  it('writes PromQL that Prometheus parses', { skip: skipUnless({ programs: ['promtool'] }) }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingot-dash-'));
    try {
      const prom = qs.filter((q) => q.datasource === DATASOURCE.prometheus.uid);
      const rules = {
        groups: [
          {
            name: 'dashboards',
            rules: prom.map((q, i) => ({ record: `dashboard:query_${i}`, expr: substitute(q.expr) })),
          },
        ],
      };
      writeFileSync(join(dir, 'q.yaml'), JSON.stringify(rules));
      await run('promtool', ['check', 'rules', join(dir, 'q.yaml')]).catch(
        (e: { stdout?: string; stderr?: string }) => {
          throw new Error(`promtool rejected a dashboard query:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
        },
      );
      // The check has teeth: a broken query is refused.
      writeFileSync(
        join(dir, 'bad.yaml'),
        JSON.stringify({
          groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (rack (ingot_machine_bmc_up)' }] }],
        }),
      );
      await assert.rejects(run('promtool', ['check', 'rules', join(dir, 'bad.yaml')]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('every metric a panel queries exists', {
    skip: skipUnless({ files: { 'prometheus-node-exporter': NODE_EXPORTER } }),
  }, () => {
    let dir: string;
    let store: SqlStore;
    let exporter: ChildProcess | undefined;
    const exposed = new Set<string>(['up']); // `up` is Prometheus' own, for every target.
    const labels = new Map<string, Set<string>>([['up', new Set(['instance', 'job'])]]);
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ingot-dash-metrics-'));
      store = await openStore({ dataDir: dir });
      // A region's metrics: its registry after one of each event, and the health gauges of a
      // machine whose BMC and NVMe disk report every figure.
      const m = createMetrics(store);
      m.hooks.transition?.('new', 'commissioning');
      m.hooks.step?.('power-on', 'done', 10);
      m.hooks.jobFinished?.('commission', 'done');
      m.httpDuration.observe({ method: 'GET', route: '/api/v1/machines', status: '200' }, 0.01);
      const a = await store.createMachine(machineInput({ hostname: 'n1' }), 't');
      await store.recordHealthSample(healthSampleInput(a.id, 1000, { selCritical: 1 }));
      await store.recordDiskHealth([
        diskHealthInput(a.id, 'S1', 1000, { protocol: 'nvme', mediaErrors: 0, percentageUsed: 3 }),
      ]);
      m.append(() => healthMetrics(store, { reuseMs: 0 }).exposition());
      const region = await m.text();
      for (const n of exposedNames(region)) exposed.add(n);
      labelsOf(region, labels);
      // A real node-exporter on loopback.
      const port = await freePort();
      exporter = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
      let text = '';
      for (let i = 0; i < 100 && !text; i++) {
        text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        );
        if (!text) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(text, 'node-exporter answered');
      for (const n of exposedNames(text)) exposed.add(n);
      labelsOf(text, labels);
    });
    after(async () => {
      exporter?.kill();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('in a region’s /metrics (Ingot’s) or a node-exporter’s (the cluster’s)', () => {
      const prom = qs.filter((q) => q.datasource === DATASOURCE.prometheus.uid);
      let checked = 0;
      for (const q of prom)
        for (const name of metricNames(q.expr)) {
          assert.ok(exposed.has(name), `${q.dashboard}/${q.panel}: no metric ${name} is exported`);
          checked++;
        }
      assert.ok(checked >= prom.length, 'every query names a metric');
      // Variables read metrics that exist too.
      for (const d of all)
        for (const v of d.templating?.list ?? []) {
          const m = /label_values\(([^,]+),/.exec(String(v.query));
          assert.ok(m && exposed.has(m[1]), `${d.uid}: variable ${v.name} reads ${m?.[1]}`);
        }
    });

    it('with the labels the panel selects and groups by', () => {
      for (const q of qs.filter((x) => x.datasource === DATASOURCE.prometheus.uid)) {
        const { selectors, by } = labelUses(q.expr);
        for (const [metric, ls] of selectors)
          for (const l of ls)
            assert.ok(labels.get(metric)?.has(l), `${q.dashboard}/${q.panel}: ${metric} has no label ${l}`);
        const read = metricNames(q.expr).flatMap((n) => [...(labels.get(n) ?? [])]);
        for (const l of by)
          assert.ok(read.includes(l), `${q.dashboard}/${q.panel}: no metric it reads has the label ${l}`);
      }
      // Teeth: a label the gauges do not have is caught.
      assert.equal(labels.get('ingot_machine_power_watts')?.has('rack'), true);
      assert.equal(labels.get('ingot_machine_power_watts')?.has('chassis'), false);
    });

    it('the name check has teeth: a misspelt metric is caught', () => {
      assert.deepEqual(
        metricNames('sum by (rack) (rate(ingot_machine_power_watt{rack=~"$rack"}[5m])) / on (x) y_total'),
        ['ingot_machine_power_watt', 'y_total'],
      );
      assert.equal(exposed.has('ingot_machine_power_watt'), false);
    });
  });
});

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, asserted field by field
type Doc = Record<string, any>;

describe('the rendered observability stack', () => {
  let rendered: Rendered[];
  const scratch = scratchDirs();
  before(async () => {
    rendered = await renderExamples(scratch('ingot-cluster-'));
  });
  const docsOf = (r: Rendered) =>
    r.artifacts
      .filter((a) => a.kind === 'kubernetes-manifests')
      .flatMap((a) => parseAllDocuments(a.content).map((d) => d.toJS() as Doc))
      .filter(Boolean);
  const chart = (r: Rendered, name: string) => {
    const c = docsOf(r).find((d) => d.kind === 'HelmChart' && d.metadata.name === name);
    return c ? { spec: c.spec, values: parse(c.spec.valuesContent) as Doc } : undefined;
  };

  it('gives Grafana Prometheus and Loki datasources at the services the charts create', () => {
    const r = rendered.find((x) => x.plan && chart(x, 'loki'));
    assert.ok(r, 'an example renders Loki');
    const kps = chart(r, 'kube-prometheus-stack');
    assert.ok(kps);
    const g = kps.values.grafana;
    assert.equal(g.sidecar.datasources.uid, DATASOURCE.prometheus.uid);
    // The chart's Prometheus Service is `<fullname>-prometheus` on 9090 in its namespace.
    assert.equal(
      g.sidecar.datasources.url,
      `http://kube-prometheus-stack-prometheus.${kps.spec.targetNamespace}.svc:9090/`,
    );
    const loki = chart(r, 'loki');
    assert.ok(loki);
    assert.deepEqual(
      g.additionalDataSources.map((d: { uid: string; type: string; url: string }) => [d.uid, d.type, d.url]),
      [[DATASOURCE.loki.uid, 'loki', `http://loki.${loki.spec.targetNamespace}.svc:3100`]],
    );
    assert.equal(loki.values.deploymentMode, 'SingleBinary');
  });

  it('ships every node’s logs to Loki with an Alloy DaemonSet', () => {
    const r = rendered.find((x) => chart(x, 'loki'));
    assert.ok(r);
    const alloy = chart(r, 'alloy');
    assert.ok(alloy, 'Alloy renders beside Loki');
    assert.equal(alloy.values.controller.type, 'daemonset');
    const config: string = alloy.values.alloy.configMap.content;
    assert.ok(config.includes(`url = "${ENDPOINTS.lokiPush}"`), 'pushes to the rendered Loki');
    assert.match(
      config,
      /loki\.source\.kubernetes "pods"[\s\S]*forward_to = \[loki\.write\.default\.receiver\]/,
    );
    assert.match(config, /loki\.source\.journal "node"/);
    // The journal, persistent (/var/log) or volatile (/run/log/journal), is mounted.
    assert.equal(alloy.values.alloy.mounts.varlog, true);
    assert.equal(alloy.values.alloy.mounts.extra[0].mountPath, '/run/log/journal');
    assert.equal(alloy.values.controller.volumes.extra[0].hostPath.path, '/run/log/journal');
    // Without Loki there is nothing to ship to.
    const noLoki = rendered.find((x) => chart(x, 'kube-prometheus-stack') && !chart(x, 'loki'));
    assert.ok(noLoki);
    assert.equal(chart(noLoki, 'alloy'), undefined);
    assert.deepEqual(chart(noLoki, 'kube-prometheus-stack')?.values.grafana.additionalDataSources, []);
  });

  it('scrapes node-exporter and smartctl-exporter', () => {
    const r = rendered.find((x) => chart(x, 'smartctl-exporter'));
    assert.ok(r);
    assert.equal(chart(r, 'kube-prometheus-stack')?.values.nodeExporter.enabled, true);
    assert.equal(chart(r, 'smartctl-exporter')?.values.serviceMonitor.enabled, true);
    // Prometheus picks up every ServiceMonitor, not only the chart's own.
    assert.equal(
      chart(r, 'kube-prometheus-stack')?.values.prometheus.prometheusSpec
        .serviceMonitorSelectorNilUsesHelmValues,
      false,
    );
  });

  it('ships the dashboards as ConfigMaps the sidecar loads, and as files', () => {
    const r = rendered.find((x) => chart(x, 'kube-prometheus-stack'));
    assert.ok(r);
    const sidecar = chart(r, 'kube-prometheus-stack')?.values.grafana.sidecar.dashboards;
    const maps = docsOf(r).filter(
      (d) => d.kind === 'ConfigMap' && d.metadata.labels?.[sidecar.label] === sidecar.labelValue,
    );
    assert.equal(sidecar.label, DASHBOARD_LABEL.name);
    const uids = dashboards().map((d) => d.uid);
    assert.deepEqual(
      maps.map((m) => JSON.parse(Object.values(m.data as Record<string, string>)[0]).uid).sort(),
      [...uids].sort(),
    );
    const files = r.artifacts.filter((a) => a.kind === 'grafana-dashboard');
    assert.deepEqual(files.map((f) => f.path).sort(), uids.map((u) => `dashboards/${u}.json`).sort());
    for (const f of files) assert.equal(JSON.parse(f.content).schemaVersion, 39);
  });
});
