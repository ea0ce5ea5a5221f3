/**
 * `ingot cluster create|ls|show|events|kubeconfig|delete` as a user runs them: the CLI as a child
 * process against a real region whose fake:// machines the simulated agent deploys and bootstraps.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clusterYaml, seedClusterRegion } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { startTestRegion, type TestRegion } from './support/region.ts';

const CLUSTER = clusterYaml('cli-lab', { net: '10.40' });

describe('ingot cluster (create, ls, show, events, kubeconfig, delete)', () => {
  let r: TestRegion;
  let dir: string;
  let viewer: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-cluster-cli-'));
    r = await startTestRegion({ clusterLimits: { pollMs: 20 } });
    viewer = (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' })).body
      .secret;
    await seedClusterRegion(r, '10.40');
    writeFileSync(join(dir, 'cluster.yaml'), CLUSTER);
    writeFileSync(join(dir, 'bad.yaml'), 'kind: Cluster\n');
  });
  after(async () => {
    await r?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ingot = (args: string[], env: Record<string, string> = {}) =>
    runIngot(args, { cwd: dir, env: { ...r.cliEnv, XDG_CONFIG_HOME: dir, ...env } });

  it('refuses a bad Cluster file with exit 2 naming the problem', async () => {
    const res = await ingot(['cluster', 'create', '-f', 'bad.yaml']);
    assert.equal(res.code, 2, res.err);
    assert.match(res.err, /Cluster file/);
    const missing = await ingot(['cluster', 'create', '-f', 'nope.yaml']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--file: nope\.yaml does not exist/);
  });

  it('creates with --wait step by step, lists, shows, writes the kubeconfig 0600, and deletes with --wait', async () => {
    const created = await ingot(['cluster', 'create', '-f', 'cluster.yaml', '--wait', '--timeout', '60']);
    assert.equal(created.code, 0, created.err);
    for (const step of ['deploy-nodes', 'bootstrap-init', 'bootstrap-workers', 'wait-ready'])
      assert.match(created.err, new RegExp(`step\\.completed +${step} done`), `progress shows ${step}`);
    assert.match(created.err, /cluster\.node\.bootstrapped +w-2: joined as worker/);
    assert.match(created.out, /cluster cli-lab running: API reachable, nodes Ready 3\/3/);

    const ls = await ingot(['cluster', 'ls'], { INGOT_TOKEN: viewer });
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /^NAME +STATE +DISTRIBUTION/);
    assert.match(ls.out, /cli-lab +running +kubeadm +v1\.30\.2 +3 +3\/3/);

    const show = await ingot(['cluster', 'show', 'cli-lab'], { INGOT_TOKEN: viewer });
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /state: +running/);
    assert.match(show.out, /cp-1 +init +10\.40\.0\.\d+\/22 +deployed/);
    assert.match(show.out, /deploy-nodes ✓ → bootstrap-init ✓/);

    const machine = await ingot(['machine', 'show', 'cp-1']);
    assert.match(machine.out, /cluster +cli-lab \(init\)/);
    const machines = await ingot(['machine', 'ls']);
    assert.match(machines.out, /POOL +CLUSTER/);
    assert.match(machines.out, /w-1 +deployed .* cli-lab\/worker/);

    const json = await ingot(['-o', 'json', 'cluster', 'show', 'cli-lab']);
    assert.equal(JSON.parse(json.out).cluster.state, 'running');

    const events = await ingot(['cluster', 'events', 'cli-lab']);
    assert.match(events.out, /cluster\.transition +creating → running/);

    // The kubeconfig: a file of mode 0600, never on the terminal unless asked with -o -.
    const denied = await ingot(['cluster', 'kubeconfig', 'cli-lab'], { INGOT_TOKEN: viewer });
    assert.equal(denied.code, 5, denied.err);
    assert.ok(!existsSync(join(dir, 'cli-lab.kubeconfig')), 'a refused read writes no file');
    const kc = await ingot(['cluster', 'kubeconfig', 'cli-lab']);
    assert.equal(kc.code, 0, kc.err);
    const file = join(dir, 'cli-lab.kubeconfig');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /kind: Config/);
    assert.ok(!kc.out.includes(text), 'the kubeconfig is not printed');
    writeFileSync(join(dir, 'open.conf'), 'old', { mode: 0o644 });
    const to = await ingot(['cluster', 'kubeconfig', 'cli-lab', '-o', 'open.conf']);
    assert.equal(to.code, 0, to.err);
    assert.equal(
      statSync(join(dir, 'open.conf')).mode & 0o777,
      0o600,
      'an existing file is narrowed to 0600',
    );
    const printed = await ingot(['cluster', 'kubeconfig', 'cli-lab', '-o', '-']);
    assert.equal(printed.out, text);

    const del = await ingot(['cluster', 'delete', 'cli-lab', '--wait', '--timeout', '60']);
    assert.equal(del.code, 0, del.err);
    assert.match(del.err, /step\.completed +release-nodes done/);
    assert.match(del.out, /cluster cli-lab deleted/);
    assert.equal(
      (await r.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total,
      3,
    );
    const gone = await ingot(['cluster', 'ls']);
    assert.doesNotMatch(gone.out, /cli-lab/);
  });

  it('exits 3 for a cluster that does not exist', async () => {
    const res = await ingot(['cluster', 'show', 'nope']);
    assert.equal(res.code, 3);
    assert.match(res.err, /cluster nope does not exist/);
  });
});
