/**
 * Strict input at the API: numbers are numbers (finite, in range, never coerced from other
 * types), strings are bounded, free-form parameters are bounded in depth, unknown fields are
 * refused, and a refused request writes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newMachineBody, startTestRegion, type TestRegion } from '../../test/support/region.ts';

interface E {
  code: string;
  message: string;
  details: { field?: string };
}
interface M {
  id: string;
  hostname: string;
  version: number;
  tags: string[];
  bmc: { address: string; username: string } | null;
}

describe('strict API input', () => {
  let r: TestRegion;
  let m: M;
  let subnetId: string;
  before(async () => {
    r = await startTestRegion();
    m = (await r.api<M>('POST', '/api/v1/machines', newMachineBody({ hostname: 'strict-1' }))).body;
    const s = await r.api<{ id: string }>('POST', '/api/v1/subnets', {
      name: 'strict',
      cidr: '10.77.0.0/24',
      ranges: [{ kind: 'dynamic', start: '10.77.0.100', end: '10.77.0.200' }],
    });
    assert.equal(s.status, 201);
    subnetId = s.body.id;
  });
  after(async () => r?.stop());

  /** What a refused request must leave alone: the newest event id and the machine's version. */
  const snapshot = async () => {
    const [newest] = (await r.api<{ id: number }[]>('GET', '/api/v1/audit?after=0&limit=1000')).body.slice(
      -1,
    );
    const machine = (await r.api<M>('GET', `/api/v1/machines/${m.id}`)).body;
    const jobs = (await r.api<unknown[]>('GET', `/api/v1/machines/${m.id}/jobs`)).body.length;
    return { newest: newest?.id, version: machine.version, jobs };
  };

  async function refused(method: string, path: string, body: unknown, field: string | RegExp, status = 400) {
    const before = await snapshot();
    const res = await r.api<E>(method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body).slice(0, 300)}`);
    assert.deepEqual(Object.keys(res.body).sort(), ['code', 'details', 'message']);
    if (typeof field === 'string') assert.equal(res.body.details.field, field, res.body.message);
    else assert.match(res.body.message, field);
    assert.deepEqual(await snapshot(), before, `${method} ${path} wrote something`);
    return res.body;
  }

  it('refuses non-finite, negative and non-canonical numbers in query strings on every list route', async () => {
    for (const base of ['/api/v1/machines', '/api/v1/audit', `/api/v1/machines/${m.id}/events`]) {
      for (const v of [
        '1e309',
        'Infinity',
        '-1e309',
        '-Infinity',
        'NaN',
        '1.0',
        '0x10',
        '1e3',
        ' 5',
        '0',
        '1001',
      ])
        await refused('GET', `${base}?limit=${encodeURIComponent(v)}`, undefined, 'limit');
    }
    for (const base of ['/api/v1/audit', `/api/v1/machines/${m.id}/events`, '/api/v1/events'])
      for (const v of ['-1e309', '-1', '1e309', '9007199254740993'])
        await refused('GET', `${base}?after=${encodeURIComponent(v)}`, undefined, 'after');
    assert.equal((await r.api('GET', '/api/v1/machines?limit=5')).status, 200);
    assert.equal((await r.api('GET', '/api/v1/audit?after=0&limit=1000')).status, 200);
  });

  it('never coerces body types: a wrong type is a 400 naming the field and nothing changes', async () => {
    const path = `/api/v1/machines/${m.id}`;
    await refused('PATCH', path, { hostname: 12345 }, 'hostname');
    await refused('PATCH', path, { tags: 'solo' }, 'tags');
    await refused('PATCH', path, { zone: 1.5 }, 'zone');
    await refused('PATCH', path, { nics: [{ mac: '52:54:00:00:00:01', boot: null }] }, 'nics[0].boot');
    await refused('PATCH', path, { version: '1' }, 'version');
    await refused(
      'PATCH',
      path,
      { bmc: { address: 'fake://x', username: 'admin', password: ['pw'] } },
      'bmc.password',
    );
    await refused('POST', '/api/v1/subnets', { name: 'v', cidr: '10.78.0.0/24', vlan: true }, 'vlan');
    await refused('PATCH', `/api/v1/subnets/${subnetId}`, { autoEnlist: null }, 'autoEnlist');
    await refused(
      'POST',
      '/api/v1/tokens',
      { name: 't', role: 'viewer', expiresInDays: true },
      'expiresInDays',
    );
    const after = (await r.api<M>('GET', path)).body;
    assert.equal(after.hostname, 'strict-1');
    assert.deepEqual(after.tags, []);
  });

  it('refuses fields the API does not define', async () => {
    await refused('PATCH', `/api/v1/machines/${m.id}`, { hostnme: 'x' }, 'hostnme');
    await refused(
      'POST',
      `/api/v1/machines/${m.id}/actions/power-on`,
      { comment: 'x', force: true },
      'force',
    );
    await refused('POST', '/api/v1/tokens', { name: 't', role: 'viewer', admin: true }, 'admin');
  });

  it('bounds every string and validates addresses and MACs', async () => {
    await refused(
      'POST',
      '/api/v1/machines',
      newMachineBody({ bmc: { address: 'fake://big', username: 'u'.repeat(1_000_000), password: 'p' } }),
      'bmc.username',
    );
    await refused(
      'PATCH',
      `/api/v1/subnets/${subnetId}`,
      {
        ranges: [{ kind: 'reserved', start: '10.77.0.1', end: '10.77.0.2', comment: 'c'.repeat(1_000_000) }],
      },
      'ranges[0].comment',
    );
    await refused('PATCH', `/api/v1/subnets/${subnetId}`, { dns: ['not-an-ip'] }, 'dns[0]');
    await refused('PATCH', `/api/v1/subnets/${subnetId}`, { dns: ['10.0.0.256'] }, 'dns[0]');
    await refused('PATCH', `/api/v1/subnets/${subnetId}`, { gateway: 'gw' }, 'gateway');
    await refused('POST', `/api/v1/subnets/${subnetId}/addresses`, { mac: 'not a mac' }, 'mac');
    await refused('POST', `/api/v1/subnets/${subnetId}/addresses`, { ip: '10.77.0.9999' }, 'ip');
    await refused(
      'POST',
      `/api/v1/machines/${m.id}/actions/power-on`,
      { comment: 'c'.repeat(501) },
      'comment',
    );
    await refused('GET', `/api/v1/machines?q=${'q'.repeat(2000)}`, undefined, 'q');
    const ok = await r.api('PATCH', `/api/v1/subnets/${subnetId}`, { dns: ['10.77.0.53'] });
    assert.equal(ok.status, 200);
  });

  it('refuses deploy params nested deeper than the bound, or naming a path outside the artifacts, before any job exists', async () => {
    assert.equal((await r.api('POST', `/api/v1/machines/${m.id}/actions/commission`)).status, 202);
    // The commission runs on its own: the snapshots below are taken once it is over.
    for (let end = Date.now() + 10_000; ; ) {
      const { state } = (await r.api<{ state: string }>('GET', `/api/v1/machines/${m.id}`)).body;
      if (state === 'ready') break;
      assert.ok(Date.now() < end, `the commission did not end (state ${state})`);
      await new Promise((res) => setTimeout(res, 20));
    }
    const deep = (n: number) => JSON.parse(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
    const deploy = `/api/v1/machines/${m.id}/actions/deploy`;
    // Sent as text: JSON.stringify of the 20,000-deep value would overflow in the test itself.
    const before = await snapshot();
    const res = await r.fetch(`${r.url}${deploy}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${r.adminToken}`, 'content-type': 'application/json' },
      body: `{"params":{"image":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`,
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as E;
    assert.equal(body.details.field, 'body');
    assert.match(body.message, /nested deeper than 32 levels/);
    assert.deepEqual(await snapshot(), before);
    await refused('POST', deploy, { params: { image: deep(1000) } }, 'body');
    await refused(
      'POST',
      deploy,
      { params: { image: { artifact: '../../../../etc/shadow', sha256: 'a'.repeat(64), format: 'raw' } } },
      'params.image.artifact',
    );
    await refused(
      'POST',
      deploy,
      { params: { image: { url: 'http://x/y.raw', sha256: 'a'.repeat(64), format: 'raw', junk: deep(10) } } },
      'params.image.junk',
    );
  });

  it('runs an action POSTed without a body, with or without a JSON content type, as if the body were {}', async () => {
    const variants: Record<string, string>[] = [
      {},
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json; charset=utf-8' },
    ];
    for (const headers of variants) {
      const res = await r.fetch(`${r.url}/api/v1/machines/${m.id}/actions/power-on`, {
        method: 'POST',
        headers: { authorization: `Bearer ${r.adminToken}`, ...headers },
      });
      assert.equal(res.status, 202, `${JSON.stringify(headers)}: ${await res.clone().text()}`);
      const body = (await res.json()) as { machine: { id: string } };
      assert.equal(body.machine.id, m.id);
    }
    // An explicit `null` body is still not an object.
    await refused('POST', `/api/v1/machines/${m.id}/actions/power-on`, null, 'body');
  });

  it('takes a missing body as {} on every POST route whose body has no required field (every action), with or without a JSON content type', async () => {
    interface Op {
      parameters?: { in: string; name: string; schema?: { enum?: string[]; anyOf?: { const?: string }[] } }[];
      requestBody?: { content?: Record<string, { schema?: { required?: string[] } }> };
    }
    const doc = (await r.api<{ paths: Record<string, { post?: Op }> }>('GET', '/api/v1/openapi.json')).body;
    const checked: string[] = [];
    for (const [route, item] of Object.entries(doc.paths)) {
      const op = item.post;
      if (!op) continue;
      const json = op.requestBody?.content?.['application/json'];
      if (op.requestBody && !json) continue; // uploads: octet-stream only, a missing body is a 415
      if ((json?.schema?.required ?? []).length > 0) continue; // the body has required fields
      // Path parameters: a value the route's schema takes (an enum's first), so only the body is in question.
      const path = route.replace(/\{(\w+)\}/g, (_, name: string) => {
        const p = op.parameters?.find((x) => x.in === 'path' && x.name === name);
        const choice = p?.schema?.enum?.[0] ?? p?.schema?.anyOf?.find((a) => a.const)?.const;
        return choice ?? (name === 'id' ? m.id : 'none');
      });
      // An upload (octet-stream, no JSON body at all) answers a missing file with its 415.
      if (route.endsWith('/upload')) continue;
      for (const headers of [{}, { 'content-type': 'application/json' }] as Record<string, string>[]) {
        const res = await r.fetch(`${r.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${r.adminToken}`, ...headers },
        });
        const body = (await res.json().catch(() => null)) as E | null;
        const what = `POST ${path} ${JSON.stringify(headers)}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`;
        assert.ok(res.status < 500, what);
        assert.ok(
          !(res.status === 400 || res.status === 415) ||
            (body?.details?.field !== 'body' && !/^body/.test(body?.message ?? '')),
          what,
        );
      }
      checked.push(route);
    }
    // The machine and cluster actions, the node drain and uncordon, the operation controls, a restore.
    for (const route of [
      '/api/v1/machines/{id}/actions/{action}',
      '/api/v1/clusters/{name}/actions/{action}',
      '/api/v1/clusters/{name}/nodes/{node}/drain',
      '/api/v1/clusters/{name}/nodes/{node}/uncordon',
      '/api/v1/clusters/{name}/operations/active/{control}',
      '/api/v1/clusters/{name}/backups/{backup}/restore',
    ])
      assert.ok(checked.includes(route), `${route} was checked (${checked.join(', ')})`);
  });

  it('holds the bundle routes to the same rules (typed, bounded, known fields only, no-store), and takes image and bundle uploads only as octet-stream', async () => {
    const url = 'http://10.0.0.1/kubernetes-server-linux-amd64.tar.gz';
    await refused('POST', '/api/v1/bundles', { url: 12345 }, 'url');
    await refused('POST', '/api/v1/bundles', { url: `http://10.0.0.1/${'x'.repeat(3000)}` }, 'url');
    await refused('POST', '/api/v1/bundles', { url, name: 'n'.repeat(64) }, 'name');
    await refused('POST', '/api/v1/bundles', { url, sha256: true }, 'sha256');
    await refused('POST', '/api/v1/bundles', { url, mirror: 'x' }, 'mirror');
    await refused('POST', '/api/v1/bundles', { url: 'http://127.0.0.1:9/k.tar.gz' }, 'url');
    await refused('GET', `/api/v1/bundles/${'b'.repeat(200)}`, undefined, 'name');
    for (const [method, path] of [
      ['POST', '/api/v1/bundles/upload?name=k'],
      ['PUT', '/api/v1/images/k'],
    ])
      for (const [type, body] of [
        ['text/plain', 'not a tarball'],
        ['application/json', '{"name":"k"}'],
        [undefined, undefined],
      ] as const) {
        const before = await snapshot();
        const res = await r.fetch(`${r.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${r.adminToken}`, ...(type ? { 'content-type': type } : {}) },
          body,
        });
        assert.equal(res.status, 415, `${method} ${path} as ${type}: ${await res.clone().text()}`);
        assert.equal(((await res.json()) as E).details.field, 'body');
        assert.deepEqual(await snapshot(), before, `${method} ${path} as ${type} wrote something`);
      }
    assert.equal((await r.api('GET', '/api/v1/images/k')).status, 404, 'no image was registered');
    const list = await r.fetch(`${r.url}/api/v1/bundles`, {
      headers: { authorization: `Bearer ${r.adminToken}` },
    });
    assert.deepEqual(await list.json(), [], 'nothing was registered');
    assert.equal(list.headers.get('cache-control'), 'no-store');
  });
});
