/** POST /api/v1/clusters/plan against a real region with machines commissioned by the simulated agent. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from '../../test/support/region.ts';

interface Problem {
  path: string;
  message: string;
}
interface ErrorBody {
  code: string;
  message: string;
  details: { problems?: Problem[]; stage?: string; field?: string };
}
interface PlanResult {
  plan: {
    cluster: string;
    distribution: string;
    endpoint: string;
    etcd: { topology: string; members: string[]; quorum: number };
    nodes: {
      hostname: string;
      role: string;
      pool: string;
      zone: string;
      rack: string;
      address: string;
      machineId: string;
      init: boolean;
      labels: Record<string, string>;
      taints: { key: string; effect: string }[];
    }[];
    whatIf: {
      domain: string;
      name: string;
      lost: { controlPlanes: number; etcd: number; workers: number };
      etcdSurvivors: number;
      quorum: boolean;
      apiAvailable: boolean;
      workersSurviving: number;
    }[];
    warnings: string[];
  };
  text: string;
}

/** Three stacked control planes on the control pool, three general workers; `extra` is appended under spec. */
function clusterFile(
  o: { cpCount?: number; cpPool?: string; workers?: number; extra?: string } = {},
): string {
  return `apiVersion: ingot.dev/v1alpha1
kind: Cluster
metadata:
  name: lab-a
spec:
  distribution: kubeadm
  version: v1.34.1
  controlPlane:
    count: ${o.cpCount ?? 3}
    machines: { pool: ${o.cpPool ?? 'control'} }
  workers:
    - name: general
      count: ${o.workers ?? 3}
      machines: { pool: general }
      labels: { ingot.dev/pool: general }
      taints: [{ key: dedicated, value: general, effect: NoSchedule }]
  endpoint:
    address: 10.10.0.10
${o.extra ?? ''}`;
}

describe('POST /api/v1/clusters/plan', () => {
  let r: TestRegion;
  let viewer: string;
  const ids = new Map<string, string>();
  const plan = (cluster: unknown, token?: string | null) =>
    r.api<PlanResult & ErrorBody>('POST', '/api/v1/clusters/plan', { cluster }, token);

  before(async () => {
    r = await startTestRegion();
    const v = await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' });
    viewer = v.body.secret;
    const s = await r.api('POST', '/api/v1/subnets', {
      name: 'machines',
      cidr: '10.10.0.0/22',
      gateway: '10.10.0.1',
      ranges: [{ kind: 'dynamic', start: '10.10.1.0', end: '10.10.1.254' }],
    });
    assert.equal(s.status, 201);
    const layout: [string, string, string, string][] = [
      ['cp-1', 'control', 'z1', 'z1-r1'],
      ['cp-2', 'control', 'z2', 'z2-r1'],
      ['cp-3', 'control', 'z3', 'z3-r1'],
      ['w-1', 'general', 'z1', 'z1-r2'],
      ['w-2', 'general', 'z2', 'z2-r2'],
      ['w-3', 'general', 'z3', 'z3-r2'],
      ['w-new', 'general', 'z1', 'z1-r2'],
    ];
    for (const [hostname, pool, zone, rack] of layout) {
      const m = await r.api<{ id: string }>(
        'POST',
        '/api/v1/machines',
        newMachineBody({ hostname, pool, zone, rack }),
      );
      assert.equal(m.status, 201);
      ids.set(hostname, m.body.id);
    }
    // All but w-new are commissioned (ready, with inventory); w-new stays new and must never be picked.
    for (const [hostname, id] of ids)
      if (hostname !== 'w-new') await r.api('POST', `/api/v1/machines/${id}/actions/commission`, {});
    await eventually(
      async () =>
        (await r.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total === 6,
      15_000,
      '6 ready machines',
    );
  });
  after(async () => r?.stop());

  it('plans onto the ready machines for a viewer, with failure domains and the what-if table', async () => {
    const res = await plan(clusterFile(), viewer);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const p = res.body.plan;
    assert.equal(p.cluster, 'lab-a');
    assert.equal(p.distribution, 'kubeadm');
    assert.equal(p.endpoint, 'https://10.10.0.10:6443');
    assert.deepEqual(p.etcd, { topology: 'stacked', members: ['cp-1', 'cp-2', 'cp-3'], quorum: 2 });
    assert.deepEqual(
      p.nodes.map((n) => [n.hostname, n.role, n.zone, n.rack]),
      [
        ['cp-1', 'control-plane', 'z1', 'z1-r1'],
        ['cp-2', 'control-plane', 'z2', 'z2-r1'],
        ['cp-3', 'control-plane', 'z3', 'z3-r1'],
        ['w-1', 'worker', 'z1', 'z1-r2'],
        ['w-2', 'worker', 'z2', 'z2-r2'],
        ['w-3', 'worker', 'z3', 'z3-r2'],
      ],
    );
    assert.equal(p.nodes[0].init, true);
    assert.equal(p.nodes[0].machineId, ids.get('cp-1'));
    for (const n of p.nodes) assert.match(n.address, /^10\.10\.0\.\d+\/22$/);
    assert.ok(!p.nodes.some((n) => n.address.startsWith('10.10.0.10/')), 'the VIP is not a node address');
    assert.deepEqual(p.nodes[3].labels, { 'ingot.dev/pool': 'general' });
    assert.deepEqual(p.nodes[3].taints, [{ key: 'dedicated', value: 'general', effect: 'NoSchedule' }]);
    // Every zone and rack holding a node has a row; losing any one keeps quorum and the API.
    assert.deepEqual(
      p.whatIf.map((w) => `${w.domain} ${w.name}`),
      [
        'zone z1',
        'zone z2',
        'zone z3',
        'rack z1-r1',
        'rack z1-r2',
        'rack z2-r1',
        'rack z2-r2',
        'rack z3-r1',
        'rack z3-r2',
      ],
    );
    const z1 = p.whatIf[0];
    assert.deepEqual(z1.lost, { controlPlanes: 1, etcd: 0, workers: 1 });
    assert.equal(z1.etcdSurvivors, 2);
    assert.equal(z1.workersSurviving, 2);
    assert.ok(p.whatIf.every((w) => w.quorum && w.apiAvailable));
    assert.match(res.body.text, /What survives the loss of one failure domain/);
    assert.match(res.body.text, /zone z1\s+1 control plane, 1 worker\s+2\/3\s+kept\s+up\s+2\/3/);
  });

  it('shows a plan that loses quorum with one zone in the what-if table when the file accepts the risk', async () => {
    const res = await plan(
      clusterFile({ cpCount: 1, workers: 1, extra: '  placement: { tolerate: [] }\n' }),
      viewer,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const z1 = res.body.plan.whatIf.find((w) => w.domain === 'zone' && w.name === 'z1')!;
    assert.equal(z1.quorum, false);
    assert.equal(z1.apiAvailable, false);
    assert.match(res.body.plan.warnings[0], /single control plane tolerates no failure/);
  });

  it('reports every problem of a Cluster file at once, each with its path', async () => {
    const bad = `apiVersion: ingot.dev/v1alpha1
kind: Cluster
metadata:
  name: Lab_A
spec:
  distribution: kubeadm
  controlPlane:
    count: 2
  workerz: []
  endpoint:
    address: 10.10.0.10
  networking:
    podCIDR: 10.96.0.0/16
    serviceCIDR: 10.96.0.0/12
`;
    const res = await plan(bad, viewer);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'INGOT_VALIDATION');
    assert.equal(res.body.details.stage, 'cluster-file');
    const paths = (res.body.details.problems ?? []).map((p) => p.path);
    for (const path of [
      'metadata.name',
      'spec.controlPlane.count',
      'spec.workerz',
      'spec.networking.podCIDR',
    ])
      assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
    assert.match(res.body.message, /^Cluster file has \d+ problems:/);
    for (const p of res.body.details.problems ?? []) assert.ok(p.message.length > 0);
  });

  it('reports YAML syntax errors with their line', async () => {
    const res = await plan('apiVersion: ingot.dev/v1alpha1\nkind: [Cluster\n', viewer);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'INGOT_VALIDATION');
    assert.match(res.body.details.problems?.[0].path ?? '', /^line \d+$/);
  });

  it('refuses YAML whose aliases expand too far as a problem of the file, not a region fault', async () => {
    let bomb = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 0, prev = 'a'; i < 9; prev = `l${i}`, i++)
      bomb += `l${i}: &l${i} [${Array(9).fill(`*${prev}`).join(', ')}]\n`;
    const res = await plan(bomb, viewer);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'INGOT_VALIDATION');
    assert.equal(res.body.details.stage, 'cluster-file');
    assert.match(res.body.details.problems?.[0].message ?? '', /aliases .* expand too far/);
  });

  it('refuses an impossible plan with the planner’s explanation, counting only ready machines', async () => {
    const res = await plan(clusterFile({ workers: 4 }), viewer);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'INGOT_VALIDATION');
    assert.equal(res.body.details.stage, 'plan');
    const [p] = res.body.details.problems ?? [];
    assert.equal(p.path, 'spec.workers[0].machines');
    assert.match(p.message, /needs 4 general machines, 3 match/);
    // Only ready machines are the inventory: w-new (new) is not among the 6.
    assert.match(p.message, /Of 6 machines: 3 not in pool general/);
  });

  it('refuses a plan that would lose etcd quorum with one zone, saying what would fix it', async () => {
    // Any ready machine in z1 or z2: three control planes on two zones, so one zone holds two.
    const res = await plan(
      clusterFile({ workers: 0 }).replace('{ pool: control }', '{ zones: [z1, z2] }'),
      viewer,
    );
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.code, 'INGOT_VALIDATION');
    assert.equal(res.body.details.stage, 'plan');
    const quorum = (res.body.details.problems ?? []).find((p) => /below quorum/.test(p.message));
    assert.ok(quorum, JSON.stringify(res.body.details.problems));
    assert.equal(quorum.path, 'spec.controlPlane.machines');
    assert.match(quorum.message, /losing zone "z\d" leaves 1 of 3 etcd members, below quorum 2/);
    assert.match(quorum.message, /candidates exist in 2 \(z1, z2\)/);
  });

  it('refuses a request without a token, and a body that is not a Cluster text', async () => {
    assert.equal((await plan(clusterFile(), null)).status, 401);
    const empty = await plan('', viewer);
    assert.equal(empty.status, 400);
    assert.equal(empty.body.details.field, 'cluster');
    const wrong = await r.api<ErrorBody>('POST', '/api/v1/clusters/plan', { file: 'x' }, viewer);
    assert.equal(wrong.status, 400);
    const huge = await plan(`# ${'x'.repeat(1024 * 1024)}\n${clusterFile()}`, viewer);
    assert.equal(huge.status, 400);
    assert.equal(huge.body.details.field, 'cluster');
  });

  it('reads every page of ready machines', async () => {
    // 1,000 ready machines first, then the three the plan asks for: they are on the second page.
    const store = r.region.store;
    for (let i = 0; i < 1000; i++) {
      await store.createMachine(
        {
          hostname: `filler-${i}`,
          arch: 'amd64',
          bmc: null,
          nics: [
            {
              mac: `52:54:01:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
              boot: true,
            },
          ],
          tags: [],
          zone: 'z9',
          rack: 'z9-r1',
          pool: 'filler',
          state: 'ready',
          stateReason: 'seeded',
        },
        'user:test',
      );
    }
    for (const [i, zone] of ['z1', 'z2', 'z3'].entries()) {
      await store.createMachine(
        {
          hostname: `late-${i}`,
          arch: 'amd64',
          bmc: null,
          nics: [{ mac: `52:54:02:00:00:0${i}`, boot: true }],
          tags: [],
          zone,
          rack: `${zone}-r3`,
          pool: 'late',
          state: 'ready',
          stateReason: 'seeded',
        },
        'user:test',
      );
    }
    const res = await plan(clusterFile({ cpPool: 'late', workers: 0 }), viewer);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.plan.etcd.members, ['late-0', 'late-1', 'late-2']);
  });
});
