import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { fakeClient, machine } from '../../test-support/fake-api.ts';
import { BulkActionBar } from './BulkActionBar.tsx';

describe('BulkActionBar', () => {
  afterEach(cleanup);
  const selected = Array.from({ length: 10 }, (_, i) => machine({ id: `m${i}`, hostname: `node-${i}` }));

  it('should show the failure count for 2 machines and list them', async () => {
    const client = fakeClient(selected, {
      failAction: (id) => (id === 'm4' || id === 'm9' ? 'BMC unreachable' : null),
    });
    render(<BulkActionBar selected={selected} act={client.act} onClear={() => undefined} />);
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
    render(<BulkActionBar selected={selected} act={client.act} onClear={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: /^Power off/ }));
    assert.match(
      screen.getByRole('group', { name: 'Confirm action' }).textContent ?? '',
      /Power off 10 machines\?/,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    assert.equal(screen.queryByRole('group', { name: 'Confirm action' }), null);
    assert.equal(screen.queryByText(/power-off:/), null);
  });

  it('disables the actions while nothing is selected', () => {
    render(<BulkActionBar selected={[]} act={fakeClient([]).act} onClear={() => undefined} />);
    assert.ok(screen.getAllByRole('button').every((b) => (b as HTMLButtonElement).disabled));
    screen.getByText('Select machines to act on them');
  });
});
