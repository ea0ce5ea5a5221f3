/** GET /api/v1/events (SSE) in a region: a resumed stream replays the whole history, then goes live. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewEvent } from '../core/event.ts';
import { eventually, startTestRegion, type TestRegion } from '../../test/support/region.ts';

describe('the event stream', () => {
  let r: TestRegion;
  before(async () => {
    r = await startTestRegion();
  });
  after(async () => r?.stop());

  it('replays a history of thousands of events from ?after=0 completely and in order', async () => {
    const filler: NewEvent[] = Array.from({ length: 2_400 }, (_, i) => ({
      type: 'test.filler',
      actor: 'test',
      message: `filler ${i}`,
    }));
    await r.region.store.appendEvents(filler);
    const [newest] = await r.region.store.listEvents({ limit: 1, newestFirst: true });
    const ac = new AbortController();
    const res = await r.fetch(`${r.url}/api/v1/events?after=0`, {
      headers: { authorization: `Bearer ${r.adminToken}` },
      signal: ac.signal,
    });
    const ids: number[] = [];
    const dec = new TextDecoder();
    let rest = '';
    const reading = (async () => {
      try {
        for await (const chunk of res.body!) {
          rest += dec.decode(chunk as Uint8Array);
          const cut = rest.lastIndexOf('\n\n') + 2;
          for (const m of rest.slice(0, cut).matchAll(/^id: (\d+)$/gm)) ids.push(Number(m[1]));
          rest = rest.slice(cut);
        }
      } catch {
        // aborted
      }
    })();
    await eventually(async () => ids.at(-1) === newest.id, 20_000, 'the newest event');
    ac.abort();
    await reading;
    assert.ok(ids.length >= 2_400);
    assert.deepEqual(
      ids,
      [...new Set(ids)].sort((a, b) => a - b),
      'each once, in order',
    );
  });
});
