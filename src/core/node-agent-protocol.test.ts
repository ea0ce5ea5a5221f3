import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IngotError } from './errors.ts';
import { checkNodeSmartReport, MAX_NODE_SMART_DISKS } from './node-agent-protocol.ts';

const fixture = (f: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../test/fixtures/smartctl', f), 'utf8')) as Record<
    string,
    unknown
  >;

describe('a node agent’s SMART report', () => {
  it('keeps each disk once by serial, as the node agent’s, and skips a disk without a serial with its reason', () => {
    const ata = { ...fixture('ata-seagate-st3500418as.json'), serial_number: 'A1' };
    const nvme = { ...fixture('qemu-nvme.json') };
    const r = checkNodeSmartReport(
      { disks: [ata, nvme, { ...ata }, { ...ata, serial_number: '' }] },
      'm1',
      5000,
    );
    assert.deepEqual(
      r.disks.map((d) => [d.serial, d.source, d.machineId, d.at]),
      [
        ['A1', 'node-agent', 'm1', 5000],
        [String(nvme.serial_number), 'node-agent', 'm1', 5000],
      ],
    );
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0].index, 3);
    assert.match(r.skipped[0].reason, /serial_number/);
  });

  it('refuses a malformed envelope naming the field', () => {
    for (const body of [null, {}, { disks: 'x' }, { disks: Array(MAX_NODE_SMART_DISKS + 1).fill({}) }]) {
      assert.throws(
        () => checkNodeSmartReport(body, 'm1', 0),
        (e) => e instanceof IngotError && /^disks: /.test(e.message),
      );
    }
  });
});
