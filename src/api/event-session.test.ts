/**
 * One SSE client against a real SQLite store, the real event tail and a real HTTP server:
 * long replays arrive whole and in order, page by page as the client reads them; a revoked
 * token ends its stream; a client that stops reading live events is let go.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NewEvent } from '../core/event.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { eventually } from '../../test/support/region.ts';
import { type EventSession, type EventSessionOptions, startEventSession } from './event-session.ts';
import { EventTail } from './event-stream.ts';
import { ReplayPages } from './replay-pages.ts';

const PAGE = 100;

describe('an SSE client’s stream', () => {
  let dir: string;
  let store: SqlStore;
  let tail: EventTail;
  let server: Server;
  let port: number;
  let pagesRead = () => 0;
  let options: Partial<EventSessionOptions> = {};
  let session: EventSession | null = null;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-sse-'));
    store = await openStore({ dataDir: dir });
    tail = new EventTail(store, 20);
    // No sharing between streams here (a 0 ms lifetime): each page a stream asks for is a read.
    const pages = new ReplayPages(store, { pageSize: PAGE, ttlMs: 0 });
    server = createServer((req, res) => {
      const after = new URL(req.url ?? '/', 'http://x').searchParams.get('after');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      session = startEventSession({
        store,
        tail,
        pages,
        res,
        after: after === null ? undefined : Number(after),
        ...options,
      });
      pagesRead = () => pages.reads;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    tail.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const append = async (n: number, size = 16) => {
    for (let i = 0; i < n; i += 500) {
      const batch: NewEvent[] = [];
      for (let j = i; j < Math.min(n, i + 500); j++)
        batch.push({
          type: 'test.filler',
          actor: 'test',
          message: `event ${j}`,
          data: { pad: 'x'.repeat(size) },
        });
      await store.appendEvents(batch);
    }
  };

  /** A raw client whose reading can be paused; collects the event ids it has read. */
  function connect(query: string) {
    const ids: number[] = [];
    let text = '';
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(`GET /events${query} HTTP/1.1\r\nHost: x\r\n\r\n`),
    );
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      let cut = text.lastIndexOf('\n\n');
      if (cut < 0) return;
      cut += 2;
      for (const m of text.slice(0, cut).matchAll(/^id: (\d+)$/gm)) ids.push(Number(m[1]));
      text = text.slice(cut);
    });
    // The end of the response (the closing comment and the last chunk), or of the connection.
    const ended = new Promise<void>((resolve) => {
      socket.on('close', () => resolve());
      socket.on('data', (d: string) => {
        if (d.includes('\r\n0\r\n\r\n')) resolve();
      });
    });
    return { ids, socket, ended };
  }

  it('replays a history longer than any one page completely and in order, then goes live', async () => {
    await append(2_500);
    const c = connect('?after=0');
    await eventually(async () => c.ids.length >= 2_500, 20_000, 'the whole history');
    await append(3);
    await eventually(async () => c.ids.length === 2_503, 10_000, 'the live events');
    assert.deepEqual(
      c.ids,
      [...c.ids].sort((a, b) => a - b),
      'in order',
    );
    assert.equal(new Set(c.ids).size, c.ids.length, 'each once');
    c.socket.destroy();
    await c.ended;
  });

  it('reads the next page only when the client has taken the previous one', async () => {
    // About 20 MB of history: far more than the socket buffers hold.
    await append(5_000, 4_000);
    const total = (await store.listEvents({ afterId: 0, limit: 100_000 })).length;
    const first = pagesRead();
    const c = connect('?after=0');
    c.socket.pause();
    // Wait until the replay stops asking for pages: it is waiting for the client.
    let last = -1;
    await eventually(
      async () => {
        const now = pagesRead();
        const still = now === last && now > 0;
        last = now;
        await new Promise((r) => setTimeout(r, 150));
        return still;
      },
      20_000,
      'the replay to wait for the client',
    );
    const read = pagesRead() - first;
    assert.ok(
      read * PAGE < total / 2,
      `read ${read} pages of ${Math.ceil(total / PAGE)} while the client read nothing`,
    );
    c.socket.resume();
    await eventually(async () => c.ids.length === total, 30_000, 'every event once the client reads');
    c.socket.destroy();
    await c.ended;
  });

  it('ends the stream when its token is revoked, on this region or any other sharing the store', async () => {
    options = { token: { id: 't-watcher', expiresAt: null } };
    session = null;
    const c = connect('');
    await eventually(async () => session !== null);
    const mine = session!;
    await store.appendEvents([
      { type: 'token.revoked', actor: 'test', message: 'other', data: { id: 't-other' } },
    ]);
    await store.appendEvents([
      { type: 'token.revoked', actor: 'test', message: 'mine', data: { id: 't-watcher' } },
    ]);
    assert.equal(await mine.closed, 'token revoked');
    await c.ended;
    options = {};
  });

  it('lets go of a client that stops reading live events once a bounded amount waits for it', async () => {
    options = { maxBufferedBytes: 256 * 1024 };
    session = null;
    const c = connect('');
    c.socket.pause();
    await eventually(async () => session !== null);
    const mine = session!;
    const appending = (async () => {
      for (let i = 0; i < 40; i++) {
        if (await Promise.race([mine.closed.then(() => true), Promise.resolve(false)])) return;
        await append(200, 4_000);
      }
    })();
    assert.match(await mine.closed, /reads too slowly/);
    await appending;
    c.socket.destroy();
    options = {};
  });
});
