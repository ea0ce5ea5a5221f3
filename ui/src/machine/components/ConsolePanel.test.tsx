import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ConsoleTail } from '../api.ts';
import { ConsolePanel } from './ConsolePanel.tsx';

/** A console log that grows by one line per read. */
function growingLog(first = 0) {
  const calls = { n: 0 };
  const load = async (): Promise<ConsoleTail> => {
    const lines = Array.from({ length: first + calls.n + 1 }, (_, i) => `line ${i + 1}`);
    calls.n++;
    const text = `${lines.join('\r\n')}\r\n`;
    return { kind: 'log', text, size: text.length };
  };
  return { load, calls };
}

/** jsdom has no layout: give the log a scroll height and a settable scroll position. */
function layout(pre: HTMLElement, scrollHeight: number) {
  Object.defineProperty(pre, 'scrollHeight', { configurable: true, get: () => scrollHeight });
  Object.defineProperty(pre, 'clientHeight', { configurable: true, get: () => 300 });
  let top = 0;
  Object.defineProperty(pre, 'scrollTop', {
    configurable: true,
    get: () => top,
    set: (v: number) => {
      top = v;
    },
  });
}

describe('ConsolePanel', () => {
  afterEach(cleanup);

  it('shows the tail of the log in a focusable monospace box', async () => {
    const { load } = growingLog(2);
    render(<ConsolePanel load={load} live={false} />);
    const log = await screen.findByLabelText('Serial console output');
    assert.equal(log.tagName, 'PRE');
    assert.equal(log.getAttribute('tabindex'), '0');
    assert.equal(log.textContent, 'line 1\nline 2\nline 3\n');
    screen.getByText('The machine is off: the log is not followed.');
  });

  it('follows the log while the machine is on, pinned to the bottom', async () => {
    const { load, calls } = growingLog();
    render(<ConsolePanel load={load} live={true} intervalMs={5} />);
    const log = await screen.findByLabelText('Serial console output');
    layout(log, 5000);
    await waitFor(() => assert.ok(calls.n >= 3));
    await waitFor(() => assert.equal(log.scrollTop, 5000));
    screen.getByText(/Following: refreshes every 0 s while the machine is on/);
    assert.match(log.textContent ?? '', /line 3\n/);
  });

  it('leaves the scroll position alone while the reader has scrolled up', async () => {
    const { load, calls } = growingLog();
    render(<ConsolePanel load={load} live={false} />);
    const log = await screen.findByLabelText('Serial console output');
    layout(log, 5000);
    log.scrollTop = 1200;
    fireEvent.scroll(log);
    fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() => assert.equal(calls.n, 2));
    await waitFor(() => assert.match(log.textContent ?? '', /line 2/));
    assert.equal(log.scrollTop, 1200);
  });

  it('reads the log again on demand when the machine is off', async () => {
    const { load, calls } = growingLog();
    render(<ConsolePanel load={load} live={false} intervalMs={5} />);
    await screen.findByText('line 1', { exact: false });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(calls.n, 1, 'an off machine is not polled');
    fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    await screen.findByText(/line 2/);
  });

  it('says there is no console log, with the region’s reason, on a 404', async () => {
    const load = async (): Promise<ConsoleTail> => ({
      kind: 'none',
      reason: 'machine node-1 has no console log: only lab machines log their serial console',
    });
    render(<ConsolePanel load={load} live={true} intervalMs={60_000} />);
    await screen.findByText(/No console log yet\./);
    screen.getByText(/only lab machines log their serial console/);
    assert.equal(screen.queryByLabelText('Serial console output'), null);
  });

  it('reports a failed read and keeps the log shown', async () => {
    let n = 0;
    const load = async (): Promise<ConsoleTail> => {
      if (n++ === 0) return { kind: 'log', text: 'login: ', size: 7 };
      throw new Error('the region did not answer');
    };
    render(<ConsolePanel load={load} live={false} />);
    await screen.findByText('login:', { exact: false });
    fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    await screen.findByText('Could not read the console: the region did not answer');
    assert.equal(screen.getByLabelText('Serial console output').textContent, 'login: ');
  });

  it('says how much of a long log it shows', async () => {
    const load = async (): Promise<ConsoleTail> => ({ kind: 'log', text: 'x', size: 3 * 2 ** 20 });
    render(<ConsolePanel load={load} live={false} />);
    await screen.findByText(/Showing the last 64 KiB of 3 MiB\./);
  });
});
