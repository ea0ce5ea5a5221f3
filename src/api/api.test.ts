import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from '../../test/support/region.ts';

interface M {
  id: string;
  hostname: string;
  state: string;
  stateReason: string;
  allowedActions: string[];
  owner: string;
  cpu: { cores: number } | null;
  disks: unknown[];
}
// biome-ignore lint/suspicious/noExplicitAny: request bodies are mutated into invalid shapes on purpose
type Body = Record<string, any>;
interface E {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

describe('region API', () => {
  let r: TestRegion;
  let viewer: string;
  let operator: string;
  before(async () => {
    r = await startTestRegion();
    const v = await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' });
    const o = await r.api<{ secret: string }>('POST', '/api/v1/tokens', { name: 'o', role: 'operator' });
    viewer = v.body.secret;
    operator = o.body.secret;
  });
  after(async () => r?.stop());

  const count = async () => (await r.api<{ total: number }>('GET', '/api/v1/machines?limit=1')).body.total;

  it('records who created a token on the audit log, readable by admins only', async () => {
    const audit = await r.api<{ type: string; actor: string; message: string }[]>(
      'GET',
      '/api/v1/audit?limit=1000',
    );
    const created = audit.body.find((e) => e.type === 'token.created' && e.message.startsWith('token o '));
    assert.equal(created?.actor, 'user:admin');
    assert.equal((await r.api('GET', '/api/v1/audit', undefined, operator)).status, 403);
  });

  it('serves /healthz without a token', async () => {
    const res = await r.fetch(`${r.url}/healthz`);
    assert.equal(res.status, 200);
  });

  it('refuses every documented route without a token with 401 INGOT_UNAUTHENTICATED', async () => {
    const doc = await r.api<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      'GET',
      '/api/v1/openapi.json',
    );
    assert.equal(doc.body.openapi, '3.1.0');
    const paths = Object.entries(doc.body.paths);
    assert.ok(paths.length >= 10, 'the OpenAPI document lists the routes');
    for (const [path, ops] of paths) {
      for (const method of Object.keys(ops)) {
        const concrete = path.replace('{id}', 'm-x').replace('{action}', 'commission');
        const res = await r.api<E>(
          method.toUpperCase(),
          concrete,
          method === 'get' || method === 'delete' ? undefined : {},
          null,
        );
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.equal(res.body.code, 'INGOT_UNAUTHENTICATED');
      }
    }
    assert.equal((await r.api('GET', '/metrics', undefined, null)).status, 401);
    assert.equal((await r.api('GET', '/api/v1/machines', undefined, 'ingot_not-a-real-token')).status, 401);
  });

  it('takes the documented create contract and returns the machine with its id, never the password', async () => {
    const body = newMachineBody({
      hostname: 'Node-A1',
      tags: ['gpu'],
      zone: 'z1',
      rack: 'r7',
      pool: 'batch',
    });
    const res = await r.api<M & Record<string, unknown>>('POST', '/api/v1/machines', body);
    assert.equal(res.status, 201);
    assert.match(res.body.id, /^m-/);
    assert.equal(res.body.hostname, 'node-a1');
    assert.equal(res.body.state, 'new');
    assert.deepEqual(res.body.allowedActions.includes('commission'), true);
    assert.ok(!JSON.stringify(res.body).includes('bmc-pass-1'));
    const got = await r.api('GET', `/api/v1/machines/${res.body.id}`);
    assert.ok(!JSON.stringify(got.body).includes('bmc-pass-1'));
    const events = await r.api('GET', `/api/v1/machines/${res.body.id}/events`);
    assert.ok(!JSON.stringify(events.body).includes('bmc-pass-1'));
  });

  it('lets a viewer read but not write, and an operator act but not manage tokens or subnets', async () => {
    assert.equal((await r.api('GET', '/api/v1/machines', undefined, viewer)).status, 200);
    const denied = await r.api<E>('POST', '/api/v1/machines', newMachineBody(), viewer);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 'INGOT_FORBIDDEN');
    const made = await r.api<M>('POST', '/api/v1/machines', newMachineBody(), operator);
    assert.equal(made.status, 201);
    assert.equal(
      (await r.api('POST', `/api/v1/machines/${made.body.id}/actions/commission`, {}, viewer)).status,
      403,
    );
    assert.equal(
      (await r.api('POST', `/api/v1/machines/${made.body.id}/actions/mark-broken`, {}, operator)).status,
      202,
    );
    assert.equal((await r.api('POST', '/api/v1/tokens', { name: 'x', role: 'admin' }, operator)).status, 403);
    assert.equal(
      (await r.api('POST', '/api/v1/subnets', { name: 'n', cidr: '10.9.0.0/24' }, operator)).status,
      403,
    );
    assert.equal((await r.api('GET', '/metrics', undefined, viewer)).status, 200);
  });

  for (const [name, mutate, field] of [
    ['a missing BMC password', (b: Body) => delete b.bmc.password, 'bmc.password'],
    ['a malformed MAC', (b: Body) => (b.nics = [{ mac: 'zz:zz' }]), 'nics[0].mac'],
    ['an unknown BMC scheme', (b: Body) => (b.bmc.address = 'telnet://10.0.0.1'), 'bmc.address'],
    ['an unknown field', (b: Body) => (b.colour = 'red'), 'colour'],
    ['an invalid hostname', (b: Body) => (b.hostname = 'bad_name!'), 'hostname'],
    ['no NICs', (b: Body) => (b.nics = []), 'nics'],
  ] as const) {
    it(`rejects ${name} with 400 naming ${field}, and creates nothing`, async () => {
      const before = await count();
      const body = newMachineBody() as Body;
      mutate(body);
      const res = await r.api<E>('POST', '/api/v1/machines', body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, 'INGOT_VALIDATION');
      assert.equal(res.body.details.field, field);
      assert.match(res.body.message, new RegExp(field.replace(/[[\].]/g, '\\$&')));
      assert.equal(await count(), before);
    });
  }

  it('rejects a duplicate MAC with 409 naming the field', async () => {
    const body = newMachineBody();
    assert.equal((await r.api('POST', '/api/v1/machines', body)).status, 201);
    const again = await r.api<E>('POST', '/api/v1/machines', { ...newMachineBody(), nics: body.nics });
    assert.equal(again.status, 409);
    assert.equal(again.body.details.field, 'nics[0].mac');
    assert.match(again.body.message, /already belongs to machine/);
  });

  it('answers an action the state forbids with 409 naming the state and the allowed actions, changing nothing', async () => {
    const m = (await r.api<M>('POST', '/api/v1/machines', newMachineBody())).body;
    const eventsBefore = (await r.api<unknown[]>('GET', `/api/v1/machines/${m.id}/events`)).body.length;
    const res = await r.api<E>('POST', `/api/v1/machines/${m.id}/actions/deploy`, {});
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'INGOT_INVALID_TRANSITION');
    assert.equal(res.body.details.state, 'new');
    assert.ok((res.body.details.allowed as string[]).includes('commission'));
    assert.match(res.body.message, /while it is new; allowed actions: commission/);
    const after = (await r.api<M>('GET', `/api/v1/machines/${m.id}`)).body;
    assert.equal(after.state, 'new');
    assert.equal(
      (await r.api<unknown[]>('GET', `/api/v1/machines/${m.id}/events`)).body.length,
      eventsBefore,
    );
  });

  it('answers an unknown action with 400 listing the valid ones', async () => {
    const m = (await r.api<M>('POST', '/api/v1/machines', newMachineBody())).body;
    const res = await r.api<E>('POST', `/api/v1/machines/${m.id}/actions/explode`, {});
    assert.equal(res.status, 400);
    assert.equal(res.body.details.field, 'action');
    assert.match(res.body.message, /commission/);
  });

  it('runs commission → ready → deploy → deployed → release → ready end to end, with every step on the timeline', async () => {
    const m = (await r.api<M>('POST', '/api/v1/machines', newMachineBody())).body;
    const state = async () => (await r.api<M>('GET', `/api/v1/machines/${m.id}`)).body;
    assert.equal((await r.api('POST', `/api/v1/machines/${m.id}/actions/commission`, {})).status, 202);
    const ready = await eventually(
      async () => ((await state()).state === 'ready' ? state() : null),
      10_000,
      'ready',
    );
    assert.equal(ready.cpu?.cores, 8, 'the inventory was stored');
    assert.equal(ready.disks.length, 1);
    const bad = await r.api<E>('POST', `/api/v1/machines/${m.id}/actions/deploy`, {}, operator);
    assert.equal(bad.status, 400, 'no image named and none registered');
    assert.equal(bad.body.details.field, 'params.image');
    assert.equal((await state()).state, 'ready', 'a refused deploy changes nothing');
    const image = { url: 'http://images.example/os.raw', sha256: 'a'.repeat(64), format: 'raw' };
    assert.equal(
      (await r.api('POST', `/api/v1/machines/${m.id}/actions/deploy`, { params: { image } }, operator))
        .status,
      202,
    );
    assert.equal((await state()).owner, 'o');
    await eventually(async () => (await state()).state === 'deployed', 10_000, 'deployed');
    assert.equal((await r.api('POST', `/api/v1/machines/${m.id}/actions/release`, {})).status, 202);
    const released = await eventually(
      async () => ((await state()).state === 'ready' ? state() : null),
      10_000,
      'released',
    );
    assert.equal(released.owner, '');
    const events = (
      await r.api<{ type: string; message: string }[]>('GET', `/api/v1/machines/${m.id}/events?limit=1000`)
    ).body;
    const transitions = events
      .filter((e) => e.type === 'machine.transition')
      .map((e) => e.message.split(':')[0]);
    assert.deepEqual(transitions, [
      'new → commissioning',
      'commissioning → ready',
      'ready → deploying',
      'deploying → deployed',
      'deployed → releasing',
      'releasing → ready',
    ]);
    const steps = events.filter((e) => e.type === 'step.completed').map((e) => e.message.split(' ')[0]);
    assert.deepEqual(steps.slice(0, 5), ['boot', 'wait-agent', 'inventory', 'hardware-tests', 'power-off']);
  });

  it('streams events over SSE as they happen', async () => {
    const m = (await r.api<M>('POST', '/api/v1/machines', newMachineBody())).body;
    const ac = new AbortController();
    const res = await r.fetch(`${r.url}/api/v1/events?machine=${m.id}`, {
      headers: { authorization: `Bearer ${viewer}` },
      signal: ac.signal,
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const seen: string[] = [];
    const reading = (async () => {
      const dec = new TextDecoder();
      try {
        for await (const chunk of res.body!) {
          for (const line of dec.decode(chunk as Uint8Array).split('\n'))
            if (line.startsWith('event: ')) seen.push(line.slice(7));
        }
      } catch {
        // aborted
      }
    })();
    await new Promise((res2) => setTimeout(res2, 400));
    await r.api('POST', `/api/v1/machines/${m.id}/actions/mark-broken`, { comment: 'fan noise' });
    await eventually(async () => seen.includes('machine.transition'), 5000, 'SSE transition event');
    ac.abort();
    await reading;
  });

  it('exports Prometheus metrics with machines by state and transitions', async () => {
    const res = await r.fetch(`${r.url}/metrics`, { headers: { authorization: `Bearer ${viewer}` } });
    const text = await res.text();
    assert.match(text, /ingot_machines\{state="ready"\} \d+/);
    assert.match(text, /ingot_machine_transitions_total\{from="commissioning",to="ready"\} [1-9]/);
  });

  it('creates subnets, validates ranges and hands out addresses', async () => {
    const bad = await r.api<E>('POST', '/api/v1/subnets', {
      name: 'lab',
      cidr: '10.77.0.0/24',
      ranges: [{ kind: 'dynamic', start: '10.77.1.1', end: '10.77.1.9' }],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details.field, 'ranges[0]');
    const s = await r.api<{ id: string }>('POST', '/api/v1/subnets', {
      name: 'lab',
      cidr: '10.77.0.0/24',
      gateway: '10.77.0.1',
      ranges: [{ kind: 'dynamic', start: '10.77.0.10', end: '10.77.0.20' }],
    });
    assert.equal(s.status, 201);
    const a = await r.api<{ ip: string }>('POST', `/api/v1/subnets/${s.body.id}/addresses`, {
      mac: '02:00:00:00:00:01',
    });
    assert.equal(a.body.ip, '10.77.0.10');
    assert.equal((await r.api<unknown[]>('GET', '/api/v1/subnets/lab/addresses')).body.length, 1);
  });
});
