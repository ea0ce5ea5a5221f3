import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scratchDirs } from './scratch.ts';

const made: string[] = [];

describe('a suite with scratch directories', () => {
  const scratch = scratchDirs();
  it('makes them under the tmp dir with the prefix, one per call', () => {
    const a = scratch('ingot-scratch-');
    const b = scratch('ingot-scratch-');
    writeFileSync(join(a, 'key'), 'secret', { mode: 0o600 });
    made.push(a, b);
    assert.notEqual(a, b);
    assert.match(a, /ingot-scratch-/);
    assert.ok(existsSync(join(a, 'key')));
  });
});

describe('after that suite', () => {
  it('has removed its directories with their files', () => {
    assert.equal(made.length, 2);
    for (const d of made) assert.equal(existsSync(d), false, d);
  });
});
