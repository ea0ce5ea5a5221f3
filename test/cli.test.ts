/** The `ingot` CLI as a user runs it: a child process against a real region. */
import assert from 'node:assert/strict';
import { skipUnless } from './support/needs.ts';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { startTestRegion, type TestRegion } from './support/region.ts';

const BIN = new URL('../bin/ingot', import.meta.url).pathname;

describe('the ingot CLI', () => {
  let r: TestRegion;
  before(async () => {
    r = await startTestRegion({ simulatedAgentDelayMs: 20 });
  });
  after(async () => r?.stop());

  function ingot(
    args: string[],
    env: Record<string, string> = {},
    stdin?: string,
  ): Promise<{ code: number; out: string; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(BIN, args, {
        env: {
          ...process.env,
          ...r.cliEnv,
          XDG_CONFIG_HOME: r.dataDir,
          ...env,
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
      child.stdin.end(stdin ?? '');
    });
  }

  it('enrols a machine with the password from the environment and prints its id', async () => {
    const res = await ingot(
      [
        'machine',
        'add',
        '--bmc',
        'fake://cli-1',
        '--bmc-user',
        'admin',
        '--mac',
        '52:54:00:cc:00:01',
        '--hostname',
        'cli-1',
        '--rack',
        'r1',
      ],
      { INGOT_BMC_PASSWORD: 'cli-secret' },
    );
    assert.equal(res.code, 0, res.err);
    assert.match(res.out.trim(), /^m-[0-9a-z]{26}$/);
    assert.match(res.err, /next: ingot machine commission cli-1/);
    assert.ok(!res.out.includes('cli-secret') && !res.err.includes('cli-secret'));
  });

  it('refuses to enrol without a password source, with exit code 2', async () => {
    const res = await ingot(
      ['machine', 'add', '--bmc', 'fake://cli-2', '--bmc-user', 'admin', '--mac', '52:54:00:cc:00:02'],
      { INGOT_BMC_PASSWORD: '' },
    );
    assert.equal(res.code, 2);
    assert.match(res.err, /passwords never go on the command line/);
  });

  it('refuses an unknown OS image profile with exit code 2 before building anything', async () => {
    const res = await ingot(['image', 'build', 'os', '--profile', 'kubernetes-master']);
    assert.equal(res.code, 2);
    assert.match(res.err, /--profile: "kubernetes-master" is not one of standard, kubernetes-node/);
  });

  it('reads the password from stdin with --bmc-password-stdin', async () => {
    const res = await ingot(
      [
        'machine',
        'add',
        '--bmc',
        'fake://cli-3',
        '--bmc-user',
        'admin',
        '--mac',
        '52:54:00:cc:00:03',
        '--hostname',
        'cli-3',
        '--bmc-password-stdin',
      ],
      { INGOT_BMC_PASSWORD: '' },
      'from-stdin\n',
    );
    assert.equal(res.code, 0, res.err);
  });

  it('lists machines as a table for people and as JSON or YAML for scripts', async () => {
    const table = await ingot(['machine', 'ls']);
    assert.equal(table.code, 0);
    assert.match(table.out, /^ID\s+HOSTNAME\s+STATE\s+POWER/);
    assert.match(table.out, /cli-1\s+new/);
    const json = await ingot(['-o', 'json', 'machine', 'ls', '--rack', 'r1']);
    const parsed = JSON.parse(json.out) as { items: { hostname: string }[]; total: number };
    assert.deepEqual(
      parsed.items.map((m) => m.hostname),
      ['cli-1'],
    );
    const yaml = parse((await ingot(['-o', 'yaml', 'machine', 'show', 'cli-1'])).out) as {
      hostname: string;
      state: string;
    };
    assert.equal(yaml.hostname, 'cli-1');
  });

  it('exits 4 and names the state and allowed actions when the lifecycle forbids an action', async () => {
    const res = await ingot(['machine', 'deploy', 'cli-1']);
    assert.equal(res.code, 4);
    assert.match(res.err, /cannot deploy machine cli-1 while it is new; allowed actions: commission/);
  });

  it('commissions with --wait, showing the steps, and exits 0 when the machine is ready', async () => {
    const res = await ingot(['machine', 'commission', 'cli-1', '--wait']);
    assert.equal(res.code, 0, res.err);
    assert.match(res.err, /cli-1: boot done/);
    assert.match(res.err, /cli-1: inventory done/);
    assert.match(res.out, /cli-1: commission done \(ready\)/);
    const events = await ingot(['machine', 'events', 'cli-1']);
    assert.match(events.out, /machine\.transition\s+commissioning → ready/);
    // The latest events, like tail: the newest line is the last, and a short --limit keeps it.
    const two = await ingot(['machine', 'events', 'cli-1', '--limit', '2']);
    assert.equal(two.out.trimEnd().split('\n').length, 2, two.out);
    assert.match(two.out.trimEnd().split('\n').at(-1) ?? '', /commissioning → ready|commission done/);
    assert.match(two.err, /the latest 2 events; --limit N for more/);
  });

  it('gives a reader on a slow pipe the whole timeline, its newest line last (exit waits for the pipe)', async () => {
    const m = (await r.region.store.listMachines({}, 100)).items.find((x) => x.hostname === 'cli-1');
    assert.ok(m, 'cli-1 is enrolled');
    // More than a pipe holds (64 KiB): 600 lines of about 200 bytes, then the newest.
    await r.region.store.appendEvents([
      ...Array.from({ length: 600 }, (_, i) => ({
        type: 'test.filler',
        actor: 'test',
        message: `filler ${i} ${'x'.repeat(150)}`,
        machineId: m.id,
      })),
      { type: 'test.newest', actor: 'test', message: 'the newest line', machineId: m.id },
    ]);
    // The reader starts reading a second after the command has written everything and exited.
    const res = await new Promise<string>((resolve, reject) => {
      const sh = spawn('sh', ['-c', `"${BIN}" machine events cli-1 --limit 1000 | { sleep 1; cat; }`], {
        env: { ...process.env, ...r.cliEnv, XDG_CONFIG_HOME: r.dataDir },
      });
      let out = '';
      sh.stdout.on('data', (d) => (out += d));
      sh.on('error', reject);
      sh.on('close', () => resolve(out));
    });
    assert.ok(res.length > 100_000, `the whole timeline came through (${res.length} bytes)`);
    assert.match(res.trimEnd().split('\n').at(-1) ?? '', /test\.newest\s+the newest line/);
  });

  it('deploys with --network-config only what netplan takes: exit 2 with netplan’s words, the machine stays ready', {
    skip: skipUnless({ programs: ['netplan', 'cloud-init'] }),
  }, async () => {
    const res = await ingot(
      ['machine', 'deploy', 'cli-1', '--network-config', '-'],
      {},
      'network:\n  version: 2\n  bonds:\n    bond0: {parameters: {mode: fastest}}\n',
    );
    assert.equal(res.code, 2, res.err);
    assert.match(
      res.err,
      /params\.networkConfig: machine cli-1: netplan generate refused it: .*unknown bond mode 'fastest'/,
    );
    assert.match((await ingot(['machine', 'show', 'cli-1'])).out, /ready/);
  });

  it('exits 3 for an unknown machine, 5 for a bad token and 6 for an unreachable region', async () => {
    assert.equal((await ingot(['machine', 'show', 'nope'])).code, 3);
    const auth = await ingot(['machine', 'ls'], { INGOT_TOKEN: 'ingot_wrong' });
    assert.equal(auth.code, 5);
    assert.match(auth.err, /unknown, revoked or expired/);
    const down = await ingot(['machine', 'ls'], { INGOT_URL: 'http://127.0.0.1:1' });
    assert.equal(down.code, 6);
    assert.match(down.err, /cannot reach the region/);
  });

  it('creates a viewer token whose holder can list but not act (exit 5)', async () => {
    const created = await ingot(['token', 'create', 'cli-viewer', '--role', 'viewer']);
    assert.equal(created.code, 0, created.err);
    const secret = created.out.trim();
    assert.equal((await ingot(['machine', 'ls'], { INGOT_TOKEN: secret })).code, 0);
    const denied = await ingot(['machine', 'power', 'on', 'cli-1'], { INGOT_TOKEN: secret });
    assert.equal(denied.code, 5);
    assert.match(denied.err, /needs the operator role/);
  });

  it('adds a subnet with ranges and lists it', async () => {
    const add = await ingot([
      'subnet',
      'add',
      'rack1',
      '10.44.0.0/24',
      '--gateway',
      '10.44.0.1',
      '--dhcp',
      'full',
      '--dynamic',
      '10.44.0.100-10.44.0.200',
    ]);
    assert.equal(add.code, 0, add.err);
    const ls = await ingot(['subnet', 'ls']);
    assert.match(ls.out, /rack1\s+10\.44\.0\.0\/24\s+10\.44\.0\.1/);
    const bad = await ingot(['subnet', 'add', 'x', '10.45.0.0/24', '--dynamic', '10.46.0.1-10.46.0.9']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /ranges\[0\]: 10\.46\.0\.1-10\.46\.0\.9 is not inside 10\.45\.0\.0\/24/);
  });

  it('logs in over HTTPS, showing and pinning the certificate on first use, to a 0600 config file used by later commands', async () => {
    const none = { INGOT_URL: '', INGOT_TOKEN: '', INGOT_FINGERPRINT: '' };
    assert.ok(r.url.startsWith('https://'), r.url);
    const res = await ingot(['login', r.url], none, `${r.adminToken}\n`);
    assert.equal(res.code, 0, res.err);
    assert.ok(res.err.includes(`fingerprint ${r.fingerprint}`), res.err);
    assert.match(res.err, /logged in to .* as admin \(admin\), certificate sha256:[0-9A-F:]{95} pinned/);
    const { readFileSync, statSync } = await import('node:fs');
    const saved = JSON.parse(readFileSync(`${r.dataDir}/ingot/config.json`, 'utf8'));
    assert.equal(saved.fingerprint, r.fingerprint);
    const ls = await ingot(['machine', 'ls'], none);
    assert.equal(ls.code, 0, ls.err);
    assert.equal(statSync(`${r.dataDir}/ingot/config.json`).mode & 0o777, 0o600);
    const tls = await ingot(['tls'], none);
    assert.equal(tls.code, 0, tls.err);
    assert.equal(tls.out.trim(), `${r.fingerprint} (self-signed, generated by the region)`);
  });

  it('refuses `serve --http` on an address that is not loopback, naming --insecure-http, before it writes anything', async () => {
    const data = `${r.dataDir}/refused-http`;
    const res = await ingot(['serve', '--data', data, '--http', '--listen', '192.0.2.10:8080']);
    assert.equal(res.code, 2, res.err);
    assert.match(res.err, /--http: 192\.0\.2\.10 is not a loopback address.*pass --insecure-http/);
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(data), false);
  });

  it('refuses a region whose certificate is not the pinned one, naming both fingerprints (exit 5)', async () => {
    const other = `sha256:${'AB:'.repeat(31)}AB`;
    const res = await ingot(['machine', 'ls'], { INGOT_FINGERPRINT: other });
    assert.equal(res.code, 5, res.err);
    assert.ok(res.err.includes(`showed the certificate ${r.fingerprint}, not the pinned ${other}`), res.err);
    assert.match(res.err, /ingot login .* --fingerprint sha256:/);
    assert.match(res.err, /INGOT_TLS_UNTRUSTED/);
    // login with a fingerprint the region does not show saves nothing
    const login = await ingot(
      ['login', r.url, '--fingerprint', other],
      { INGOT_URL: '', INGOT_TOKEN: '', INGOT_FINGERPRINT: '', XDG_CONFIG_HOME: `${r.dataDir}/mismatch` },
      `${r.adminToken}\n`,
    );
    assert.equal(login.code, 5, login.err);
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(`${r.dataDir}/mismatch/ingot/config.json`), false);
    // without a pin, a self-signed region is refused with the way to pin it
    const unpinned = await ingot(['machine', 'ls'], {
      INGOT_FINGERPRINT: '',
      XDG_CONFIG_HOME: `${r.dataDir}/none`,
    });
    assert.equal(unpinned.code, 5, unpinned.err);
    assert.match(unpinned.err, /does not trust .*ingot login/);
  });
});
