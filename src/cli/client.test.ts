import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';
import { errorFromResponse, Exit, exitFor } from './client.ts';

describe('CLI errors', () => {
  it('gives scripts an exit code per kind of failure, from the error’s code', () => {
    const cases: [unknown, Exit][] = [
      [invalid('--rack', 'x'), Exit.Usage],
      [new IngotError(ErrorCode.MachineNotFound, 'x'), Exit.NotFound],
      [new IngotError(ErrorCode.InvalidTransition, 'x'), Exit.Conflict],
      [new IngotError(ErrorCode.Forbidden, 'x'), Exit.Auth],
      [new IngotError(ErrorCode.Unreachable, 'x'), Exit.Unreachable],
      [new IngotError(ErrorCode.StepFailed, 'x'), Exit.ActionFailed],
      [new IngotError(ErrorCode.Timeout, 'x'), Exit.Timeout],
      [new IngotError(ErrorCode.PayloadTooLarge, 'x'), Exit.Usage],
      [new IngotError(ErrorCode.UriTooLong, 'x'), Exit.Usage],
      [new IngotError(ErrorCode.UnsupportedMediaType, 'x'), Exit.Usage],
      [new IngotError(ErrorCode.HeadersTooLarge, 'x'), Exit.Usage],
      [new IngotError(ErrorCode.RequestTimeout, 'x'), Exit.Timeout],
      [new IngotError(ErrorCode.BmcError, 'x'), Exit.Error],
      [new Error('boom'), Exit.Error],
    ];
    for (const [e, exit] of cases) assert.equal(exitFor(e), exit, String(e));
  });

  it('keeps a region’s error as it sent it, and falls back on the HTTP status for anything else', () => {
    const sent = errorFromResponse(409, {
      code: 'INGOT_INVALID_TRANSITION',
      message: 'cannot',
      details: { a: 1 },
    });
    assert.deepEqual(sent.toJSON(), {
      code: 'INGOT_INVALID_TRANSITION',
      message: 'cannot',
      details: { a: 1 },
    });
    const proxy = errorFromResponse(404, undefined);
    assert.deepEqual([proxy.code, proxy.message], [ErrorCode.NotFound, 'HTTP 404']);
    const newer = errorFromResponse(403, { code: 'INGOT_FROM_THE_FUTURE', message: 'm' });
    assert.deepEqual(
      [newer.code, newer.details.regionCode, exitFor(newer)],
      [ErrorCode.Forbidden, 'INGOT_FROM_THE_FUTURE', Exit.Auth],
    );
    assert.equal(errorFromResponse(502, {}).code, ErrorCode.Internal);
    // A proxy's bare 413/415/431 reads as the code the region itself gives that status.
    assert.equal(errorFromResponse(413, undefined).code, ErrorCode.PayloadTooLarge);
    assert.equal(errorFromResponse(415, 'nginx page').code, ErrorCode.UnsupportedMediaType);
    assert.equal(errorFromResponse(431, undefined).code, ErrorCode.HeadersTooLarge);
  });
});
