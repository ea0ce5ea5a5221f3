/**
 * Runs `run` now and then every `intervalMs` while `enabled`, one run at a time (the next is
 * scheduled when the previous one ends, so a slow region is never asked twice at once).
 * Skips runs while the tab is hidden. `refresh()` runs it at once, also when not enabled.
 * Unmounting aborts the run in flight.
 */
import { useCallback, useEffect, useRef, useState } from 'react';

export function usePoll(
  run: (signal: AbortSignal) => Promise<void>,
  o: { intervalMs: number; enabled: boolean },
): { refresh: () => void; busy: boolean } {
  const [nonce, setNonce] = useState(0);
  const [busy, setBusy] = useState(false);
  const runRef = useRef(run);
  runRef.current = run;

  // biome-ignore lint/correctness/useExhaustiveDependencies: nonce is how refresh() restarts the loop
  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (first: boolean) => {
      if (abort.signal.aborted) return;
      if (first || !document.hidden) {
        setBusy(true);
        try {
          await runRef.current(abort.signal);
        } catch {
          // run reports its own errors; a rejected run must not stop the loop
        } finally {
          if (!abort.signal.aborted) setBusy(false);
        }
      }
      if (o.enabled && !abort.signal.aborted) timer = setTimeout(() => void tick(false), o.intervalMs);
    };
    void tick(true);
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [nonce, o.enabled, o.intervalMs]);

  return { refresh: useCallback(() => setNonce((n) => n + 1), []), busy };
}
