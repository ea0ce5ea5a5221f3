import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { IpmiDriver } from './driver.ts';

/**
 * A stand-in ipmitool that records what it was given and answers with output captured from the
 * real ipmitool 1.8.19 (against ipmi_sim and pyghmi). The real-peer tests are in test/bmc-ipmi.test.ts.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingot-fake-ipmitool-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function fakeIpmitool(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "$@" > "${file}.argv"\nenv > "${file}.env"\n${body}\n`, {
    mode: 0o755,
  });
  return file;
}

const creds = (address = 'ipmi://10.0.0.9') => ({ address, username: 'admin', password: 'pa55-word!' });

async function failure(p: Promise<unknown>): Promise<IngotError> {
  const e = await p.then(
    () => assert.fail('expected a rejection'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof IngotError);
  assert.doesNotMatch(e.message, /pa55-word/);
  return e;
}

describe('ipmitool runner', () => {
  it('hands the password over in IPMI_PASSWORD with -E, never on the command line', async () => {
    const bin = fakeIpmitool('ok', 'echo "Chassis Power is on"');
    const d = new IpmiDriver(creds('ipmi://10.0.0.9:6230'), { ipmitool: bin });
    assert.equal(await d.powerState(), 'on');
    const argv = fs.readFileSync(`${bin}.argv`, 'utf8').split('\n');
    assert.ok(!argv.some((a) => a.includes('pa55-word')));
    assert.ok(argv.includes('-E'));
    assert.deepEqual(argv.slice(0, 6), ['-I', 'lanplus', '-H', '10.0.0.9', '-p', '6230']);
    assert.equal(argv[argv.indexOf('-C') + 1], '17');
    assert.match(fs.readFileSync(`${bin}.env`, 'utf8'), /^IPMI_PASSWORD=pa55-word!$/m);
  });

  it('takes the cipher suite from the address before the driver option', async () => {
    const bin = fakeIpmitool('cipher', 'echo "Chassis Power is off"');
    await new IpmiDriver(creds('ipmi://10.0.0.9?cipher=3'), { ipmitool: bin, cipherSuite: 8 }).powerState();
    let argv = fs.readFileSync(`${bin}.argv`, 'utf8').split('\n');
    assert.equal(argv[argv.indexOf('-C') + 1], '3');
    await new IpmiDriver(creds(), { ipmitool: bin, cipherSuite: 8 }).powerState();
    argv = fs.readFileSync(`${bin}.argv`, 'utf8').split('\n');
    assert.equal(argv[argv.indexOf('-C') + 1], '8');
  });

  it('names the refused cipher suite and how to choose another', async () => {
    const bin = fakeIpmitool(
      'refuse17',
      `echo "Error in open session response message : invalid authentication algorithm" >&2\necho "" >&2\necho "Error: Unable to establish IPMI v2 / RMCP+ session" >&2\nexit 1`,
    );
    const e = await failure(new IpmiDriver(creds(), { ipmitool: bin }).power('on'));
    assert.equal(e.code, ErrorCode.BmcUnsupported);
    assert.match(
      e.message,
      /^power on is not supported by BMC ipmi:\/\/10\.0\.0\.9:623: the BMC refused IPMI cipher suite 17 \(.*invalid authentication algorithm\); choose a suite it supports with \?cipher=3/,
    );
    assert.equal(e.details.cipherSuite, 17);
  });

  it('asks ipmitool why a session failed and reports bad credentials as INGOT_BMC_AUTH', async () => {
    const bin = fakeIpmitool(
      'badpass',
      `case " $* " in *" -v "*) echo "> RAKP 2 HMAC is invalid" >&2;; esac\necho "Error: Unable to establish IPMI v2 / RMCP+ session" >&2\nexit 1`,
    );
    const e = await failure(new IpmiDriver(creds(), { ipmitool: bin }).setBootDevice({ device: 'network' }));
    assert.equal(e.code, ErrorCode.BmcAuth);
    assert.match(
      e.message,
      /^set boot device network on BMC ipmi:\/\/10\.0\.0\.9:623: the BMC rejected the credentials \(RAKP 2 HMAC is invalid\)/,
    );
  });

  it('reports a BMC that does not answer as retryable INGOT_BMC_UNREACHABLE', async () => {
    const bin = fakeIpmitool(
      'silent',
      `case " $* " in *" -v "*) echo "Get Auth Capabilities error" >&2;; esac\necho "Error: Unable to establish IPMI v2 / RMCP+ session" >&2\nexit 1`,
    );
    const e = await failure(new IpmiDriver(creds(), { ipmitool: bin }).powerState());
    assert.equal(e.code, ErrorCode.BmcUnreachable);
    assert.equal(e.retryable, true);
  });

  it('says how to install ipmitool when it is missing', async () => {
    const e = await failure(
      new IpmiDriver(creds(), { ipmitool: path.join(dir, 'no-such-ipmitool') }).powerState(),
    );
    assert.equal(e.code, ErrorCode.BmcError);
    assert.match(e.message, /install the Debian package ipmitool/);
  });

  it('refuses virtual media and UEFI HTTP boot as unsupported without running ipmitool', async () => {
    const d = new IpmiDriver(creds(), { ipmitool: path.join(dir, 'never-run') });
    assert.equal((await failure(d.insertVirtualMedia())).code, ErrorCode.BmcUnsupported);
    const e = await failure(d.setBootDevice({ device: 'uefi-http' }));
    assert.equal(e.code, ErrorCode.BmcUnsupported);
    assert.match(e.message, /^set boot device uefi-http is not supported by BMC ipmi:\/\/10\.0\.0\.9:623/);
  });

  it('rejects a cipher suite outside 0..17 as an input error', () => {
    assert.throws(
      () => new IpmiDriver(creds('ipmi://10.0.0.9?cipher=42')),
      (e: unknown) =>
        e instanceof IngotError && e.code === ErrorCode.Validation && /bmc\.address/.test(e.message),
    );
  });
});
