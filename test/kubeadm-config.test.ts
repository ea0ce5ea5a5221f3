/**
 * Ingot's kubeadm config for Kubernetes 1.20 (kubeadm.k8s.io/v1beta2) read by the real kubeadm
 * v1.20.2 from the bundle built from Debian's source: `kubeadm config migrate` decodes every
 * document strictly (an unknown field is a warning naming it, which fails this test) and
 * `kubeadm config images list` names exactly the images the bundle carries (CoreDNS aside:
 * Debian has no source for it). In CI the bundle must be there.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { buildPlan, generatePki, loadClusterFiles, renderArtifacts } from '../src/cluster/index.ts';
import type { ClusterSpec } from '../src/cluster/spec/types.ts';
import { bedBundle } from '../src/lab/testbed/bed.ts';
import { bedCluster, bedInventory } from '../src/lab/testbed/render.ts';
import { bedLayout } from '../src/lab/testbed/topology.ts';
import { EXAMPLES, INVENTORY } from './cluster-examples.ts';
import { skipUnless } from './support/needs.ts';

const bundle = bedBundle();
const kubeadm = join(bundle, 'kubernetes', 'server', 'bin', 'kubeadm');
const work = mkdtempSync(join(tmpdir(), 'ingot-kubeadm-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) =>
    execFile(kubeadm, args, { timeout: 60_000 }, (e, out, err) =>
      res({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    ),
  );
}

/** Every node's rendered kubeadm.yaml (from its cloud-init user-data). */
async function kubeadmConfigs(
  spec: ClusterSpec,
  inventory: Parameters<typeof buildPlan>[1],
  secrets = new Map<string, string>(),
) {
  const plan = buildPlan(spec, inventory);
  const arts = await renderArtifacts(spec, plan, await generatePki('system:masters'), secrets);
  return plan.nodes.map((n) => {
    const ud = parseYaml(arts.find((a) => a.path === `nodes/${n.hostname}/user-data`)!.content) as {
      write_files: { path: string; content: string }[];
    };
    const f = ud.write_files.find((w) => w.path.endsWith('/kubeadm.yaml'));
    assert.ok(f, `${n.hostname} has a kubeadm.yaml`);
    return { node: n.hostname, init: n.init, yaml: f.content };
  });
}

/** The image names the bundle's archives carry, with the install step's aliases. */
function bundleImageNames(): Set<string> {
  const names = new Set<string>();
  const record = JSON.parse(readFileSync(join(bundle, 'ingot-build.json'), 'utf8')) as {
    files: { path: string }[];
  };
  for (const f of record.files.filter((x) => x.path.endsWith('.tar'))) {
    const tar = join(bundle, f.path);
    const manifest = JSON.parse(
      execFileSync('tar', ['-xOf', tar, 'manifest.json'], { encoding: 'utf8', maxBuffer: 2 ** 20 }),
    ) as { RepoTags: string[] }[];
    for (const r of manifest.flatMap((m) => m.RepoTags)) {
      names.add(r);
      names.add(r.replace(/-amd64:/, ':'));
    }
  }
  return names;
}

describe('kubeadm v1beta2 for Kubernetes 1.20, checked by the real kubeadm v1.20.2', {
  skip: skipUnless({
    files: { 'the Kubernetes 1.20.2 bundle (node scripts/kubernetes-bundle.ts)': kubeadm },
  }),
}, () => {
  const cases: [string, () => Promise<{ node: string; init: boolean; yaml: string }[]>][] = [
    [
      'the test bed’s HA cluster (external load balancer, Calico)',
      () => {
        const bed = bedLayout('k', 'ha');
        return kubeadmConfigs(bedCluster(bed), bedInventory(bed));
      },
    ],
    [
      'examples/kubeadm-ha.yaml at v1.20.2 (kube-vip, Cilium, CIS)',
      () => {
        const { spec, inventory } = loadClusterFiles(join(EXAMPLES, 'kubeadm-ha.yaml'), INVENTORY);
        const at120 = { ...spec, spec: { ...spec.spec, version: 'v1.20.2' } } as ClusterSpec;
        const secrets = parseYaml(readFileSync(join(EXAMPLES, 'secrets.example.yaml'), 'utf8')) as Record<
          string,
          string
        >;
        return kubeadmConfigs(at120, inventory, new Map(Object.entries(secrets)));
      },
    ],
  ];
  for (const [what, configs] of cases) {
    it(`${what}: every node's config migrates cleanly and names the bundle's images`, async () => {
      const names = bundleImageNames();
      const all = await configs();
      assert.ok(all.some((c) => c.init));
      for (const c of all) {
        assert.match(c.yaml, /apiVersion: kubeadm\.k8s\.io\/v1beta2/, c.node);
        const file = join(work, `${c.node}.yaml`);
        writeFileSync(file, c.yaml);
        const m = await run(['config', 'migrate', '--old-config', file, '--new-config', `${file}.new`]);
        assert.equal(m.code, 0, `${c.node}: kubeadm config migrate: ${m.err}`);
        assert.doesNotMatch(m.err, /unknown field|strict decod|error/i, `${c.node}: ${m.err}`);
        if (!c.init) continue;
        const im = await run(['config', 'images', 'list', '--config', file]);
        assert.equal(im.code, 0, im.err);
        const wanted = im.out.split('\n').filter((l) => l.trim());
        assert.ok(wanted.length >= 6, im.out);
        for (const w of wanted.filter((x) => !x.includes('/coredns')))
          assert.ok(
            names.has(w),
            `kubeadm asks for ${w}, which the bundle does not carry (${[...names].join(', ')})`,
          );
      }
    });
  }
});
