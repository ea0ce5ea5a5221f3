import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { faultOptions, parseListen, quirkList } from './bmc.ts';

const inputError = (field: string) => (e: unknown) =>
  e instanceof IngotError && e.code === ErrorCode.Validation && e.message.startsWith(`${field}: `);

describe('ingot bmc emulate flags', () => {
  it('parses HOST:PORT, [IPv6]:PORT and :PORT', () => {
    assert.deepEqual(parseListen('0.0.0.0:8000'), { host: '0.0.0.0', port: 8000 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen(':9000'), { host: '127.0.0.1', port: 9000 });
  });

  it('rejects a listen address without a valid port', () => {
    assert.throws(() => parseListen('localhost'), inputError('--listen'));
    assert.throws(() => parseListen('h:70000'), inputError('--listen'));
  });

  it('turns --faults and --fault-kinds into fault options and refuses unknown kinds', () => {
    assert.equal(faultOptions({}), undefined);
    assert.deepEqual(faultOptions({ faults: '0.3', faultKinds: '500, timeout', seed: '9' }), {
      rate: 0.3,
      kinds: ['500', 'timeout'],
      seed: 9,
    });
    assert.throws(() => faultOptions({ faults: '2' }), inputError('--faults'));
    assert.throws(() => faultOptions({ faults: '0.1', faultKinds: 'meteor' }), inputError('--fault-kinds'));
  });

  it('turns --quirks into the emulator’s quirk list and refuses unknown ones', () => {
    assert.equal(quirkList(undefined), undefined);
    assert.deepEqual(quirkList('trailing-slash'), ['trailing-slash']);
    assert.throws(() => quirkList('trailing-slash,dell'), inputError('--quirks'));
  });
});
