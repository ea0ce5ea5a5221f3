/**
 * Every error a client can get — from a route, from Fastify itself (routing, body parsing,
 * validation) or from Node's HTTP parser — is `{code, message, details}` with a stable code
 * and the status of the one table (src/core/http-status.ts).
 */
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startTestRegion, type TestRegion } from '../../test/support/region.ts';
import { httpStatusOf } from '../core/http-status.ts';
import type { ErrorCode } from '../core/errors.ts';

interface Answer {
  status: number;
  body: string;
}

function assertShape(a: Answer, status: number, code: string, what: string): Record<string, unknown> {
  assert.equal(a.status, status, `${what}: ${a.body.slice(0, 300)}`);
  const body = JSON.parse(a.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'details', 'message'], what);
  assert.equal(body.code, code, what);
  assert.equal(httpStatusOf(code as ErrorCode), status, `${code} has status ${status} in the table`);
  assert.equal(typeof body.message, 'string');
  assert.ok((body.message as string).length < 400, `${what}: the message is bounded`);
  assert.equal(typeof body.details, 'object');
  return body;
}

describe('error bodies', () => {
  let r: TestRegion;
  let port: number;
  before(async () => {
    r = await startTestRegion();
    port = Number(new URL(r.url).port);
  });
  after(async () => r?.stop());

  /** Sends raw bytes (over the region's TLS), so requests no HTTP client would build can be tried. */
  const raw = (request: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ca: r.region.tls!.certPem }, () => s.write(request));
      let out = '';
      s.setEncoding('latin1');
      s.on('data', (d) => {
        out += d;
      });
      s.on('error', reject);
      s.on('close', () => {
        const [head, ...rest] = out.split('\r\n\r\n');
        resolve({ status: Number(head.split(' ')[1]), body: rest.join('\r\n\r\n') });
      });
    });
  const get = (path: string, headers = '') =>
    raw(
      `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${r.adminToken}\r\n${headers}Connection: close\r\n\r\n`,
    );
  const post = (path: string, contentType: string, body: string) =>
    raw(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${r.adminToken}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );

  it('answers bad percent-encoding and over-long path parameters in the error shape', async () => {
    const bad = assertShape(
      await get('/api/v1/machines/%E0%A4%A'),
      400,
      'INGOT_VALIDATION',
      'bad percent-encoding',
    );
    assert.match(bad.message as string, /not a valid URL/);
    const long = assertShape(
      await get(`/api/v1/machines/${'x'.repeat(300)}`),
      400,
      'INGOT_VALIDATION',
      'long id',
    );
    assert.equal((long.details as { field: string }).field, 'id');
    const huge = await get(`/api/v1/machines/${'x'.repeat(5000)}`);
    if (huge.status === 414) assertShape(huge, 414, 'INGOT_URI_TOO_LONG', 'huge param');
    else assertShape(huge, 404, 'INGOT_NOT_FOUND', 'huge param, console catch-all');
    assertShape(await get('/api/v1/nowhere'), 404, 'INGOT_NOT_FOUND', 'unknown route');
  });

  it('answers requests Node’s HTTP parser refuses (oversized headers, non-ASCII paths, garbage) in the error shape', async () => {
    assertShape(
      await get('/api/v1/machines', `X-Big: ${'a'.repeat(20_000)}\r\n`),
      431,
      'INGOT_HEADERS_TOO_LARGE',
      '431',
    );
    assertShape(
      await raw(`GET /api/v1/machines/\u00e9\u00e8 HTTP/1.1\r\nHost: x\r\n\r\n`),
      400,
      'INGOT_VALIDATION',
      'non-ASCII path',
    );
    assertShape(await raw('HELLO\r\n\r\n'), 400, 'INGOT_VALIDATION', 'not HTTP');
  });

  it('answers body problems in the error shape: media type, size, JSON syntax, prototype keys', async () => {
    const machines = '/api/v1/machines';
    assertShape(await post(machines, 'application/xml', '<m/>'), 415, 'INGOT_UNSUPPORTED_MEDIA_TYPE', '415');
    assertShape(
      await post(machines, 'application/json', JSON.stringify({ x: 'a'.repeat(1_100_000) })),
      413,
      'INGOT_PAYLOAD_TOO_LARGE',
      '413',
    );
    const syntax = assertShape(
      await post(machines, 'application/json', '{"a":'),
      400,
      'INGOT_VALIDATION',
      'syntax',
    );
    assert.match(syntax.message as string, /^body: is not valid JSON/);
    for (const body of ['{"__proto__":{"admin":true}}', '{"bmc":{"constructor":{"prototype":{"x":1}}}}']) {
      const proto = assertShape(
        await post(machines, 'application/json', body),
        400,
        'INGOT_VALIDATION',
        body,
      );
      assert.match(proto.message as string, /is not allowed as a key/);
    }
  });

  it('answers a schema violation in the error shape, naming the field', async () => {
    const res = assertShape(
      await post('/api/v1/tokens', 'application/json', '{"name":"x","role":"root"}'),
      400,
      'INGOT_VALIDATION',
      'enum',
    );
    assert.equal((res.details as { field: string }).field, 'role');
  });
});
