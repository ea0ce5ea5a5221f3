/**
 * Live events from the region's server-sent event stream.
 *
 * Read with fetch rather than EventSource: the server names each message by its event type
 * (`event: step.started`), and EventSource only delivers names it has a listener for, so new
 * types (dhcp.*, agent.*) would be silently dropped. fetch also sends the token as a header
 * instead of in the URL. After a drop it reconnects with `after=<last id>`, so nothing is
 * missed.
 *
 * Events arrive in bursts (commissioning 1,000 machines writes thousands), so they are handed
 * over in batches at most every `flushMs`: one React update per batch keeps the table smooth.
 */
import type { IngotEvent } from './types.ts';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'unauthorised';

export interface StreamOptions {
  /** Region base URL ('' for same origin). */
  base: string;
  token: string;
  machine?: string;
  /** Replay events after this id first. */
  after?: number;
  onBatch: (events: IngotEvent[]) => void;
  onStatus?: (s: StreamStatus) => void;
  /** @default 250 ms */
  flushMs?: number;
  fetchImpl?: typeof fetch;
}

/** Splits SSE text into complete messages; returns them and the unfinished rest. */
export function parseSse(buffer: string): {
  messages: { id?: string; event?: string; data: string }[];
  rest: string;
} {
  const messages: { id?: string; event?: string; data: string }[] = [];
  const blocks = buffer.replace(/\r\n/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    const m: { id?: string; event?: string; data: string } = { data: '' };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'id') m.id = value;
      else if (field === 'event') m.event = value;
    }
    if (data.length > 0) messages.push({ ...m, data: data.join('\n') });
  }
  return { messages, rest };
}

export function openEventStream(o: StreamOptions): () => void {
  const doFetch = o.fetchImpl ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const flushMs = o.flushMs ?? 250;
  const ctrl = new AbortController();
  let lastId = o.after;
  let pending: IngotEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    const batch = pending;
    pending = [];
    if (batch.length > 0 && !ctrl.signal.aborted) o.onBatch(batch);
  };

  const run = async () => {
    let backoff = 500;
    while (!ctrl.signal.aborted) {
      try {
        const p = new URLSearchParams();
        if (o.machine) p.set('machine', o.machine);
        if (lastId !== undefined) p.set('after', String(lastId));
        const qs = p.toString();
        const res = await doFetch(`${o.base}/api/v1/events${qs ? `?${qs}` : ''}`, {
          headers: { authorization: `Bearer ${o.token}`, accept: 'text/event-stream' },
          signal: ctrl.signal,
        });
        if (res.status === 401 || res.status === 403) {
          o.onStatus?.('unauthorised');
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        o.onStatus?.('live');
        backoff = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const parsed = parseSse(buffer + value);
          buffer = parsed.rest;
          for (const m of parsed.messages) {
            try {
              const e = JSON.parse(m.data) as IngotEvent;
              lastId = e.id;
              pending.push(e);
            } catch {
              // a malformed message: skip it, keep the stream
            }
          }
          if (pending.length > 0) timer ??= setTimeout(flush, flushMs);
        }
      } catch {
        if (ctrl.signal.aborted) return;
      }
      o.onStatus?.('reconnecting');
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 10_000);
    }
  };
  o.onStatus?.('connecting');
  void run();
  return () => {
    ctrl.abort();
    if (timer) clearTimeout(timer);
  };
}
