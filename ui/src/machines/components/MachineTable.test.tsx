import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { machine } from '../../test-support/fake-api.ts';
import { MachineTable } from './MachineTable.tsx';

const many = Array.from({ length: 10_000 }, (_, i) => machine({ id: `m${i}`, hostname: `node-${i}` }));
const noop = () => undefined;

describe('MachineTable', () => {
  afterEach(cleanup);

  it('renders only the rows in view out of 10,000', () => {
    render(
      <MachineTable
        machines={many}
        total={many.length}
        selectable={false}
        selected={new Set()}
        onToggle={noop}
        onToggleAll={noop}
        sort={null}
        onSort={noop}
      />,
    );
    const rows = screen.getAllByRole('row');
    assert.ok(rows.length > 10 && rows.length < 60, `${rows.length} rows`);
    assert.equal(screen.getByRole('grid').getAttribute('aria-rowcount'), '10001');
  });

  it('shows state and power as words, not colour alone', () => {
    render(
      <MachineTable
        machines={[machine({ state: 'failed_deploying', powerState: 'on' })]}
        total={1}
        selectable={false}
        selected={new Set()}
        onToggle={noop}
        onToggleAll={noop}
        sort={null}
        onSort={noop}
      />,
    );
    const row = screen.getByRole('row', { name: 'node-1' });
    assert.match(row.textContent ?? '', /Failed deploying/);
    assert.match(row.textContent ?? '', /On/);
  });

  it('opens the machine on Enter and selects it on Space', () => {
    const toggled: string[] = [];
    render(
      <MachineTable
        machines={many.slice(0, 5)}
        total={5}
        selectable
        selected={new Set()}
        onToggle={(id) => toggled.push(id)}
        onToggleAll={noop}
        sort={null}
        onSort={noop}
      />,
    );
    const row = screen.getByRole('row', { name: 'node-2' });
    act(() => row.focus());
    fireEvent.keyDown(row, { key: ' ' });
    assert.deepEqual(toggled, ['m2']);
    fireEvent.keyDown(row, { key: 'Enter' });
    assert.equal(window.location.pathname, '/machines/m2');
  });

  it('moves focus with the arrow keys, one tab stop for the whole grid', () => {
    render(
      <MachineTable
        machines={many.slice(0, 5)}
        total={5}
        selectable={false}
        selected={new Set()}
        onToggle={noop}
        onToggleAll={noop}
        sort={null}
        onSort={noop}
      />,
    );
    const first = screen.getByRole('row', { name: 'node-0' });
    assert.equal(screen.getAllByRole('row').filter((r) => r.tabIndex === 0).length, 1);
    act(() => first.focus());
    act(() => {
      fireEvent.keyDown(first, { key: 'ArrowDown' });
    });
    assert.equal(document.activeElement?.getAttribute('aria-label'), 'node-1');
  });

  it('shows loading rows for machines not fetched yet, keeping the scroll height', () => {
    render(
      <MachineTable
        machines={many.slice(0, 2)}
        total={5}
        selectable={false}
        selected={new Set()}
        onToggle={noop}
        onToggleAll={noop}
        sort={null}
        onSort={noop}
      />,
    );
    assert.equal(screen.getAllByText('Loading…').length, 3);
  });
});
