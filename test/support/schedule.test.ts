import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALONE_MARK,
  kindOf,
  next,
  order,
  runsAlone,
  runsSolo,
  SOLO_MARK,
  type TestFile,
  weigh,
} from './schedule.ts';

const f = (path: string, kind: TestFile['kind'], weight: number): TestFile => ({ path, kind, weight });

describe('the test files’ schedule (npm test)', () => {
  it('tells QEMU files, test-bed files and the rest apart by their source', () => {
    // Spelt in pieces: this file itself is neither a QEMU nor a bed file.
    assert.equal(kindOf(`releaseQemu = await ${'holdQemuTests'}('x');`), 'qemu');
    assert.equal(kindOf(`const bed = await ${'startBed'}({ name: 'op' });`), 'bed');
    assert.equal(kindOf(`const name = ${'bedName'}('op');`), 'bed');
    assert.equal(kindOf('import { holdQemuTests } from "./support/qemu-tests.ts";'), 'plain');
    assert.equal(kindOf('it("adds", () => 1 + 1)'), 'plain');
  });

  it('weighs a file by its last duration, else by its kind', () => {
    assert.equal(weigh('a', 'plain', { a: 42 }).weight, 42);
    assert.ok(weigh('b', 'qemu', {}).weight > weigh('c', 'bed', {}).weight);
    assert.ok(weigh('c', 'bed', {}).weight > weigh('d', 'plain', {}).weight);
  });

  it('queues the QEMU files first, then the rest slowest first', () => {
    const q = order([
      f('p1', 'plain', 1),
      f('b1', 'bed', 200),
      f('q1', 'qemu', 100),
      f('q2', 'qemu', 900),
      f('p2', 'plain', 300),
    ]);
    assert.deepEqual(
      q.map((x) => x.path),
      ['q2', 'q1', 'p2', 'b1', 'p1'],
    );
  });

  it('runs one QEMU file at a time while others are left, two once only QEMU files remain', () => {
    const q1 = f('q1', 'qemu', 9);
    const q2 = f('q2', 'qemu', 8);
    const p = f('p', 'plain', 1);
    assert.equal(next({ queued: [q1, q2, p], running: [], slots: 3 }), q1);
    assert.equal(next({ queued: [q2, p], running: [q1], slots: 3 }), p, 'the second QEMU file waits');
    assert.equal(next({ queued: [q2], running: [q1, p], slots: 3 }), null, 'a plain file still runs');
    assert.equal(next({ queued: [q2], running: [q1], slots: 3 }), q2, 'only QEMU files are left');
    assert.equal(
      next({ queued: [f('q3', 'qemu', 1)], running: [q1, q2], slots: 3 }),
      null,
      'never three VMs',
    );
    assert.equal(next({ queued: [p], running: [q1, q2, f('x', 'bed', 1)], slots: 3 }), null, 'slots full');
  });

  it('runs one test bed at a time while a QEMU file runs or is queued, two once the VMs are done', () => {
    const q = f('q', 'qemu', 9);
    const b1 = f('b1', 'bed', 8);
    const b2 = f('b2', 'bed', 7);
    const p = f('p', 'plain', 1);
    assert.equal(next({ queued: [b2, p], running: [q, b1], slots: 3 }), p, 'the second bed waits');
    assert.equal(next({ queued: [b2], running: [q, b1], slots: 3 }), null, 'a VM runs: the second bed waits');
    assert.equal(
      next({ queued: [f('q2', 'qemu', 5), b2, p], running: [q, b1], slots: 3 }),
      p,
      'a VM queued behind the running one: still one bed',
    );
    assert.equal(next({ queued: [b2], running: [b1, p], slots: 3 }), b2, 'no light file left, no VM');
    assert.equal(
      next({ queued: [b2, p], running: [b1], slots: 3 }),
      b2,
      'no VM left: two beds, light files beside',
    );
    assert.equal(next({ queued: [p], running: [b1, b2], slots: 3 }), p, 'the third slot to a light file');
    assert.equal(next({ queued: [b1, b2, p], running: [q], slots: 3 }), b1);
  });

  it('runs a bed marked to run alone with no other bed beside it, light files and QEMU still beside', () => {
    const q = f('q', 'qemu', 9);
    const heavy: TestFile = { ...f('h', 'bed', 8), alone: true };
    const b = f('b', 'bed', 7);
    const p = f('p', 'plain', 1);
    assert.equal(next({ queued: [heavy, b], running: [q], slots: 3 }), heavy, 'no bed running: it starts');
    assert.equal(
      next({ queued: [b, p], running: [heavy], slots: 3 }),
      p,
      'no bed beside it, a light file is',
    );
    assert.equal(next({ queued: [b], running: [heavy], slots: 3 }), null, 'the other bed waits for it');
    assert.equal(next({ queued: [heavy], running: [b], slots: 3 }), null, 'it waits for the running bed');
    assert.equal(runsAlone(`// ${ALONE_MARK}\n`), true);
    assert.equal(runsAlone(`${'startBed'}()`), false);
    assert.equal(weigh('h', 'bed', {}, `// ${ALONE_MARK}\n`).alone, true);
    assert.equal(weigh('h', 'bed', {}, 'startBed').alone, undefined);
  });

  it('runs a file marked solo first, with nothing beside it; one queued later waits for the running files, nothing starting meanwhile', () => {
    const vm: TestFile = { ...f('vm', 'qemu', 5), solo: true };
    const q = f('q', 'qemu', 9);
    const b = f('b', 'bed', 8);
    const p = f('p', 'plain', 1);
    const queue = order([p, b, q, vm]);
    assert.deepEqual(
      queue.map((x) => x.path),
      ['vm', 'q', 'b', 'p'],
      'before the slower QEMU file',
    );
    assert.equal(next({ queued: queue, running: [], slots: 3 }), vm);
    assert.equal(next({ queued: [q, b, p], running: [vm], slots: 3 }), null, 'nothing beside it');
    assert.equal(next({ queued: [q, b, p], running: [], slots: 3 }), q, 'it ended: the rest as usual');
    assert.equal(
      next({ queued: [vm, p], running: [b], slots: 3 }),
      null,
      'a file runs: it waits, nothing starts',
    );
    assert.equal(runsSolo(`// ${SOLO_MARK}\n`), true);
    assert.equal(runsSolo(`// ${ALONE_MARK}\n`), false);
    assert.equal(weigh('vm', 'qemu', {}, `// ${SOLO_MARK}\n`).solo, true);
  });
});
