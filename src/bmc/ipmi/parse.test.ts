import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFru, parseMcInfo, parsePowerStatus, parseSdr, parseSel } from './parse.ts';

describe('ipmitool output parsers', () => {
  it('reads the chassis power state', () => {
    assert.equal(parsePowerStatus('Chassis Power is on\n'), 'on');
    assert.equal(parsePowerStatus('Chassis Power is off\n'), 'off');
    assert.equal(parsePowerStatus('garbage'), 'unknown');
  });

  it('reads mc info with its additional device list', () => {
    const info = parseMcInfo(`Device ID                 : 0
Firmware Revision         : 9.08
Manufacturer Name         : MontaVista Software, Inc.
Product Name              : Unknown (0xF02)
Additional Device Support :
    Sensor Device
    SEL Device
    Chassis Device
Aux Firmware Rev Info     : 
    0x00
`);
    assert.equal(info.firmware, '9.08');
    assert.deepEqual(info.devices, ['Sensor Device', 'SEL Device', 'Chassis Device']);
  });

  it('reads analog sensors with units and health from sdr elist full', () => {
    const r = parseSdr(`CPU Temp         | 30h | ok  |  3.1 | 45 degrees C
Inlet Temp       | 31h | unc |  7.1 | 38 degrees C
FAN1             | 41h | ok  | 29.1 | 5400 RPM
PSU1 Power       | 50h | ok  | 10.1 | 180 Watts
12V              | 60h | lcr |  7.1 | 10.20 Volts
FAN2             | 42h | ns  | 29.2 | No Reading
`);
    assert.deepEqual(r.readings[0], {
      name: 'CPU Temp',
      kind: 'temperature',
      value: 45,
      unit: 'Cel',
      health: 'ok',
    });
    assert.deepEqual(r.readings[2], { name: 'FAN1', kind: 'fan', value: 5400, unit: 'RPM', health: 'ok' });
    assert.equal(r.readings[3].kind, 'power');
    assert.deepEqual(r.readings[5], { name: 'FAN2', kind: 'fan', value: null, unit: '', health: 'unknown' });
    assert.equal(r.health, 'critical');
  });

  it('reads SEL entries in UTC, including ones logged before the clock was set', () => {
    const e = parseSel(`SDRR successfully erased
   1 |  Pre-Init  |0000000463| Temperature #0x01 | Upper Critical going high | Asserted
   a | 11/22/2026 | 10:00:05 | Fan #0x41 | Lower Non-critical going low | Deasserted
   b | 11/22/2026 | 10:01:00 | Power Unit #0x01 | Power off/down | Asserted
`);
    assert.deepEqual(e[0], {
      id: '1',
      at: null,
      severity: 'critical',
      message: 'Temperature #0x01: Upper Critical going high (Asserted)',
    });
    assert.deepEqual(e[1], {
      id: '10',
      at: '2026-11-22T10:00:05Z',
      severity: 'ok',
      message: 'Fan #0x41: Lower Non-critical going low (Deasserted)',
    });
    assert.equal(e[2].severity, 'unknown');
  });

  it('reads model and serial from FRU product fields', () => {
    assert.deepEqual(
      parseFru(
        ' Product Manufacturer  : Contoso\n Product Name          : R650\n Product Serial        : ABC123\n',
      ),
      { manufacturer: 'Contoso', model: 'R650', serial: 'ABC123' },
    );
  });
});
