/**
 * `ingot cluster scale` and `POST /clusters/{name}/scale` as a user runs them: the CLI as a child
 * process against a real region whose fake:// machines the simulated agent deploys, bootstraps
 * and makes join tokens on (the real-Kubernetes run is test/cluster-scale.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clusterYaml, seedClusterRegion } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { startTestRegion, type TestRegion } from './support/region.ts';

interface Body {
  cluster: { state: string; members: { hostname: string; role: string }[] };
  job: unknown;
  code?: string;
  message?: string;
  details?: { field?: string };
}

describe('ingot cluster scale', () => {
  let r: TestRegion;
  let dir: string;
  let viewer: string;
  let ids: Map<string, string>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-scale-cli-'));
    r = await startTestRegion({ clusterLimits: { pollMs: 20 } });
    viewer = (await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' })).body
      .secret;
    ids = await seedClusterRegion(r, '10.44');
    writeFileSync(join(dir, 'cluster.yaml'), clusterYaml('sc-cli', { net: '10.44', workers: 1 }));
  });
  after(async () => {
    await r?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ingot = (args: string[], env: Record<string, string> = {}) =>
    runIngot(args, { cwd: dir, env: { ...r.cliEnv, XDG_CONFIG_HOME: dir, ...env } });
  const workers = async () =>
    (await r.api<Body>('GET', '/api/v1/clusters/sc-cli')).body.cluster.members
      .filter((m) => m.role === 'worker')
      .map((m) => m.hostname);

  it('scales out onto the spare and back in with --wait, each node step on stderr', async () => {
    const created = await ingot(['cluster', 'create', '-f', 'cluster.yaml', '--wait', '--timeout', '60']);
    assert.equal(created.code, 0, created.err);
    assert.deepEqual(await workers(), ['w-1']);

    const out = await ingot(['cluster', 'scale', 'sc-cli', '--workers', '2', '--wait', '--timeout', '60']);
    assert.equal(out.code, 0, out.err);
    assert.match(out.out, /^cluster sc-cli running: add w-2 done; workers: 2$/m);
    assert.match(out.err, /cluster\.node\.join-token +cp-1: join token created/);
    assert.match(out.err, /cluster\.node\.bootstrapped +w-2: joined as worker/);
    assert.deepEqual(await workers(), ['w-1', 'w-2']);

    const same = await ingot(['cluster', 'scale', 'sc-cli', '--workers', '2']);
    assert.equal(same.code, 0, same.err);
    assert.match(same.out, /has 2 workers already; nothing to do/);

    const inn = await ingot(['cluster', 'scale', 'sc-cli', '--remove', 'w-1', '--wait', '--timeout', '60']);
    assert.equal(inn.code, 0, inn.err);
    assert.match(inn.out, /^cluster sc-cli running: remove w-1 done; workers: 1$/m);
    for (const t of ['drain', 'drained', 'deleted', 'release', 'removed'])
      assert.match(inn.err, new RegExp(`cluster\\.node\\.${t} +w-1: `), `${t} on stderr`);
    assert.deepEqual(await workers(), ['w-2']);
    const m = (await r.api<{ state: string; owner: string }>('GET', `/api/v1/machines/${ids.get('w-1')}`))
      .body;
    assert.deepEqual([m.state, m.owner], ['ready', '']);
  });

  it('refuses what the rules refuse with exit 2 naming the field, a viewer with exit 5, an unknown cluster with 3; nothing changes', async () => {
    const before = await r.api<Body>('GET', '/api/v1/clusters/sc-cli');
    const cases: [string[], number, RegExp][] = [
      [['--control-planes', '2'], 2, /controlPlanes: 2 is even/],
      [
        ['--control-planes', '3'],
        2,
        /controlPlanes: needs 2 more control-plane machines, 0 ready ones match/,
      ],
      [['--workers', '4'], 2, /workers: needs 3 more general machines, 1 ready ones match/],
      [['--remove', 'cp-1'], 2, /remove\[0\]: cp-1 is a init node: only workers are removed/],
      [['--workers', '0', '--remove', 'nope'], 2, /remove\[0\]: nope is not a member/],
      [[], 2, /--workers: say how many workers/],
    ];
    for (const [args, code, msg] of cases) {
      const res = await ingot(['cluster', 'scale', 'sc-cli', ...args]);
      assert.equal(res.code, code, `${args.join(' ')}: ${res.err}`);
      assert.match(res.err, msg, args.join(' '));
    }
    const denied = await ingot(['cluster', 'scale', 'sc-cli', '--workers', '2'], { INGOT_TOKEN: viewer });
    assert.equal(denied.code, 5, denied.err);
    const missing = await ingot(['cluster', 'scale', 'nope', '--workers', '2']);
    assert.equal(missing.code, 3, missing.err);
    const bad = await r.api<Body>('POST', '/api/v1/clusters/sc-cli/scale', { workers: -1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INGOT_VALIDATION');
    const after = await r.api<Body>('GET', '/api/v1/clusters/sc-cli');
    assert.deepEqual(after.body.cluster.members, before.body.cluster.members);
    assert.equal(after.body.cluster.state, 'running');
  });
});
