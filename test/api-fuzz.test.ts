/**
 * A seeded fuzz probe of the whole region API, generated from its OpenAPI document: for every
 * route and method, requests built from the route's schemas — valid ones and mutations of them
 * (wrong types, strings past their bounds, non-finite and out-of-range numbers, unknown and
 * prototype keys, deep nesting, missing fields, junk path parameters and query strings, bodies
 * that are not JSON or too big) — under every role and without a token. About 2,000 requests.
 *
 * What must hold for every one: no status ≥ 500; every error body is exactly
 * `{code, message, details}`; and a refused request (any status ≥ 400) writes nothing: the
 * machines, subnets, addresses, tokens, images, bundles, clusters, jobs and the event log are as before it.
 * INGOT_FUZZ_SEED picks another seed; a failure names the seed and the request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newMachineBody, startTestRegion, type TestRegion } from './support/region.ts';

const SEED = Number(process.env.INGOT_FUZZ_SEED ?? 20261202);
/** Requests per route and method (about 30 of them). */
const PER_OPERATION = 64;

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema nodes of the OpenAPI document
type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  body?: Schema;
  query: { name: string; schema: Schema }[];
  params: { name: string; schema: Schema }[];
}
interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** mulberry32: small, seedable, good enough to pick cases. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

const JUNK_STRINGS = [
  '',
  ' ',
  '..',
  '../../etc/passwd',
  '%2e%2e%2f',
  '\u0000',
  '\u202e\u200b',
  'é🙂',
  '<script>alert(1)</script>',
  "'; DROP TABLE machines; --",
  'true',
  '1e309',
  '-1',
  'null',
  '{}',
  '__proto__',
  'redfish+http://u:p@127.0.0.1:9/',
];
const JUNK_NUMBERS = [-1, 0, 0.5, -0.5, 1e308, -1e308, 2 ** 53 + 2, 4095, 65536];
const JUNK_QUERY = [
  '1e309',
  '-1e309',
  'Infinity',
  'NaN',
  '-1',
  '0x10',
  '1.5',
  ' 5',
  '',
  'x'.repeat(3000),
  '%ZZ',
  '[]',
];
const JUNK_PATH = [
  '..',
  '%2e%2e',
  '%2F',
  'x'.repeat(300),
  'x'.repeat(5000),
  '%00',
  '%E0%A4%A',
  '%C3%A9',
  'm-00000000000000000000000000',
  '~',
  '%20',
];
/** URL values: never a name to resolve (the probe must not wait on DNS). */
const URLS = [
  'http://127.0.0.1:9/x.raw',
  'http://169.254.169.254/',
  'ftp://10.0.0.1/x',
  'http://[::1]/a',
  'not a url',
  'http://10.255.255.1:1/x.raw',
];

function resolveRef(doc: Schema, s: Schema): Schema {
  if (s?.$ref) return resolveRef(doc, doc.components.schemas[String(s.$ref).split('/').pop()!]);
  return s ?? {};
}

/** A value the schema accepts (as far as this simple generator can tell). */
function valid(doc: Schema, s0: Schema, rng: Rng, name = '', depth = 0): unknown {
  const s = resolveRef(doc, s0);
  if (s.anyOf) return valid(doc, rng.pick(s.anyOf as Schema[]), rng, name, depth);
  if (s.enum) return rng.pick(s.enum as unknown[]);
  const type = Array.isArray(s.type) ? rng.pick(s.type as string[]) : s.type;
  switch (type) {
    case 'string': {
      if (name === 'url') return rng.pick(URLS);
      if (s.format === 'ipv4') return `10.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`;
      if (String(s.pattern ?? '').includes('A-Fa-f'))
        return `52:54:00:${[0, 0, 0].map(() => rng.int(256).toString(16).padStart(2, '0')).join(':')}`;
      if (String(s.pattern ?? '').includes('{64}')) return 'a'.repeat(64);
      const len = Math.max(s.minLength ?? 1, Math.min(s.maxLength ?? 12, 1 + rng.int(12)));
      return `f${Array.from({ length: len - 1 }, () => rng.pick('abcdefgh0123456789-'.split(''))).join('')}z`.slice(
        0,
        len,
      );
    }
    case 'integer':
    case 'number': {
      const lo = s.minimum ?? 0;
      const hi = Math.min(s.maximum ?? 1000, lo + 1000);
      return lo + rng.int(hi - lo + 1);
    }
    case 'boolean':
      return rng.next() < 0.5;
    case 'null':
      return null;
    case 'array':
      return depth > 4
        ? []
        : Array.from({ length: rng.int(3) }, () => valid(doc, s.items ?? {}, rng, name, depth + 1));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, p] of Object.entries<Schema>(s.properties ?? {}))
        if ((s.required ?? []).includes(k) || rng.next() < 0.5) out[k] = valid(doc, p, rng, k, depth + 1);
      return out;
    }
    default:
      return rng.pick(['x', 1, true, null, {}]);
  }
}

/** One way to break a value: returns the body text to send. */
function mutate(doc: Schema, schema: Schema, value: unknown, rng: Rng): string {
  const s = resolveRef(doc, schema);
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? { ...(value as object) } : {};
  const keys = Object.keys({ ...(s.properties ?? {}), ...obj });
  const key = keys.length ? rng.pick(keys) : 'x';
  const o = obj as Record<string, unknown>;
  switch (rng.int(14)) {
    case 0:
      return JSON.stringify(value);
    case 1:
      o[key] = rng.pick([12345, 'solo', true, null, [], {}, 1.5, ['x']]);
      return JSON.stringify(o);
    case 2:
      o[key] = 'x'.repeat(rng.pick([64, 129, 513, 2049, 100_000]));
      return JSON.stringify(o);
    case 3:
      o[key] = rng.pick(JUNK_NUMBERS);
      return JSON.stringify(o);
    case 4:
      // Numbers JSON.stringify cannot write: the parser turns them into ±Infinity.
      return JSON.stringify({ ...o, [key]: 0 }).replace(
        /:0([,}])/,
        `:${rng.pick(['1e309', '-1e309', '1e400'])}$1`,
      );
    case 5:
      o[`unknown${rng.int(9)}`] = 1;
      return JSON.stringify(o);
    case 6:
      delete o[key];
      return JSON.stringify(o);
    case 7:
      return JSON.stringify(o).replace(/^\{/, `{"__proto__":{"role":"admin"},`).replace(/,}$/, '}');
    case 8: {
      const n = rng.pick([31, 33, 200, 20_000]);
      return JSON.stringify({ ...o, [key]: 0 }).replace(/:0([,}])/, `:${'['.repeat(n)}${']'.repeat(n)}$1`);
    }
    case 9:
      return JSON.stringify(rng.pick([[], 'x', 1, null, [value]]));
    case 10:
      o[key] = rng.pick(JUNK_STRINGS);
      return JSON.stringify(o);
    case 11:
      if (typeof o.params === 'object' || key === 'params')
        o.params = {
          image: {
            artifact: rng.pick(['../../../../etc/shadow', 'images/.incoming/x', '/etc/shadow']),
            sha256: 'a'.repeat(64),
            format: 'raw',
            junk: { a: [1] },
          },
        };
      else o[key] = { nested: { deeper: [{ x: 1 }] } };
      return JSON.stringify(o);
    case 12:
      return rng.pick(['{"a":', '{]', '\u0000', 'null', '"str"', '{"constructor":{"prototype":{"x":1}}}']);
    default:
      o[key] = valid(doc, s.properties?.[key] ?? {}, rng, key);
      o[`${key}2`] = o[key];
      return JSON.stringify(o);
  }
}

// 330 s seen at load 20 (a 2-core host with test beds beside it); ~45 s quiet.
describe('the API under a seeded fuzz probe', { timeout: 600_000 }, () => {
  let r: TestRegion;
  let doc: Schema;
  const tokens: Record<string, string | null> = {
    admin: '',
    operator: '',
    viewer: '',
    none: null,
    bad: 'ingot_not-a-token',
  };
  const ids: Record<string, string[]> = { id: [], name: [] };

  before(async () => {
    r = await startTestRegion();
    // The probe checks that refused requests write nothing: nothing else may write meanwhile.
    await r.region.engine.stop();
    tokens.admin = r.adminToken;
    for (const role of ['operator', 'viewer'])
      tokens[role] = (
        await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: `fuzz-${role}`, role })
      ).body.secret;
    for (let i = 0; i < 3; i++)
      ids.id.push(
        (await r.api<{ id: string }>('POST', '/api/v1/machines', newMachineBody({ tags: ['fuzz'] }))).body.id,
      );
    const s = await r.api<{ id: string }>('POST', '/api/v1/subnets', {
      name: 'fuzz',
      cidr: '10.99.0.0/24',
      ranges: [{ kind: 'dynamic', start: '10.99.0.10', end: '10.99.0.50' }],
    });
    ids.id.push(s.body.id, 'fuzz');
    const up = await r.fetch(`${r.url}/api/v1/images/fuzz-image`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${r.adminToken}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(65536, 1),
    });
    assert.equal(up.status, 201);
    ids.name.push('fuzz-image');
    doc = (await r.api<Schema>('GET', '/api/v1/openapi.json')).body;
  });
  after(async () => r?.stop());

  /** Everything a request could write, read through the store (the time a token was last used aside). */
  async function fingerprint(): Promise<string> {
    const st = r.region.store;
    const machines = (await st.listMachines({}, 1000, null)).items;
    const subnets = await st.listSubnets();
    const tokens = (await st.listTokens()).map(({ lastUsedAt: _u, ...t }) => t);
    const [newest] = await st.listEvents({ limit: 1, newestFirst: true });
    const ips = await Promise.all(subnets.map((s) => st.listIps(s.id)));
    const jobs = await Promise.all(machines.map((m) => st.listJobs({ machineId: m.id }, 100)));
    return JSON.stringify([
      machines,
      subnets,
      tokens,
      await st.listImages(),
      await st.listBundles(),
      await st.listClusters({ includeDeleted: true }),
      newest?.id,
      ips,
      jobs,
    ]);
  }

  function operations(): Operation[] {
    const ops: Operation[] = [];
    for (const [path, methods] of Object.entries<Schema>(doc.paths))
      for (const [method, op] of Object.entries<Schema>(methods)) {
        const params = (op.parameters ?? []) as { in: string; name: string; schema: Schema }[];
        ops.push({
          method: method.toUpperCase(),
          path,
          body: op.requestBody?.content?.['application/json']?.schema,
          query: params.filter((p) => p.in === 'query'),
          params: params.filter((p) => p.in === 'path'),
        });
      }
    return ops;
  }

  function build(op: Operation, rng: Rng): Sent {
    let path = op.path;
    for (const p of op.params) {
      const v =
        p.name === 'action'
          ? rng.next() < 0.85
            ? String(rng.pick(p.schema.enum as string[]))
            : rng.pick(JUNK_PATH)
          : rng.next() < 0.7
            ? encodeURIComponent(
                rng.pick(
                  ids[p.name === 'name' ? 'name' : 'id'].length
                    ? ids[p.name === 'name' ? 'name' : 'id']
                    : ['x'],
                ),
              )
            : rng.pick(JUNK_PATH);
      path = path.replace(`{${p.name}}`, v);
    }
    const qs: string[] = [];
    for (const q of op.query) {
      if (q.name === 'access_token' || rng.next() < 0.5) continue;
      const v = rng.next() < 0.5 ? String(valid(doc, q.schema, rng, q.name)) : rng.pick(JUNK_QUERY);
      qs.push(`${q.name}=${v.startsWith('%') ? v : encodeURIComponent(v)}`);
      if (rng.next() < 0.05) qs.push(`${q.name}=1`);
    }
    if (rng.next() < 0.05)
      qs.push(rng.pick(['__proto__=1', 'constructor[prototype]=1', 'unknown=1', 'access_token=x']));
    const role = rng.next() < 0.7 ? 'admin' : rng.pick(['operator', 'viewer', 'none', 'bad']);
    const headers: Record<string, string> = tokens[role] ? { authorization: `Bearer ${tokens[role]}` } : {};
    const url = `${path}${qs.length ? `?${qs.join('&')}` : ''}`;
    if (op.method === 'PUT') {
      headers['content-type'] = rng.pick([
        'application/octet-stream',
        'application/octet-stream',
        'text/plain',
        'application/json',
      ]);
      return {
        method: op.method,
        url,
        headers,
        body: new Uint8Array(rng.pick([0, 1, 512, 70_000])).fill(rng.int(256)),
      };
    }
    if (!op.body) {
      if (op.method !== 'GET' && rng.next() < 0.1)
        return {
          method: op.method,
          url,
          headers: { ...headers, 'content-type': 'application/json' },
          body: '{"x":',
        };
      return { method: op.method, url, headers };
    }
    const roll = rng.next();
    if (roll < 0.04) return { method: op.method, url, headers };
    if (roll < 0.08)
      return {
        method: op.method,
        url,
        headers: {
          ...headers,
          'content-type': rng.pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x']),
        },
        body: 'a=b',
      };
    if (roll < 0.1)
      return {
        method: op.method,
        url,
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ x: 'y'.repeat(1_100_000) }),
      };
    const value = valid(doc, op.body, rng);
    return {
      method: op.method,
      url,
      headers: { ...headers, 'content-type': 'application/json' },
      body: mutate(doc, op.body, value, rng),
    };
  }

  async function send(req: Sent): Promise<{ status: number; text: string }> {
    const ac = new AbortController();
    const res = await r.fetch(`${r.url}${req.url}`, {
      method: req.method,
      headers: req.headers,
      body: req.body as BodyInit | undefined,
      signal: ac.signal,
    });
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      ac.abort();
      return { status: res.status, text: '' };
    }
    return { status: res.status, text: await res.text() };
  }

  it('answers every request below 500, every error as {code, message, details}, and writes nothing when it refuses', async () => {
    const rng = prng(SEED);
    const counts = { requests: 0, refused: 0, ok: 0 };
    const statuses = new Map<number, number>();
    for (const op of operations()) {
      for (let i = 0; i < PER_OPERATION; i++) {
        const req = build(op, rng);
        const what = `seed ${SEED}: ${req.method} ${req.url.slice(0, 200)} ${String(req.body ?? '').slice(0, 200)}`;
        const before = await fingerprint();
        const res = await send(req);
        counts.requests++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status < 500, `${what} → ${res.status} ${res.text.slice(0, 300)}`);
        if (res.status < 400) {
          counts.ok++;
          continue;
        }
        counts.refused++;
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(res.text);
        } catch {
          assert.fail(`${what} → ${res.status} with a body that is not JSON: ${res.text.slice(0, 200)}`);
        }
        assert.deepEqual(Object.keys(body).sort(), ['code', 'details', 'message'], what);
        assert.match(String(body.code), /^INGOT_[A-Z_]+$/, what);
        assert.equal(typeof body.message, 'string', what);
        assert.ok(body.details && typeof body.details === 'object' && !Array.isArray(body.details), what);
        assert.equal(await fingerprint(), before, `${what} → ${res.status} but wrote something`);
      }
    }
    if (process.env.INGOT_FUZZ_VERBOSE) console.log(counts, [...statuses].sort());
    assert.ok(counts.requests >= 1_800, `${counts.requests} requests`);
    assert.ok(counts.refused > counts.requests / 2, 'most requests are refused (the probe is hostile)');
    assert.ok(counts.ok > 50, `some requests are valid (${counts.ok}): the generator reaches the handlers`);
    for (const s of [400, 401, 403, 404])
      assert.ok((statuses.get(s) ?? 0) > 0, `some ${s}s among ${[...statuses]}`);
  });
});
