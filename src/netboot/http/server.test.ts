import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashBootToken } from './index.ts';
import { ipxeScriptUrl } from '../urls.ts';
import { type Harness, machine, request, settle, startHarness } from '../../../test/support/boot-http.ts';

describe('boot HTTP: iPXE scripts', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  async function inState(state: 'commissioning' | 'ready' | 'deployed', tags: string[] = []) {
    const m = await h.store.createMachine(machine({ tags }), 'test');
    if (state === 'commissioning')
      await h.store.transition({
        machineId: m.id,
        from: 'new',
        to: 'commissioning',
        reason: 't',
        actor: 'test',
      });
    else await h.store.transition({ machineId: m.id, from: 'new', to: state, reason: 't', actor: 'test' });
    return m;
  }

  it('boots a commissioning machine into the ephemeral OS with its own token and initrd= for UEFI', async () => {
    const m = await inState('commissioning');
    const r = await request(ipxeScriptUrl(h.http.url, m.nics[0].mac));
    assert.equal(r.status, 200);
    const text = r.body.toString();
    assert.match(text, /^#!ipxe\n/);
    const kernel = /^kernel (\S+) (.*)$/m.exec(text);
    assert.ok(kernel, text);
    assert.match(kernel[1], new RegExp(`^${h.http.url}/artifacts/ephemeral/vmlinuz\\?m=`));
    assert.match(kernel[2], /(^| )initrd=initrd\.img( |$)/);
    assert.match(
      text,
      /^initrd --name initrd\.img http:\/\/127\.0\.0\.1:\d+\/artifacts\/ephemeral\/initrd\.img/m,
    );
    // The agent talks HTTPS, pinned by the rack key's hash from the same kernel line.
    assert.ok(h.http.secureUrl.startsWith('https://127.0.0.1:'), h.http.secureUrl);
    assert.match(kernel[2], new RegExp(`ingot\\.url=${h.http.secureUrl}( |$)`));
    assert.ok(kernel[2].includes(` ingot.pin=${h.pin} `), kernel[2]);
    const token = /ingot\.token=(\S+)/.exec(kernel[2])?.[1];
    assert.ok(token);
    assert.equal((await h.store.findMachineByBootToken(hashBootToken(token)))?.id, m.id);
    await settle();
    const ev = await h.store.listEvents({ machineId: m.id, limit: 50 });
    const script = ev.find((e) => e.type === 'http.script');
    assert.equal(script?.data.boot, 'ephemeral');
    assert.ok(!JSON.stringify(ev).includes(token), 'the token must not reach the timeline');
  });

  it('gives each boot a new token and retires the previous one', async () => {
    const m = await inState('commissioning');
    const t1 = /ingot\.token=(\S+)/.exec(
      (await request(ipxeScriptUrl(h.http.url, m.nics[0].mac))).body.toString(),
    )![1];
    const t2 = /ingot\.token=(\S+)/.exec(
      (await request(ipxeScriptUrl(h.http.url, m.nics[0].mac))).body.toString(),
    )![1];
    assert.notEqual(t1, t2);
    assert.equal(await h.store.findMachineByBootToken(hashBootToken(t1)), null);
    assert.equal((await h.store.findMachineByBootToken(hashBootToken(t2)))?.id, m.id);
  });

  it('sends a ready machine to its local disk with exit by default', async () => {
    const m = await inState('ready');
    const r = await request(ipxeScriptUrl(h.http.url, m.nics[0].mac));
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /^exit$/m);
    assert.doesNotMatch(r.body.toString(), /kernel/);
  });

  it('uses sanboot for a deployed machine tagged localboot.sanboot', async () => {
    const m = await inState('deployed', ['localboot.sanboot']);
    const r = await request(ipxeScriptUrl(h.http.url, m.nics[0].mac));
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /sanboot --no-describe --drive 0x80/);
  });

  it('answers 404 for a machine tagged localboot.404 so its firmware tries the next device', async () => {
    const m = await inState('ready', ['localboot.404']);
    const r = await request(ipxeScriptUrl(h.http.url, m.nics[0].mac));
    assert.equal(r.status, 404);
    await settle();
    const ev = await h.store.listEvents({ machineId: m.id, limit: 50 });
    assert.equal(ev.find((e) => e.type === 'http.script')?.data.boot, 'local-404');
  });

  it('answers 404 to an unknown MAC and to a malformed path', async () => {
    assert.equal((await request(`${h.http.url}/boot/52-54-00-ff-ff-fe.ipxe`)).status, 404);
    assert.equal((await request(`${h.http.url}/boot/nonsense.ipxe`)).status, 404);
  });
});

describe('boot HTTP: artifacts', () => {
  let h: Harness;
  const big = Buffer.alloc(3 * 2 ** 20 + 123);
  before(async () => {
    // maxCachedFile is derived from cacheBytes: a 1 MiB cache makes the 3 MiB file stream from disk.
    h = await startHarness({ cacheBytes: 2 ** 20 });
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    writeFileSync(join(h.artifacts, 'big.img'), big);
  });
  after(() => h.close());

  for (const name of ['ephemeral/vmlinuz', 'big.img']) {
    it(`serves ${name} whole, by range, by suffix range, and refuses a range past the end`, async () => {
      const whole = await request(`${h.http.secureUrl}/artifacts/${name}`);
      assert.equal(whole.status, 200);
      assert.equal(whole.headers['accept-ranges'], 'bytes');
      const size = whole.body.length;
      assert.equal(Number(whole.headers['content-length']), size);
      const part = await request(`${h.http.secureUrl}/artifacts/${name}`, {
        headers: { range: 'bytes=100-1099' },
      });
      assert.equal(part.status, 206);
      assert.equal(part.headers['content-range'], `bytes 100-1099/${size}`);
      assert.deepEqual(part.body, whole.body.subarray(100, 1100));
      const tail = await request(`${h.http.secureUrl}/artifacts/${name}`, {
        headers: { range: 'bytes=-10' },
      });
      assert.equal(tail.status, 206);
      assert.deepEqual(tail.body, whole.body.subarray(size - 10));
      const open = await request(`${h.http.secureUrl}/artifacts/${name}`, {
        headers: { range: `bytes=${size - 5}-` },
      });
      assert.deepEqual(open.body, whole.body.subarray(size - 5));
      const past = await request(`${h.http.secureUrl}/artifacts/${name}`, {
        headers: { range: `bytes=${size}-` },
      });
      assert.equal(past.status, 416);
      assert.equal(past.headers['content-range'], `bytes */${size}`);
    });
  }

  it('streams a file larger than the cache byte for byte', async () => {
    const r = await request(`${h.http.secureUrl}/artifacts/big.img`);
    assert.ok(r.body.equals(big));
  });

  it('answers HEAD without a body and 304 to a matching ETag', async () => {
    const head = await request(`${h.http.url}/artifacts/ephemeral/vmlinuz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], '4096');
    const again = await request(`${h.http.url}/artifacts/ephemeral/vmlinuz`, {
      headers: { 'if-none-match': String(head.headers.etag) },
    });
    assert.equal(again.status, 304);
  });

  it('serves a changed file anew', async () => {
    writeFileSync(join(h.artifacts, 'changing.txt'), 'one');
    assert.equal((await request(`${h.http.secureUrl}/artifacts/changing.txt`)).body.toString(), 'one');
    writeFileSync(join(h.artifacts, 'changing.txt'), 'second');
    assert.equal((await request(`${h.http.secureUrl}/artifacts/changing.txt`)).body.toString(), 'second');
  });

  it('refuses paths outside the artifacts directory', async () => {
    for (const p of [
      '/artifacts/../data/ingot.db',
      '/artifacts/%2e%2e/data/ingot.db',
      '/artifacts/ephemeral/',
    ]) {
      assert.equal((await request(`${h.http.secureUrl}${p}`)).status, 404, p);
    }
  });

  it('puts each fetch on the timeline of the machine named in the URL', async () => {
    const m = await h.store.createMachine(machine(), 'test');
    const mac = m.nics[0].mac.replace(/:/g, '-');
    await request(`${h.http.url}/artifacts/ephemeral/initrd.img?m=${mac}`);
    await settle();
    const ev = (await h.store.listEvents({ machineId: m.id, limit: 50 })).find(
      (e) => e.type === 'http.artifact',
    );
    assert.ok(ev);
    assert.equal(ev.data.path, '/artifacts/ephemeral/initrd.img');
    assert.equal(ev.data.bytes, 1000);
    assert.equal(ev.data.complete, true);
  });
});

describe('boot HTTP: agent phone-home', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('records agent.hello on the machine and its running job for a valid token', async () => {
    const m = await h.store.createMachine(machine(), 'test');
    const { job } = await h.store.transition({
      machineId: m.id,
      from: 'new',
      to: 'commissioning',
      reason: 't',
      actor: 'test',
      job: { kind: 'commission', steps: ['wait-agent'] },
    });
    const script = (await request(ipxeScriptUrl(h.http.url, m.nics[0].mac))).body.toString();
    const token = /ingot\.token=(\S+)/.exec(script)![1];
    const r = await request(`${h.http.secureUrl}/agent/v1/hello`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mac: m.nics[0].mac, uptime: '3.2', secret: 'dropped' }),
    });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body.toString()).machineId, m.id);
    const hello = (await h.store.listEvents({ machineId: m.id, limit: 50 })).find(
      (e) => e.type === 'agent.hello',
    );
    assert.ok(hello, 'the event is stored before the 200');
    assert.equal(hello.jobId, job?.id);
    assert.equal(hello.data.uptime, '3.2');
    assert.equal(hello.data.secret, undefined);
  });

  it('refuses a hello without a token (401) or with an unknown one (403)', async () => {
    assert.equal((await request(`${h.http.secureUrl}/agent/v1/hello`, { method: 'POST' })).status, 401);
    const r = await request(`${h.http.secureUrl}/agent/v1/hello`, {
      method: 'POST',
      headers: { authorization: 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    assert.equal(r.status, 403);
  });
});

describe('boot HTTP: plain HTTP beside HTTPS', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('serves firmware its files over plain HTTP and everything carrying a token only over HTTPS', async () => {
    for (const p of ['/artifacts/ephemeral/vmlinuz', '/artifacts/ephemeral/initrd.img', '/healthz'])
      assert.equal((await request(`${h.http.url}${p}`)).status, 200, p);
    for (const [method, p] of [
      ['POST', '/agent/v1/hello'],
      ['GET', '/agent/v1/task'],
      ['POST', '/agent/v1/os-booted/x'],
      ['GET', '/metadata/x/meta-data'],
      ['GET', '/latest/meta-data/'],
      ['GET', '/bundles/k8s/install.sh'],
      ['GET', '/artifacts/images/os.raw'],
      ['GET', '/artifacts/other.bin'],
    ] as const) {
      const r = await request(`${h.http.url}${p}`, { method });
      assert.equal(r.status, 403, `${method} ${p}`);
      assert.equal(r.body.toString(), `${p} is served over HTTPS only: ${h.http.secureUrl}${p}\n`);
    }
    // the same agent path over HTTPS reaches its handler (no token: 401)
    assert.equal((await request(`${h.http.secureUrl}/agent/v1/hello`, { method: 'POST' })).status, 401);
  });

  it('hands out its certificate, which carries the pin on the kernel line', async () => {
    const { publicKeyPin } = await import('../../tls/fingerprint.ts');
    const r = await request(`${h.http.secureUrl}/tls/rack.crt`);
    assert.equal(r.status, 200);
    assert.equal(publicKeyPin(r.body.toString()), h.pin);
  });

  it('serves everything over plain HTTP when it has no certificate (--insecure-http)', async () => {
    const plain = await startHarness({ tls: null });
    try {
      assert.equal(plain.http.secureUrl, plain.http.url);
      assert.equal((await request(`${plain.http.url}/agent/v1/hello`, { method: 'POST' })).status, 401);
    } finally {
      await plain.close();
    }
  });
});
