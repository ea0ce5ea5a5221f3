import { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { bytes } from '../../machines/format.ts';
import { CONSOLE_BYTES, type ConsoleTail, cleanConsole } from '../api.ts';
import { usePoll } from '../usePoll.ts';

/** How close to the end (px) still counts as "at the bottom": the view follows new output. */
const PIN_SLACK = 8;

/**
 * The tail of the machine's serial console (lab machines log theirs). Refreshes every
 * `intervalMs` while `live` (the machine is powered on) and on demand. The log stays scrolled
 * to the bottom unless the reader scrolled up to read something.
 */
export function ConsolePanel({
  load,
  live,
  intervalMs = 3000,
}: {
  load: (signal: AbortSignal) => Promise<ConsoleTail>;
  live: boolean;
  intervalMs?: number;
}) {
  const [tail, setTail] = useState<ConsoleTail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pre = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);

  const run = useCallback(
    async (signal: AbortSignal) => {
      try {
        const t = await load(signal);
        if (signal.aborted) return;
        setTail((old) =>
          old?.kind === 'log' && t.kind === 'log' && old.text === t.text && old.size === t.size ? old : t,
        );
        setError(null);
      } catch (e) {
        if (!signal.aborted) setError(e instanceof Error ? e.message : String(e));
      }
    },
    [load],
  );
  const { refresh, busy } = usePoll(run, { intervalMs, enabled: live });

  const text = useMemo(() => (tail?.kind === 'log' ? cleanConsole(tail.text) : ''), [tail]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: new text is what moves the view to the end
  useLayoutEffect(() => {
    const el = pre.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [text]);
  const onScroll = () => {
    const el = pre.current;
    if (el) pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - PIN_SLACK;
  };

  const truncated = tail?.kind === 'log' && tail.size > CONSOLE_BYTES;
  return (
    <div className="console-panel">
      <div className="console-bar">
        <span className="subtle">
          {tail === null
            ? 'Reading the console log…'
            : live
              ? `Following: refreshes every ${Math.round(intervalMs / 1000)} s while the machine is on.`
              : 'The machine is off: the log is not followed.'}
          {truncated && ` Showing the last ${bytes(CONSOLE_BYTES)} of ${bytes(tail.size)}.`}
        </span>
        <button type="button" className="small" onClick={refresh}>
          Refresh
        </button>
      </div>
      <p className="console-note" role="status">
        {error && `Could not read the console: ${error}`}
      </p>
      {tail?.kind === 'none' && (
        <p className="empty">
          No console log yet. {tail.reason && <span className="console-why">{tail.reason}</span>}
        </p>
      )}
      {tail?.kind === 'log' && (
        <pre
          ref={pre}
          className="console"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling log must be focusable to scroll it by keyboard
          tabIndex={0}
          // A log, but not a live region: a screen reader would read the whole tail at every refresh.
          role="log"
          aria-live="off"
          aria-label="Serial console output"
          aria-busy={busy}
          onScroll={onScroll}
        >
          {text || '(the log is empty so far)'}
        </pre>
      )}
    </div>
  );
}
