/** The `ingot` CLI as a user runs it: a child process against a real region. */
import assert from 'node:assert/strict';
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
          INGOT_URL: r.url,
          INGOT_TOKEN: r.adminToken,
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

  it('logs in, saving URL and token to a 0600 config file used by later commands', async () => {
    const res = await ingot(['login', r.url], { INGOT_URL: '', INGOT_TOKEN: '' }, `${r.adminToken}\n`);
    assert.equal(res.code, 0, res.err);
    assert.match(res.err, /logged in to .* as admin \(admin\)/);
    const ls = await ingot(['machine', 'ls'], { INGOT_URL: '', INGOT_TOKEN: '' });
    assert.equal(ls.code, 0, ls.err);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(`${r.dataDir}/ingot/config.json`).mode & 0o777, 0o600);
  });
});
