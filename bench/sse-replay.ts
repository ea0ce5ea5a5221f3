/**
 * SSE replay memory (issue 13, item 13): a real `ingot serve` child process with a long event
 * history; 200 clients open `GET /api/v1/events?after=0` at once. Measured from /proc: the
 * region's RSS before, its peak while the streams replay, and its RSS once they are closed.
 * Two client behaviours: `reading` clients take every byte; `stalled` clients read nothing (the
 * worst case for the server, which must not buffer the history for them).
 *
 * Several history lengths are measured: bounded memory means the peak does not grow with them.
 *
 * Usage: node bench/sse-replay.ts [--events 5000,20000] [--streams 200] [--mode stalled,reading]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NewEvent } from '../src/core/event.ts';
import { openStore } from '../src/store/open.ts';
import { startServe } from '../test/support/serve-process.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000,20000' },
    streams: { type: 'string', default: '200' },
    mode: { type: 'string', default: 'stalled,reading' },
  },
});
const EVENT_COUNTS = values.events.split(',').map(Number);
const STREAMS = Number(values.streams);

const mib = (kb: number) => Math.round(kb / 1024);
function status(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An event as the engine writes them: a step on a machine's timeline with some data. */
function filler(i: number): NewEvent {
  return {
    type: 'step.finished',
    actor: 'engine:bench',
    message: `step ${i % 7} of job ${Math.floor(i / 7)} finished after 1 attempt`,
    data: { step: `step-${i % 7}`, attempts: 1, ms: i % 997, note: 'x'.repeat(300) },
  };
}

/** Bytes of one stream's replay: read alone until nothing more comes for 2 s. */
async function historyBytes(port: number, token: string): Promise<number> {
  let bytes = 0;
  const s = net.connect(port, '127.0.0.1', () =>
    s.write(`GET /api/v1/events?after=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`),
  );
  s.on('data', (d: Buffer) => (bytes += d.length));
  let last = -1;
  while (bytes !== last || bytes === 0) {
    last = bytes;
    await sleep(2000);
  }
  s.destroy();
  // Less the ping and header bytes, which differ between streams.
  return Math.floor(bytes * 0.99);
}

async function run(mode: 'stalled' | 'reading', EVENTS: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-bench-sse-'));
  // A loaded machine can take longer than startServe's 20 s to start a region: try again.
  // Plain HTTP on loopback: this measures the region's memory, and the sockets below speak raw HTTP.
  const serve = await startServe(dir, ['--http'])
    .catch(() => startServe(dir, ['--http']))
    .catch(() => startServe(dir, ['--http']));
  try {
    const store = await openStore({ dataDir: dir });
    for (let i = 0; i < EVENTS; i += 1000)
      await store.appendEvents(Array.from({ length: Math.min(1000, EVENTS - i) }, (_, j) => filler(i + j)));
    await store.close();
    const pid = serve.child.pid!;
    const port = Number(new URL(serve.url).port);
    const oneStream = mode === 'reading' ? await historyBytes(port, serve.token) : 0;
    await sleep(1000);
    const before = status(pid).rss;
    let received = 0;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, status(pid).rss);
    }, 100);
    const sockets = Array.from({ length: STREAMS }, () => {
      const s = net.connect(port, '127.0.0.1', () =>
        s.write(
          `GET /api/v1/events?after=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${serve.token}\r\n\r\n`,
        ),
      );
      if (mode === 'stalled') s.pause();
      else s.on('data', (d: Buffer) => (received += d.length));
      s.on('error', () => undefined);
      return s;
    });
    const t0 = Date.now();
    if (mode === 'reading') {
      // Until every stream has its whole history (one stream's bytes, measured alone), or 300 s.
      while (received < STREAMS * oneStream && Date.now() - t0 < 300_000) await sleep(250);
    } else {
      await sleep(10_000);
    }
    const during = status(pid).rss;
    clearInterval(sampler);
    for (const s of sockets) s.destroy();
    await sleep(3000);
    const afterClose = status(pid);
    return {
      mode,
      events: EVENTS,
      streams: STREAMS,
      rssBeforeMiB: mib(before),
      rssPeakMiB: mib(Math.max(peak, during)),
      rssAfterCloseMiB: mib(afterClose.rss),
      vmHwmMiB: mib(afterClose.hwm),
      receivedMiB: Math.round(received / 2 ** 20),
      seconds: Math.round((Date.now() - t0) / 100) / 10,
    };
  } finally {
    await serve.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const events of EVENT_COUNTS)
  for (const mode of values.mode.split(',') as ('stalled' | 'reading')[])
    results.push(await run(mode, events));
console.table(results);
console.log(JSON.stringify(results));
