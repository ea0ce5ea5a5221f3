import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { ApiClient } from '../api/client.ts';
import { SessionProvider } from '../auth/session.tsx';
import { token } from '../test-support/fake-api.ts';
import type { ClusterPlan, PlanResult } from './api.ts';
import { Clusters } from './Clusters.tsx';
import { node, row } from './test-fixtures.ts';
import { SAMPLE_CLUSTER } from './sample.ts';

const PLAN: ClusterPlan = {
  cluster: 'sample',
  distribution: 'kubeadm',
  version: 'v1.34.1',
  endpoint: 'https://10.20.0.20:6443',
  etcd: { topology: 'stacked', members: ['cp-1', 'cp-2', 'cp-3'], quorum: 2 },
  nodes: [
    node({
      hostname: 'cp-1',
      role: 'control-plane',
      pool: 'control-plane',
      zone: 'z1',
      rack: 'r1',
      init: true,
    }),
    node({ hostname: 'cp-2', role: 'control-plane', pool: 'control-plane', zone: 'z1', rack: 'r2' }),
    node({ hostname: 'cp-3', role: 'control-plane', pool: 'control-plane', zone: 'z2', rack: 'r3' }),
    node({ hostname: 'w-1', zone: 'z2', rack: 'r3', address: '10.20.0.19/22' }),
  ],
  whatIf: [
    row({
      name: 'z1',
      lost: { controlPlanes: 2, etcd: 0, workers: 0 },
      etcdSurvivors: 1,
      quorum: false,
      apiAvailable: false,
      workersSurviving: 1,
      workersTotal: 1,
    }),
    row({
      name: 'z2',
      lost: { controlPlanes: 1, etcd: 0, workers: 1 },
      etcdSurvivors: 2,
      workersSurviving: 0,
      workersTotal: 1,
    }),
    row({ domain: 'rack', name: 'r1', lost: { controlPlanes: 1, etcd: 0, workers: 0 }, etcdSurvivors: 2 }),
  ],
  warnings: ['a warning from the planner'],
};

interface Call {
  path: string;
  body: { cluster: string };
}

/** A region that answers the plan route with `answer` and records what was sent. */
function region(
  answer: (body: { cluster: string }, path: string) => { status: number; body: unknown },
  role: 'viewer' | 'operator' = 'viewer',
) {
  const calls: Call[] = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit) => {
    const path = new URL(String(input), 'http://ingot.test').pathname;
    // The list of live clusters above the planner (ClusterList.test.tsx tests it).
    if (path === '/api/v1/clusters' && (init?.method ?? 'GET') === 'GET')
      return new Response('[]', { status: 200 });
    const body = JSON.parse(String(init?.body ?? '{}'));
    calls.push({ path, body });
    const a = answer(body, path);
    return new Response(JSON.stringify(a.body), { status: a.status });
  };
  const client = new ApiClient('ingot_test', '', impl as typeof fetch);
  render(
    <SessionProvider session={{ client, me: token(role), signOut: () => undefined }}>
      <Clusters />
    </SessionProvider>,
  );
  return calls;
}

const planned = (): { status: number; body: PlanResult } => ({
  status: 200,
  body: { plan: PLAN, text: 'Cluster sample: kubeadm v1.34.1\n' },
});

describe('Clusters', () => {
  beforeEach(() => {
    sessionStorage.clear();
    window.history.replaceState(null, '', '/clusters');
  });
  afterEach(cleanup);

  it('starts from the sample and plans it for a viewer', async () => {
    const calls = region(planned);
    const editor = screen.getByLabelText('Cluster file (YAML)') as HTMLTextAreaElement;
    assert.equal(editor.value, SAMPLE_CLUSTER);
    fireEvent.click(screen.getByRole('button', { name: 'Plan' }));
    await screen.findByRole('heading', { name: /Cluster sample/ });
    assert.deepEqual(calls, [{ path: '/api/v1/clusters/plan', body: { cluster: SAMPLE_CLUSTER } }]);
    const summary = screen.getByRole('heading', { name: /Cluster sample/ }).closest('section')!;
    assert.match(summary.textContent ?? '', /kubeadm v1\.34\.1/);
    assert.match(summary.textContent ?? '', /https:\/\/10\.20\.0\.20:6443/);
    assert.match(summary.textContent ?? '', /stacked, 3 members, quorum 2: cp-1, cp-2, cp-3/);
    assert.match(summary.textContent ?? '', /Loss of one zone.*not survived.*losing zone z1/);
    assert.match(summary.textContent ?? '', /Warning: a warning from the planner/);
  });

  it('lets an operator create the cluster as planned, and not from a file changed since', async () => {
    const calls = region(
      (_body, path) =>
        path === '/api/v1/clusters'
          ? {
              status: 202,
              body: { cluster: { name: 'sample', stateReason: 'allocating 4 machines.' }, job: null },
            }
          : planned(),
      'operator',
    );
    fireEvent.click(screen.getByRole('button', { name: 'Plan' }));
    const create = await screen.findByRole('button', { name: 'Create cluster sample' });
    const editor = screen.getByLabelText('Cluster file (YAML)') as HTMLTextAreaElement;
    fireEvent.change(editor, { target: { value: `${SAMPLE_CLUSTER}\n# edited` } });
    assert.equal((create as HTMLButtonElement).disabled, true, 'a stale plan cannot be created');
    fireEvent.change(editor, { target: { value: SAMPLE_CLUSTER } });
    fireEvent.click(create);
    await screen.findByText(/Creating cluster sample: allocating 4 machines\./);
    assert.deepEqual(calls, [
      { path: '/api/v1/clusters/plan', body: { cluster: SAMPLE_CLUSTER } },
      { path: '/api/v1/clusters', body: { cluster: SAMPLE_CLUSTER } },
    ]);
  });

  it('offers a viewer no create', async () => {
    region(planned);
    fireEvent.click(screen.getByRole('button', { name: 'Plan' }));
    await screen.findByRole('heading', { name: /Cluster sample/ });
    assert.equal(screen.queryByRole('button', { name: /Create cluster/ }), null);
  });

  it('says in words which losses keep quorum and the API and which do not', async () => {
    region(planned);
    fireEvent.click(screen.getByRole('button', { name: 'Plan' }));
    const table = await screen.findByRole('table', { name: /each zone and rack/ });
    const z1 = within(table).getByRole('row', { name: /Zone z1/ });
    assert.match(z1.textContent ?? '', /2 control planes/);
    assert.match(z1.textContent ?? '', /1 of 3/);
    assert.match(z1.textContent ?? '', /LOST/);
    assert.match(z1.textContent ?? '', /DOWN/);
    const z2 = within(table).getByRole('row', { name: /Zone z2/ });
    assert.match(z2.textContent ?? '', /1 control plane, 1 worker/);
    assert.match(z2.textContent ?? '', /kept/);
    assert.match(z2.textContent ?? '', /up/);
    assert.match(z2.textContent ?? '', /0 of 1/);
    within(table).getByRole('row', { name: /Rack r1/ });
  });

  it('lists the nodes by zone and rack, linking each to its machine', async () => {
    region(planned);
    fireEvent.click(screen.getByRole('button', { name: 'Plan' }));
    const z2 = await screen.findByRole('table', { name: 'Nodes in zone z2, by rack' });
    const rows = within(z2).getAllByRole('row').slice(1);
    assert.deepEqual(
      rows.map((r) => r.textContent),
      ['r3cp-3Control plane—10.0.0.10/24', 'w-1Workergeneral10.20.0.19/22'],
    );
    assert.equal(within(z2).getByRole('link', { name: 'w-1' }).getAttribute('href'), '/machines/m-w-1');
    const z1 = screen.getByRole('table', { name: 'Nodes in zone z1, by rack' });
    assert.match(within(z1).getAllByRole('row')[1].textContent ?? '', /cp-1Control plane \(init\)/);
  });

  it('shows every problem of a refused Cluster file with its path', async () => {
    region(() => ({
      status: 400,
      body: {
        code: 'INGOT_VALIDATION',
        message:
          'Cluster file has 2 problems:\n  spec.controlPlane.count: must be one of 1, 3, 5\n  spec.workerz: is not a known field',
        details: {
          stage: 'cluster-file',
          field: 'spec.controlPlane.count',
          problems: [
            { path: 'spec.controlPlane.count', message: 'must be one of 1, 3, 5' },
            { path: 'spec.workerz', message: 'is not a known field' },
          ],
        },
      },
    }));
    fireEvent.click(screen.getByRole('button', { name: 'Plan' }));
    const alert = await screen.findByRole('alert');
    assert.match(alert.textContent ?? '', /The Cluster file has problems · 2 problems/);
    assert.deepEqual(
      within(alert)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
      ['spec.controlPlane.count: must be one of 1, 3, 5', 'spec.workerz: is not a known field'],
    );
    assert.equal(screen.queryByRole('table'), null);
  });

  it('says when the machines cannot carry the plan', async () => {
    region(() => ({
      status: 400,
      body: {
        code: 'INGOT_VALIDATION',
        message: 'Plan has 1 problem:\n  spec.workers[0].machines: needs 4 general machines, 3 match',
        details: {
          stage: 'plan',
          problems: [{ path: 'spec.workers[0].machines', message: 'needs 4 general machines, 3 match' }],
        },
      },
    }));
    fireEvent.click(screen.getByRole('button', { name: 'Plan' }));
    const alert = await screen.findByRole('alert');
    assert.match(alert.textContent ?? '', /cannot be made on this region’s ready machines/);
    assert.match(alert.textContent ?? '', /spec\.workers\[0\]\.machines: needs 4 general machines/);
  });

  it('plans the edited text with Ctrl+Enter and flags a plan made from an older text', async () => {
    const calls = region(planned);
    const editor = screen.getByLabelText('Cluster file (YAML)');
    fireEvent.change(editor, { target: { value: 'kind: Cluster\n' } });
    fireEvent.keyDown(editor, { key: 'Enter', ctrlKey: true });
    await screen.findByRole('heading', { name: /Cluster sample/ });
    assert.equal(calls[0].body.cluster, 'kind: Cluster\n');
    assert.equal(screen.queryByText(/changed since this plan/), null);
    fireEvent.change(editor, { target: { value: 'kind: Cluster\n# edited\n' } });
    screen.getByText(/changed since this plan/);
    fireEvent.click(screen.getByRole('button', { name: 'Reset to sample' }));
    assert.equal((editor as HTMLTextAreaElement).value, SAMPLE_CLUSTER);
  });
});
