import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { SessionProvider } from '../../auth/session.tsx';
import { fakeClient, machine, token } from '../../test-support/fake-api.ts';
import { MachineList } from './MachineList.tsx';

const machines = [
  machine({ id: 'a', hostname: 'node-a' }),
  machine({ id: 'b', hostname: 'node-b', state: 'deployed' }),
];

function renderAs(role: 'viewer' | 'operator') {
  const client = fakeClient(machines, { role });
  return render(
    <SessionProvider session={{ client, me: token(role), signOut: () => undefined }}>
      <MachineList />
    </SessionProvider>,
  );
}

describe('MachineList', () => {
  const realFetch = globalThis.fetch;
  beforeEach(() => {
    // The live stream: accepted, then silent.
    globalThis.fetch = (async () =>
      new Response(new ReadableStream({ start() {} }), { status: 200 })) as typeof fetch;
    window.history.replaceState(null, '', '/machines?state=ready,deployed');
  });
  afterEach(() => {
    cleanup();
    globalThis.fetch = realFetch;
  });

  it('shows a viewer the machines but no action buttons or checkboxes', async () => {
    renderAs('viewer');
    await waitFor(() => screen.getByRole('row', { name: 'node-b' }));
    assert.equal(screen.queryByRole('button', { name: /^Commission/ }), null);
    assert.equal(screen.queryAllByRole('checkbox').filter((c) => c.closest('.machine-grid')).length, 0);
  });

  it('gives an operator the bulk actions', async () => {
    renderAs('operator');
    await waitFor(() => screen.getByRole('row', { name: 'node-a' }));
    screen.getByRole('button', { name: /^Commission/ });
    screen.getByRole('checkbox', { name: 'Select node-a' });
  });

  it('reads its filters from the URL', async () => {
    renderAs('viewer');
    await waitFor(() => screen.getByText('2 machines'));
    assert.match(screen.getByText(/^Ready, Deployed$/).textContent ?? '', /Ready, Deployed/);
  });
});
