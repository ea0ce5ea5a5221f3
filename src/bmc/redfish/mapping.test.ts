import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { parseRedfishAddress } from './address.ts';
import { normalizeMac, resetPlan, sensorKindOf } from './mapping.ts';
import { normalizeFingerprint } from '../../tls/fingerprint.ts';

describe('Redfish reset plans', () => {
  const all = null;
  it('does nothing when the machine is already in the asked state', () => {
    assert.deepEqual(resetPlan('on', true, all), []);
    assert.deepEqual(resetPlan('force-off', false, all), []);
    assert.deepEqual(resetPlan('graceful-off', false, all), []);
  });

  it('prefers the standard reset type and falls back to what the BMC allows', () => {
    assert.deepEqual(resetPlan('on', false, ['ForceOn', 'ForceOff']), ['ForceOn']);
    assert.deepEqual(resetPlan('on', false, ['PushPowerButton']), ['PushPowerButton']);
    assert.deepEqual(resetPlan('reset', true, ['On', 'ForceOff', 'PowerCycle']), ['PowerCycle']);
    assert.deepEqual(resetPlan('graceful-off', true, ['On', 'PushPowerButton']), ['PushPowerButton']);
  });

  it('cycles with PowerCycle, or ForceOff then On when PowerCycle is not allowed', () => {
    assert.deepEqual(resetPlan('cycle', true, all), ['PowerCycle']);
    assert.deepEqual(resetPlan('cycle', true, ['On', 'ForceOff', 'ForceRestart']), ['ForceOff', 'On']);
    assert.deepEqual(resetPlan('cycle', false, ['On']), ['On']);
  });

  it('returns null when no allowed reset type can do it', () => {
    assert.equal(resetPlan('force-off', true, ['On', 'GracefulShutdown']), null);
    assert.equal(resetPlan('on', false, ['ForceOff']), null);
  });
});

describe('Redfish addresses', () => {
  it('maps schemes to HTTP or HTTPS and keeps the system path', () => {
    const a = parseRedfishAddress('redfish://10.0.0.5/redfish/v1/Systems/1');
    assert.deepEqual(
      [a.origin, a.systemPath, a.target],
      ['https://10.0.0.5', '/redfish/v1/Systems/1', 'redfish://10.0.0.5/redfish/v1/Systems/1'],
    );
    assert.equal(parseRedfishAddress('redfish+http://h:8000').origin, 'http://h:8000');
    assert.equal(parseRedfishAddress('redfish+https://h/redfish/v1/').systemPath, null);
  });

  it('keeps credentials and query out of the target', () => {
    const a = parseRedfishAddress('redfish+https://root:calvin@h:443/redfish/v1/Systems/1?fingerprint=AA');
    assert.ok(!a.target.includes('calvin'));
    assert.equal(a.fingerprint, 'AA');
  });

  it('rejects a path that is not a system with an input error naming the field', () => {
    assert.throws(
      () => parseRedfishAddress('redfish+https://h/redfish/v1/Chassis/1'),
      (e: unknown) =>
        e instanceof IngotError && e.code === ErrorCode.Validation && e.message.startsWith('bmc.address: '),
    );
  });

  it('normalises fingerprints and rejects malformed ones', () => {
    const hex = 'ab'.repeat(32);
    assert.equal(normalizeFingerprint(`sha256:${hex}`), Array(32).fill('AB').join(':'));
    assert.throws(() => normalizeFingerprint('abcd'), /bmc\.tlsFingerprint/);
  });
});

describe('Redfish value mapping', () => {
  it('classifies sensors and normalises MACs', () => {
    assert.equal(sensorKindOf(null, 'Cel', 'x'), 'temperature');
    assert.equal(sensorKindOf('Percent', '%', 'CPU #1 Fan Speed'), 'fan');
    assert.equal(sensorKindOf('Current', 'A', 'PSU current'), 'other');
    assert.equal(normalizeMac('AA-BB-CC-DD-EE-0F'), 'aa:bb:cc:dd:ee:0f');
    assert.equal(normalizeMac('00:00:00:00:00:00'), null);
  });
});
