/**
 * Tokens at the HTTP edge: a revoked token's open event stream ends, `?access_token=` works on
 * the event stream only (never for a mutation), answers that carry a new token are not
 * cached, and every answer carries the browser protections (nosniff, no framing, CSP,
 * Referrer-Policy).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from '../../test/support/region.ts';

describe('tokens and headers at the HTTP edge', () => {
  let r: TestRegion;
  before(async () => {
    r = await startTestRegion();
  });
  after(async () => r?.stop());

  const newToken = async (name: string, role = 'viewer') =>
    (await r.api<{ token: { id: string }; secret: string }>('POST', '/api/v1/tokens', { name, role })).body;

  /** Reads an SSE response until it ends; resolves with the event types seen. */
  const readStream = async (res: Response) => {
    const seen: string[] = [];
    const dec = new TextDecoder();
    for await (const chunk of res.body!)
      for (const line of dec.decode(chunk as Uint8Array).split('\n'))
        if (line.startsWith('event: ')) seen.push(line.slice(7));
    return seen;
  };

  it('ends an open event stream when its token is revoked', async () => {
    const watcher = await newToken('watcher');
    const res = await r.fetch(`${r.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${watcher.secret}` },
    });
    assert.equal(res.status, 200);
    let ended = false;
    const reading = readStream(res).finally(() => {
      ended = true;
    });
    await r.api('POST', '/api/v1/machines', newMachineBody());
    assert.equal((await r.api('DELETE', `/api/v1/tokens/${watcher.token.id}`)).status, 204);
    await eventually(async () => ended, 10_000, 'the stream to end');
    await reading;
    const again = await r.fetch(`${r.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${watcher.secret}` },
    });
    assert.equal(again.status, 401);
  });

  it('takes ?access_token= on the event stream only, and never for a mutation', async () => {
    const viewer = await newToken('query-viewer');
    const admin = r.adminToken;
    const ac = new AbortController();
    const stream = await r.fetch(`${r.url}/api/v1/events?access_token=${viewer.secret}`, {
      signal: ac.signal,
    });
    assert.equal(stream.status, 200);
    ac.abort();
    for (const [method, path, body] of [
      ['POST', '/api/v1/tokens', { name: 'via-query', role: 'admin' }],
      ['POST', '/api/v1/machines', newMachineBody()],
      ['GET', '/api/v1/machines', undefined],
      ['GET', '/api/v1/tokens', undefined],
    ] as const) {
      const res = await r.fetch(`${r.url}${path}?access_token=${admin}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      assert.equal(res.status, 401, `${method} ${path}`);
      const e = (await res.json()) as { code: string; message: string };
      assert.equal(e.code, 'INGOT_UNAUTHENTICATED');
      assert.match(e.message, /only by GET \/api\/v1\/events/);
    }
    const tokens = (await r.api<{ name: string }[]>('GET', '/api/v1/tokens')).body;
    assert.ok(!tokens.some((t) => t.name === 'via-query'), 'no token was created');
  });

  it('marks answers carrying a new token, and every API answer, as not to be stored by caches', async () => {
    const res = await r.fetch(`${r.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${r.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cached', role: 'viewer' }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const list = await r.fetch(`${r.url}/api/v1/machines`, {
      headers: { authorization: `Bearer ${r.adminToken}` },
    });
    assert.equal(list.headers.get('cache-control'), 'no-store');
  });

  it('sends nosniff, frame protection, a Content-Security-Policy and Referrer-Policy on the console and the API', async () => {
    for (const path of ['/', '/machines', '/api/v1/machines', '/api/v1/nowhere', '/healthz']) {
      const res = await r.fetch(`${r.url}${path}`, { headers: { authorization: `Bearer ${r.adminToken}` } });
      const h = res.headers;
      assert.equal(h.get('x-content-type-options'), 'nosniff', path);
      assert.equal(h.get('x-frame-options'), 'DENY', path);
      assert.equal(h.get('referrer-policy'), 'no-referrer', path);
      const csp = h.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
    }
  });
});
