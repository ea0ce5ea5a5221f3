/** GET /api/v1/events (SSE) in a region: a resumed stream replays the whole history, then goes live. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewEvent } from '../core/event.ts';
import { machineInput } from '../store/testing.ts';
import { eventually, startTestRegion, type TestRegion } from '../../test/support/region.ts';

describe('the event stream', () => {
  let r: TestRegion;
  before(async () => {
    r = await startTestRegion();
  });
  after(async () => r?.stop());

  it('gives a machine’s latest page with ?newest=true, oldest first; refuses a newest that is not a boolean', async () => {
    const m = await r.region.store.createMachine(machineInput({ hostname: 'ev-newest' }), 'user:test');
    await r.region.store.appendEvents(
      Array.from({ length: 5 }, (_, i) => ({
        type: 'test.step',
        actor: 'test',
        machineId: m.id,
        message: `step ${i}`,
      })),
    );
    const get = (q: string) =>
      r.fetch(`${r.url}/api/v1/machines/${m.id}/events?${q}`, {
        headers: { authorization: `Bearer ${r.adminToken}` },
      });
    const steps = async (q: string) =>
      ((await (await get(q)).json()) as { message: string }[])
        .map((e) => e.message)
        .filter((x) => x.startsWith('step'));
    assert.deepEqual(await steps('limit=2&newest=true'), ['step 3', 'step 4']);
    assert.ok(!(await steps('limit=2')).includes('step 4'), 'without newest, the oldest page');
    assert.deepEqual((await steps('limit=200')).slice(0, 2), ['step 0', 'step 1']);
    const bad = await get('newest=maybe');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /newest/);
  });

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
