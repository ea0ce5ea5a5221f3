import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, render, screen, within } from '@testing-library/react';
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

function region(clusters: ClusterSummary[]) {
  const impl = async (input: RequestInfo | URL) => {
    const path = new URL(String(input), 'http://ingot.test').pathname;
    const json = (b: unknown) => new Response(JSON.stringify(b), { status: 200 });
    if (path === '/api/v1/clusters') return json(clusters);
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
        me: token('viewer'),
        signOut: () => undefined,
      }}
    >
      <ClusterList />
    </SessionProvider>,
  );
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
});
