import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { ApiClient } from '../api/client.ts';
import { SessionProvider } from '../auth/session.tsx';
import { token } from '../test-support/fake-api.ts';
import { ClusterList, type ClusterSummary } from './ClusterList.tsx';

const LAB: ClusterSummary = {
  id: 'c-1',
  name: 'lab',
  state: 'failed_creating',
  stateReason: 'w-2 failed to bootstrap: kubeadm join: etcd timeout',
  stateEnteredAt: '2026-12-02T10:00:00.000Z',
  distribution: 'kubeadm',
  version: 'v1.30.2',
  endpoint: 'https://10.30.0.10:6443',
  members: [
    { machineId: 'm-1', hostname: 'cp-1', role: 'init', order: 0, address: '10.30.0.2/22' },
    { machineId: 'm-2', hostname: 'w-2', role: 'worker', order: 1, address: '10.30.0.3/22' },
  ],
  conditions: {
    checkedAt: '2026-12-02T10:00:00.000Z',
    apiReachable: true,
    apiError: null,
    etcd: { healthy: 1, members: 1, quorum: true },
    nodes: { ready: 1, total: 2 },
    certificatesExpireAt: '2027-12-02T10:00:00.000Z',
  },
  hasKubeconfig: true,
  allowedActions: ['delete', 'retry'],
  createdAt: '2026-12-02T09:00:00.000Z',
  updatedAt: '2026-12-02T10:00:00.000Z',
};
/** LAB once created: the scale controls' cluster. */
const RUNNING: ClusterSummary = {
  ...LAB,
  state: 'running',
  stateReason: 'created',
  allowedActions: ['delete', 'scale'],
};

const EVENTS = [
  { id: 1, machineId: null, level: 'info', message: 'create: planned 2 nodes' },
  { id: 2, machineId: 'm-1', level: 'info', message: 'cp-1: kubeadm init done' },
  { id: 3, machineId: 'm-2', level: 'info', message: 'w-2: images imported' },
  { id: 4, machineId: 'm-2', level: 'error', message: 'w-2: kubeadm join: etcd timeout' },
].map((e) => ({
  ...e,
  at: `2026-12-02T10:00:0${e.id}.000Z`,
  type: 'cluster.node.step',
  clusterId: 'c-1',
  jobId: 'j-1',
  actor: 'agent',
  data: {},
}));

const node = (hostname: string, role: string, over: Record<string, unknown>) => ({
  hostname,
  machineId: `m-${hostname}`,
  role,
  domain: 'z1/r1',
  state: 'pending',
  step: null,
  message: null,
  startedAt: null,
  endedAt: null,
  ...over,
});

const op = (id: string, state: string, reason: string, nodes: ReturnType<typeof node>[]) => ({
  id,
  clusterId: 'c-1',
  cluster: 'lab',
  kind: 'reconfigure',
  state,
  reason,
  params: { changes: [{ flag: 'max-requests-inflight', from: null, to: '411' }], maxUnavailable: 1 },
  progress: { snapshot: { state: 'done', id: 'snap-1', node: 'cp-1' }, nodes },
  jobId: 'j-2',
  actor: 'user:ops',
  createdAt: '2026-12-02T11:00:00.000Z',
  updatedAt: '2026-12-02T11:05:00.000Z',
  finishedAt: state === 'running' || state === 'paused' ? null : '2026-12-02T11:05:00.000Z',
});

/** The current operation (paused on w-2) and a past one that halted on w-2 and was aborted after. */
const OPERATIONS = [
  op('op-2', 'paused', 'paused by user:ops', [
    node('cp-1', 'init', { state: 'done', step: 'healthy', startedAt: '2026-12-02T11:00:01.000Z' }),
    node('w-2', 'worker', {
      state: 'running',
      step: 'drained',
      message: 'retried after: drain w-2: pod default/web-0 blocked by PDB default/web',
    }),
  ]),
  op('op-1', 'failed', 'halted: w-2: drain w-2: pod default/web-0 blocked by PDB default/web', [
    node('cp-1', 'init', { state: 'done', step: 'healthy' }),
    node('w-2', 'worker', {
      state: 'failed',
      message: 'drain w-2: pod default/web-0 blocked by PDB default/web',
    }),
  ]),
];

/** A region with CLUSTERS for a token of ROLE; returns every call other than a GET. */
function region(
  clusters: ClusterSummary[],
  role: 'viewer' | 'operator' = 'viewer',
  operations: unknown[] = [],
) {
  const calls: { method: string; url: string; body?: unknown }[] = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://ingot.test');
    const path = url.pathname;
    const json = (b: unknown, status = 200) => new Response(JSON.stringify(b), { status });
    if (init?.method && init.method !== 'GET') {
      if (path.endsWith('/scale')) {
        const body = JSON.parse(String(init.body)) as { workers: number };
        calls.push({ method: init.method, url: path, body });
        if (body.workers > 4)
          return new Response(
            JSON.stringify({
              code: 'INGOT_CONFLICT',
              message: 'workers: 4 more wanted, 2 ready machines in pool general; enrol or release some',
              details: {},
            }),
            { status: 409 },
          );
        return json({ cluster: { ...clusters[0], state: 'updating' }, job: null }, 202);
      }
      calls.push({ method: init.method, url: `${path}${url.search}` });
      if (path.includes('/operations/active/'))
        return json({ ...OPERATIONS[0], state: 'aborted', reason: 'aborted by user:ops' });
      return json({ cluster: { ...clusters[0], state: 'deleting' }, job: null }, 202);
    }
    if (path === '/api/v1/clusters') return json(clusters);
    if (path === '/api/v1/clusters/lab/operations') return json(operations);
    if (path === '/api/v1/clusters/lab/events') return json(url.searchParams.get('after') ? [] : EVENTS);
    const c = clusters.find((x) => path === `/api/v1/clusters/${x.name}`);
    if (c)
      return json({
        cluster: {
          ...c,
          members: c.members.map((m, i) => ({
            ...m,
            state: i === 0 ? 'deployed' : 'deploying',
            stateReason: 'r',
          })),
        },
        job: null,
      });
    return new Response('{"code":"INGOT_NOT_FOUND","message":"no","details":{}}', { status: 404 });
  };
  render(
    <SessionProvider
      session={{
        client: new ApiClient('ingot_test', '', impl as typeof fetch),
        me: token(role),
        signOut: () => undefined,
      }}
    >
      <ClusterList />
    </SessionProvider>,
  );
  return calls;
}

describe('ClusterList', () => {
  afterEach(cleanup);

  it('shows each cluster’s state and why, its conditions, and every node with its machine’s state', async () => {
    region([LAB]);
    const item = await screen.findByRole('article', { name: 'Cluster lab' });
    assert.match(item.textContent ?? '', /failed_creating/);
    assert.match(item.textContent ?? '', /w-2 failed to bootstrap: kubeadm join: etcd timeout/);
    assert.match(item.textContent ?? '', /nodes Ready 1\/2 · etcd 1\/1/);
    const nodes = within(item).getByRole('table', { name: 'Nodes of lab' });
    await within(nodes).findByText('deploying');
    const w2 = within(nodes).getByRole('row', { name: /w-2/ });
    assert.match(w2.textContent ?? '', /worker.*10\.30\.0\.3\/22.*deploying/);
  });

  it('says how to create one when the region has none', async () => {
    region([]);
    await screen.findByText(/ingot cluster create -f cluster\.yaml/);
  });

  it('shows each node’s newest step from the cluster’s timeline: which node stopped where', async () => {
    region([LAB]);
    const nodes = await screen.findByRole('table', { name: 'Nodes of lab' });
    await within(nodes).findByText(/w-2: kubeadm join: etcd timeout/);
    const cp1 = within(nodes).getByRole('row', { name: /cp-1/ });
    assert.match(cp1.textContent ?? '', /kubeadm init done/);
    const w2 = within(nodes).getByRole('row', { name: /w-2/ });
    assert.doesNotMatch(w2.textContent ?? '', /images imported/, 'only the newest step of each node');
    const timeline = screen.getByRole('list', { name: 'Timeline of lab' });
    assert.equal(within(timeline).getAllByRole('listitem').length, 4);
  });

  it('gives a viewer no actions', async () => {
    region([LAB]);
    await screen.findByRole('article', { name: 'Cluster lab' });
    assert.equal(screen.queryByRole('button', { name: /Delete|Retry/ }), null);
  });

  it('lets an operator delete after a confirmation, with the wipe mode chosen, and retry', async () => {
    const calls = region([LAB], 'operator');
    fireEvent.click(await screen.findByRole('button', { name: 'Delete…' }));
    assert.deepEqual(calls, [], 'nothing is sent before the confirmation');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    assert.deepEqual(calls, []);
    fireEvent.click(screen.getByRole('button', { name: 'Delete…' }));
    fireEvent.click(screen.getByRole('radio', { name: /Secure wipe/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete lab' }));
    await screen.findByText(/Delete lab: the region is on it/);
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await screen.findByText(/Retry lab: the region is on it/);
    assert.deepEqual(calls, [
      { method: 'DELETE', url: '/api/v1/clusters/lab?wipe=secure' },
      { method: 'POST', url: '/api/v1/clusters/lab/actions/retry' },
    ]);
  });

  it('lets an operator scale a running cluster’s workers: the count checked, the wipe asked for fewer, a refusal’s reason shown', async () => {
    const calls = region([RUNNING], 'operator');
    const form = await screen.findByRole('group', { name: 'Scale lab: workers' });
    const input = within(form).getByRole('spinbutton', { name: /Workers wanted/ });
    assert.equal((input as HTMLInputElement).value, '1', 'the workers it has now');
    assert.equal(within(form).getByRole('button', { name: 'Scale to 1' }).hasAttribute('disabled'), true);
    fireEvent.change(input, { target: { value: '-2' } });
    within(form).getByText(/a whole number of workers from 0 to 1000/);
    assert.equal(within(form).getByRole('button', { name: 'Scale' }).hasAttribute('disabled'), true);
    fireEvent.change(input, { target: { value: '3' } });
    assert.equal(within(form).queryByRole('combobox'), null, 'no wipe asked when adding');
    fireEvent.click(within(form).getByRole('button', { name: 'Scale to 3' }));
    await screen.findByText(/Scale lab to 3 workers: the region is on it/);
    fireEvent.change(input, { target: { value: '0' } });
    fireEvent.change(within(form).getByRole('combobox', { name: /Wipe of the 1 released/ }), {
      target: { value: 'secure' },
    });
    fireEvent.click(within(form).getByRole('button', { name: 'Scale to 0' }));
    await screen.findByText(/Scale lab to 0 workers: the region is on it/);
    fireEvent.change(input, { target: { value: '9' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Scale to 9' }));
    await screen.findByText(/Scale lab to 9 workers refused: workers: 4 more wanted, 2 ready machines/);
    assert.deepEqual(calls, [
      { method: 'POST', url: '/api/v1/clusters/lab/scale', body: { workers: 3 } },
      { method: 'POST', url: '/api/v1/clusters/lab/scale', body: { workers: 0, wipe: 'secure' } },
      { method: 'POST', url: '/api/v1/clusters/lab/scale', body: { workers: 9 } },
    ]);
  });

  it('lets an operator scale the control planes: odd counts only, in a scale request of their own', async () => {
    const calls = region([RUNNING], 'operator');
    const form = await screen.findByRole('group', { name: 'Scale lab: control planes' });
    within(form).getByText('Control planes (1 now)');
    const input = within(form).getByRole('spinbutton', { name: /Control planes wanted/ });
    assert.equal((input as HTMLInputElement).value, '1', 'the init control plane');
    for (const bad of ['2', '0', '101']) {
      fireEvent.change(input, { target: { value: bad } });
      within(form).getByText(/an odd number of control planes from 1 to 99/);
      assert.equal(within(form).getByRole('button', { name: 'Scale' }).hasAttribute('disabled'), true, bad);
    }
    fireEvent.change(input, { target: { value: '3' } });
    assert.equal(within(form).queryByRole('combobox'), null, 'no wipe asked when adding');
    fireEvent.click(within(form).getByRole('button', { name: 'Scale to 3' }));
    await screen.findByText(/Scale lab to 3 control planes: the region is on it/);
    assert.deepEqual(calls, [
      { method: 'POST', url: '/api/v1/clusters/lab/scale', body: { controlPlanes: 3 } },
    ]);
  });

  it('offers no control-plane scale for external etcd members or a distribution other than kubeadm', async () => {
    const etcd = {
      machineId: 'm-9',
      hostname: 'etcd-1',
      role: 'etcd' as const,
      order: 9,
      address: '10.30.0.9/22',
    };
    region(
      [
        { ...RUNNING, id: 'c-1', name: 'ext', members: [...LAB.members, etcd] },
        { ...RUNNING, id: 'c-2', name: 'k3s', distribution: 'k3s' },
        { ...RUNNING, id: 'c-3', name: 'kubeadm' },
      ],
      'operator',
    );
    await screen.findByRole('group', { name: 'Scale kubeadm: control planes' });
    for (const name of ['ext', 'k3s']) {
      screen.getByRole('group', { name: `Scale ${name}: workers` });
      assert.equal(screen.queryByRole('group', { name: `Scale ${name}: control planes` }), null, name);
    }
  });

  it('gives a viewer no scale control', async () => {
    region([RUNNING]);
    await screen.findByRole('article', { name: 'Cluster lab' });
    assert.equal(screen.queryByRole('group', { name: /^Scale lab/ }), null);
  });

  it('shows the current operation with each node’s state, step done and why, and the past ones', async () => {
    region([LAB], 'viewer', OPERATIONS);
    const ops = await screen.findByRole('region', { name: 'Operations of lab' });
    within(ops).getByRole('heading', {
      name: /Current operation: reconfigure \(max-requests-inflight=411\)/,
    });
    assert.match(ops.textContent ?? '', /paused by user:ops/);
    assert.match(ops.textContent ?? '', /etcd snapshot snap-1 on cp-1/);
    const current = within(ops).getByRole('table', { name: 'Progress of reconfigure op-2 on lab' });
    const w2 = within(current).getByRole('row', { name: /w-2/ });
    assert.match(
      w2.textContent ?? '',
      /worker.*running.*drained.*retried after: drain w-2: .*blocked by PDB default\/web/,
    );
    assert.match(within(current).getByRole('row', { name: /cp-1/ }).textContent ?? '', /done.*healthy/);
    const past = within(ops).getByRole('table', { name: 'Progress of reconfigure op-1 on lab' });
    assert.match(within(past).getByRole('row', { name: /w-2/ }).textContent ?? '', /failed.*blocked by PDB/);
    assert.match(ops.textContent ?? '', /halted: w-2: drain w-2/);
    assert.equal(within(ops).queryByRole('button'), null, 'a viewer gets no controls');
  });

  it('gives an operator the controls the current operation’s state allows', async () => {
    const calls = region([LAB], 'operator', OPERATIONS);
    const ops = await screen.findByRole('region', { name: 'Operations of lab' });
    assert.deepEqual(
      within(ops)
        .getAllByRole('button')
        .map((b) => b.textContent),
      ['Resume reconfigure', 'Abort reconfigure'],
    );
    fireEvent.click(within(ops).getByRole('button', { name: 'Abort reconfigure' }));
    await within(ops).findByText(/aborted by user:ops/);
    assert.deepEqual(calls, [{ method: 'POST', url: '/api/v1/clusters/lab/operations/active/abort' }]);
  });

  it("offers no abort for a remediation's replacement or a control-plane scale (they run to their end), and shows a scale's nodes", async () => {
    const remediate = {
      ...op('op-3', 'running', 'w-2 replaced by w-3 (remediation by remediator)', [
        node('w-3', 'worker', { state: 'running', step: 'joined', message: 'joined as worker' }),
        node('w-2', 'worker', {
          state: 'running',
          step: 'deleted',
          message: 'Node deleted (broken: not drained)',
        }),
      ]),
      kind: 'remediate',
      params: {
        changes: [],
        maxUnavailable: 1,
        scale: { add: ['w-3'], remove: ['w-2'], controlPlanes: false },
      },
    };
    region([LAB], 'operator', [remediate]);
    const ops = await screen.findByRole('region', { name: 'Operations of lab' });
    const current = within(ops).getByRole('table', { name: 'Progress of remediate op-3 on lab' });
    assert.match(within(current).getByRole('row', { name: /w-2/ }).textContent ?? '', /running.*deleted/);
    assert.deepEqual(
      within(ops)
        .getAllByRole('button')
        .map((b) => b.textContent),
      ['Pause remediate'],
    );
    cleanup();
    const cpScale = {
      ...remediate,
      kind: 'scale',
      params: { ...remediate.params, scale: { add: ['cp-2'], remove: [], controlPlanes: true } },
    };
    region([LAB], 'operator', [cpScale]);
    const ops2 = await screen.findByRole('region', { name: 'Operations of lab' });
    assert.deepEqual(
      within(ops2)
        .getAllByRole('button')
        .map((b) => b.textContent),
      ['Pause scale'],
    );
  });
});
