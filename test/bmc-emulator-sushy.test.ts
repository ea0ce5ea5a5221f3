/**
 * Real third-party Redfish clients from Debian against `ingot bmc emulate` run as its own
 * process: OpenStack's sushy (python3-sushy) and DMTF's redfishtool each read a system, set a
 * one-time PXE boot, power it off and on, and see the changed state. Needs /usr/bin/python3
 * with python3-sushy, and /usr/bin/redfishtool.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The real `ingot` command (a shell wrapper that execs Node 24, so the PID is the emulator's). */
const CLI = path.join(import.meta.dirname, '../bin/ingot');
const SUSHY = path.join(import.meta.dirname, 'support/sushy-check.py');
const USER = 'operator';
const PASSWORD = 'vbmc-pass-1';

interface Running {
  proc: ChildProcess;
  url: string;
  fingerprint?: string;
}

/** Starts the emulator CLI on a free loopback port and waits for the line saying where it listens. */
async function startCli(extra: string[]): Promise<Running> {
  const proc = spawn(
    CLI,
    ['bmc', 'emulate', '--listen', '127.0.0.1:0', '--username', USER, '--password', PASSWORD, ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  process.once('exit', () => proc.kill('SIGKILL'));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulator did not start: ${out}`)), 20_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)\/redfish\/v1/.exec(out);
      if (m && out.includes('Ingot address')) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${out}`)));
  });
  return { proc, url, fingerprint: /fingerprint: (\S+)/.exec(out)?.[1] };
}

function stop(r: Running | undefined): Promise<void> {
  if (!r || r.proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => r.proc.kill('SIGKILL'), 5000);
    r.proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    r.proc.kill('SIGTERM');
  });
}

async function redfishtool(r: Running, args: string[], opts: string[] = []): Promise<string> {
  const host = r.url.replace(/^https?:\/\//, '');
  const secure = r.url.startsWith('https') ? 'Always' : 'Never';
  const { stdout } = await run(
    '/usr/bin/redfishtool',
    ['-r', host, '-u', USER, '-p', PASSWORD, '-S', secure, ...opts, ...args],
    { timeout: 20_000 },
  );
  return stdout;
}

describe('sushy and redfishtool against ingot bmc emulate', () => {
  let http: Running | undefined;
  let https: Running | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingot-vbmc-'));
  const certFile = path.join(dir, 'bmc.pem');
  before(async () => {
    [http, https] = await Promise.all([
      startCli(['--systems', '3']),
      startCli(['--tls', '--cert-out', certFile]),
    ]);
  });
  after(async () => {
    await Promise.all([stop(http), stop(https)]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const which of ['http', 'https'] as const) {
    it(`sushy reads the system, sets a one-time PXE boot and powers it off and on (${which})`, async () => {
      const r = (which === 'http' ? http : https)!;
      // Over HTTPS sushy verifies the emulator's self-signed certificate against the file it wrote.
      const ca = which === 'https' ? [certFile] : [];
      // requests lets REQUESTS_CA_BUNDLE override a session's verify setting, so set it too.
      const env =
        which === 'https'
          ? { ...process.env, REQUESTS_CA_BUNDLE: certFile, CURL_CA_BUNDLE: certFile }
          : process.env;
      const { stdout } = await run('/usr/bin/python3', [SUSHY, r.url, USER, PASSWORD, 'sys-0001', ...ca], {
        timeout: 30_000,
        env,
      });
      const seen = JSON.parse(stdout.trim().split('\n').at(-1)!);
      assert.equal(seen.id, 'sys-0001');
      assert.equal(seen.initial_power, 'Off');
      assert.deepEqual(seen.boot_after_set, ['Pxe', 'Once']);
      assert.equal(seen.power_after_on, 'On');
      // The one-time override was used by that power-on and is gone.
      assert.deepEqual(seen.boot_after_on, ['None', 'Disabled']);
      assert.equal(seen.power_after_off, 'Off');
      assert.equal(seen.power_after_second_on, 'On');
    });
  }

  it('redfishtool reads the system, sets a one-time PXE boot and powers it off and on', async () => {
    const r = http!;
    const sys = ['Systems', '-I', 'sys-0002'];
    const read = async (prop: string) => JSON.parse(await redfishtool(r, [...sys, 'get', '-P', prop]))[prop];
    const system = JSON.parse(await redfishtool(r, [...sys, 'get']));
    assert.equal(system.Id, 'sys-0002');
    assert.equal(system.PowerState, 'Off');
    await redfishtool(r, [...sys, 'setBootOverride', 'Once', 'Pxe']);
    const boot = await read('Boot');
    assert.equal(boot.BootSourceOverrideTarget, 'Pxe');
    assert.equal(boot.BootSourceOverrideEnabled, 'Once');
    await redfishtool(r, [...sys, 'reset', 'On']);
    assert.equal(await read('PowerState'), 'On');
    assert.equal((await read('Boot')).BootSourceOverrideEnabled, 'Disabled');
    await redfishtool(r, [...sys, 'reset', 'ForceOff']);
    assert.equal(await read('PowerState'), 'Off');
    await redfishtool(r, [...sys, 'reset', 'On']);
    assert.equal(await read('PowerState'), 'On');
  });

  it('redfishtool works over HTTPS with a session login', async () => {
    const r = https!;
    const sys = ['Systems', '-I', 'sys-0001'];
    await redfishtool(r, [...sys, 'setBootOverride', 'Continuous', 'Hdd'], ['-A', 'Session']);
    const boot = JSON.parse(await redfishtool(r, [...sys, 'get', '-P', 'Boot'], ['-A', 'Session'])).Boot;
    assert.deepEqual([boot.BootSourceOverrideTarget, boot.BootSourceOverrideEnabled], ['Hdd', 'Continuous']);
  });

  it('redfishtool is refused with a wrong password', async () => {
    const host = http!.url.replace(/^https?:\/\//, '');
    const res = await run(
      '/usr/bin/redfishtool',
      ['-r', host, '-u', USER, '-p', 'wrong', '-S', 'Never', 'Systems', '-I', 'sys-0003', 'get'],
      { timeout: 20_000 },
    ).then(
      () => 0,
      (e: { code?: number }) => e.code ?? -1,
    );
    assert.notEqual(res, 0);
  });
});
