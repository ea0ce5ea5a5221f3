/** smartctl JSON (real smartmontools 7.3 output, test/fixtures/smartctl) to a disk's health record. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ErrorCode, type IngotError } from './errors.ts';
import { parseSmartctl } from './smartctl.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/smartctl/${name}`, import.meta.url), 'utf8'));
const ctx = { machineId: 'm-1', at: 1_700_000_000_000, source: 'agent' as const };

describe('parseSmartctl', () => {
  it('reads an ATA disk’s reallocated and pending sectors from the raw attribute values', () => {
    assert.deepEqual(parseSmartctl(fixture('ata-seagate-st3500418as.json'), ctx), {
      machineId: 'm-1',
      serial: 'REDACTED',
      at: ctx.at,
      device: '/dev/sdb',
      model: 'ST3500418AS',
      protocol: 'ata',
      passed: true,
      reallocatedSectors: 1,
      pendingSectors: 0,
      mediaErrors: null,
      percentageUsed: null,
      temperatureCelsius: 32,
      powerOnHours: 44670,
      source: 'agent',
    });
  });

  it('reads an NVMe disk’s media errors and percentage used from its health log', () => {
    const d = parseSmartctl(fixture('nvme-samsung-970-evo-plus.json'), ctx);
    assert.deepEqual(
      [
        d.protocol,
        d.device,
        d.mediaErrors,
        d.percentageUsed,
        d.reallocatedSectors,
        d.temperatureCelsius,
        d.powerOnHours,
      ],
      ['nvme', '/dev/nvme0', 0, 0, null, 35, 3149],
    );
  });

  it('reads what smartctl says of QEMU’s NVMe disk in the boot image (generated here, not upstream)', () => {
    const d = parseSmartctl(fixture('qemu-nvme.json'), ctx);
    assert.deepEqual(
      [
        d.serial,
        d.device,
        d.model,
        d.protocol,
        d.passed,
        d.mediaErrors,
        d.percentageUsed,
        d.temperatureCelsius,
      ],
      ['INGOTNVME01', '/dev/nvme0n1', 'QEMU NVMe Ctrl', 'nvme', true, 0, 0, 50],
    );
  });

  it('keeps the drive’s own failure prediction and a worn NVMe’s counters', () => {
    const doc = fixture('nvme-samsung-970-evo-plus.json');
    doc.smart_status.passed = false;
    doc.nvme_smart_health_information_log.media_errors = 12;
    doc.nvme_smart_health_information_log.percentage_used = 104;
    const d = parseSmartctl(doc, ctx);
    assert.deepEqual([d.passed, d.mediaErrors, d.percentageUsed], [false, 12, 104]);
  });

  it('reads a SCSI disk’s grown defect list as its reallocated sectors', () => {
    const d = parseSmartctl(
      { device: { name: '/dev/sdc', protocol: 'SCSI' }, serial_number: 'Z1', scsi_grown_defect_list: 7 },
      ctx,
    );
    assert.deepEqual([d.protocol, d.reallocatedSectors, d.passed], ['scsi', 7, null]);
  });

  it('refuses a report without a serial, naming the field, since health is kept per serial', () => {
    const doc = fixture('ata-seagate-st3500418as.json');
    delete doc.serial_number;
    assert.throws(
      () => parseSmartctl(doc, ctx),
      (e: IngotError) => e.code === ErrorCode.Validation && e.details.field === 'smartctl.serial_number',
    );
    assert.throws(() => parseSmartctl('text', ctx), /smartctl: is not a JSON object/);
  });
});
