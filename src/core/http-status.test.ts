import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from './errors.ts';
import { codeOfStatus, HTTP_STATUS, httpStatusOf } from './http-status.ts';

describe('the code → HTTP status table', () => {
  it('gives every error code a status', () => {
    for (const code of Object.values(ErrorCode)) assert.ok(HTTP_STATUS[code] >= 400, code);
  });

  it('reads a bare status back as a code with that very status, and knows no code for a status it has none for', () => {
    for (const status of [400, 401, 403, 404, 408, 409, 413, 414, 415, 431]) {
      const code = codeOfStatus(status);
      assert.ok(code, `${status}`);
      assert.equal(httpStatusOf(code), status);
    }
    assert.equal(codeOfStatus(418), undefined);
    assert.equal(codeOfStatus(502), undefined);
  });
});
