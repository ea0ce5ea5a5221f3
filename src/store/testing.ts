/** Builders for the store's contract and for engine tests: a machine input, a harness, an assertion. Not used at runtime. */
import assert from 'node:assert/strict';
import { IngotError } from '../core/errors.ts';
import type { SqlStore } from './sql-store.ts';
import type { NewMachine } from './store.ts';

export interface Harness {
  store: SqlStore;
  /** Everything the backend persisted, as text, to grep for secrets. */
  dump(): Promise<string>;
  cleanup(): Promise<void>;
}

let seq = 0;
export function machineInput(over: Partial<NewMachine> = {}): NewMachine {
  seq++;
  const hex = seq.toString(16).padStart(6, '0');
  return {
    hostname: `node-${process.pid}-${seq}`,
    arch: 'amd64',
    bmc: { address: `fake://bmc-${seq}`, username: 'admin', password: 'pw' },
    nics: [{ mac: `52:54:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:01`, boot: true }],
    tags: [],
    zone: 'z1',
    rack: 'r1',
    pool: 'default',
    ...over,
  };
}

export async function rejectsWith(p: Promise<unknown>, code: string): Promise<IngotError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof IngotError, `expected IngotError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}
