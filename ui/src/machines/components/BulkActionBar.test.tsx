import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ApiClient } from '../../api/client.ts';
import type { Machine } from '../../api/types.ts';
import { fakeClient, image, machine } from '../../test-support/fake-api.ts';
import { BulkActionBar } from './BulkActionBar.tsx';

describe('BulkActionBar', () => {
  afterEach(cleanup);
  const selected = Array.from({ length: 10 }, (_, i) => machine({ id: `m${i}`, hostname: `node-${i}` }));
  const renderBar = (machines: Machine[], client: ApiClient) =>
    render(
      <BulkActionBar
        selected={machines}
        act={client.act}
        listImages={client.listImages}
        onClear={() => undefined}
      />,
    );

  it('should show the failure count for 2 machines and list them', async () => {
    const client = fakeClient(selected, {
      failAction: (id) => (id === 'm4' || id === 'm9' ? 'BMC unreachable' : null),
    });
    renderBar(selected, client);
    fireEvent.click(screen.getByRole('button', { name: /^Commission/ }));
    await waitFor(() =>
      screen.getByText('commission: accepted for 8, failed for 2 machines: BMC unreachable'),
    );
    assert.match(
      screen.getByText('Show 2 failures').closest('details')?.textContent ?? '',
      /node-4: BMC unreachable.*node-9: BMC unreachable/,
    );
  });

  it('asks before a destructive action and does nothing on cancel', async () => {
    const client = fakeClient(selected);
    renderBar(selected, client);
    fireEvent.click(screen.getByRole('button', { name: /^Power off/ }));
    assert.match(
      screen.getByRole('group', { name: 'Confirm action' }).textContent ?? '',
      /Power off 10 machines\?/,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    assert.equal(screen.queryByRole('group', { name: 'Confirm action' }), null);
    assert.equal(screen.queryByText(/power-off:/), null);
  });

  it('deploys with the OS image the user picks among the ready ones, and sends it with every request', async () => {
    const sent: { id: string; action: string; body: Record<string, unknown> }[] = [];
    const client = fakeClient(selected.slice(0, 3), {
      images: [
        image({ name: 'debian-12', createdAt: '2026-11-20T00:00:00.000Z' }),
        image({
          name: 'ubuntu-24.04',
          format: 'qcow2',
          compression: 'none',
          createdAt: '2026-11-21T00:00:00.000Z',
        }),
        image({ name: 'half-imported', status: 'importing' }),
        image({ name: 'broken-url', status: 'failed' }),
        image({ name: 'boot', kind: 'boot' }),
      ],
      onAction: (id, action, body) => sent.push({ id, action, body }),
    });
    renderBar(selected.slice(0, 3), client);
    fireEvent.click(screen.getByRole('button', { name: /^Deploy/ }));
    assert.equal(sent.length, 0, 'nothing is sent before an image is chosen');
    const select = (await screen.findByRole('combobox')) as HTMLSelectElement;
    assert.deepEqual(
      [...select.options].map((x) => x.value),
      ['ubuntu-24.04', 'debian-12'],
      'ready OS images only, the newest first',
    );
    assert.equal(select.value, 'ubuntu-24.04');
    fireEvent.change(select, { target: { value: 'debian-12' } });
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => screen.getByText('deploy: accepted for 3 machines'));
    assert.deepEqual(
      sent.map((s) => [s.id, s.action, s.body.params]),
      [0, 1, 2].map((i) => [`m${i}`, 'deploy', { image: 'debian-12' }]),
    );
  });

  it('says how to get an OS image when none is ready, and sends nothing', async () => {
    const sent: string[] = [];
    const client = fakeClient(selected.slice(0, 1), {
      images: [image({ name: 'boot', kind: 'boot' })],
      onAction: (id) => sent.push(id),
    });
    renderBar(selected.slice(0, 1), client);
    fireEvent.click(screen.getByRole('button', { name: /^Deploy/ }));
    await screen.findByText(/No OS image is ready/);
    assert.equal(screen.queryByRole('button', { name: 'Deploy' }), null);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    assert.equal(sent.length, 0);
    screen.getByRole('button', { name: /^Deploy/ });
  });

  it('disables the actions while nothing is selected', () => {
    render(
      <BulkActionBar
        selected={[]}
        act={fakeClient([]).act}
        listImages={fakeClient([]).listImages}
        onClear={() => undefined}
      />,
    );
    assert.ok(screen.getAllByRole('button').every((b) => (b as HTMLButtonElement).disabled));
    screen.getByText('Select machines to act on them');
  });
});
