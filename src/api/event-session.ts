/**
 * One client's Server-Sent Events stream. A client that resumes (`?after=` or Last-Event-ID)
 * first gets the history page by page (src/api/replay-pages.ts: pages shared by every stream
 * replaying them), each page written only once the socket took the previous one, so a stream
 * replaying from 0 holds at most a page whatever the history (200 streams replaying a long
 * history once took a region from 201 to 463 MB for good). Live events that arrive during the
 * replay wait in a bounded buffer; if it overflows, the replay reads on from the store
 * instead. A client that stops reading while live events keep coming is closed once
 * `maxBufferedBytes` wait for it (it resumes with Last-Event-ID).
 *
 * The stream ends when its token is revoked (seen as the `token.revoked` event, so a
 * revocation on any region sharing the store counts) or expires.
 */
import type { ServerResponse } from 'node:http';
import type { IngotEvent } from '../core/event.ts';
import type { Store } from '../store/store.ts';
import type { EventTail } from './event-stream.ts';
import { type ReplayPages, sseMessage } from './replay-pages.ts';

export interface EventSessionOptions {
  readonly store: Store;
  readonly tail: EventTail;
  readonly pages: ReplayPages;
  readonly res: ServerResponse;
  /** Only this machine's events. */
  readonly machine?: string;
  /** Replay events after this id first; undefined: only events from now on. */
  readonly after?: number;
  /** The token the stream was opened with. */
  readonly token?: { readonly id: string; readonly expiresAt: string | null };
  /** Bytes waiting for a slow client before its stream is closed. @default 1 MiB */
  readonly maxBufferedBytes?: number;
  /** @default 15 s */
  readonly pingMs?: number;
}

export interface EventSession {
  /** Settles when the stream has ended, with why. */
  readonly closed: Promise<string>;
  close(reason: string): void;
}

/** Resolves once the socket takes more (true), or false when the response closed. */
function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  // 'drain' comes only after a write was refused; below the high-water mark, write on.
  if (!res.writableNeedDrain) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

export function startEventSession(o: EventSessionOptions): EventSession {
  const { res, machine, token } = o;
  const pageSize = o.pages.pageSize;
  const maxBuffered = o.maxBufferedBytes ?? 2 ** 20;
  let after = o.after;
  // Every stream starts with a replay, a live-only one from the newest id: events committed
  // while the shared tail is (re)starting would otherwise fall between the two.
  let replaying = true;
  let pending: IngotEvent[] = [];
  let overflowed = false;
  let ended = false;
  let settle: (reason: string) => void = () => {};
  const closed = new Promise<string>((resolve) => {
    settle = resolve;
  });

  const close = (reason: string) => {
    if (ended) return;
    ended = true;
    clearInterval(ping);
    if (expiry) clearTimeout(expiry);
    unsubscribe();
    if (!res.destroyed) res.end(`: closed: ${reason}\n\n`);
    settle(reason);
  };

  const write = (e: IngotEvent) => {
    if (ended) return;
    if (token && e.type === 'token.revoked' && e.data.id === token.id) return close('token revoked');
    if (machine && e.machineId !== machine) return;
    if (after !== undefined && e.id <= after) return;
    after = e.id;
    res.write(sseMessage(e));
    if (res.writableLength > maxBuffered) close('the client reads too slowly; resume with Last-Event-ID');
  };

  const onLive = (e: IngotEvent) => {
    if (ended) return;
    if (token && e.type === 'token.revoked' && e.data.id === token.id) return close('token revoked');
    if (!replaying) return write(e);
    if (pending.length < pageSize) pending.push(e);
    else overflowed = true;
  };

  const unsubscribe = o.tail.subscribe(onLive);
  const ping = setInterval(() => {
    if (!ended) res.write(': ping\n\n');
  }, o.pingMs ?? 15_000);
  const expiresIn = token?.expiresAt ? Date.parse(token.expiresAt) - Date.now() : null;
  // Timers hold at most 2^31-1 ms (24.8 days); a longer-lived token is checked again then.
  const expiry =
    expiresIn === null
      ? null
      : setTimeout(() => close('token expired'), Math.max(0, Math.min(expiresIn, 2 ** 31 - 1)));
  res.on('close', () => close('client went away'));
  res.write(': connected\n\n');

  const replay = async () => {
    if (after === undefined) {
      const [newest] = await o.store.listEvents({ limit: 1, newestFirst: true });
      after = newest?.id ?? 0;
    }
    while (replaying && !ended) {
      const page = await o.pages.get(after ?? 0, machine);
      if (ended) return;
      if (page.lastId !== null) {
        res.write(page.text);
        after = page.lastId;
      }
      if (page.count < pageSize) {
        if (overflowed) {
          // Live events were dropped while the buffer was full: they are in the store, read on.
          overflowed = false;
          pending = [];
          continue;
        }
        replaying = false;
        for (const e of pending.sort((a, b) => a.id - b.id)) write(e);
        pending = [];
        return;
      }
      if (!(await drained(res))) return;
    }
  };
  replay().catch(() => close('the store failed during the replay; reconnect'));
  return { closed, close };
}
