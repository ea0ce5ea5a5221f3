import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DiskAtRisk, heatOf, type MachineHealth, rackHeat } from './heat.ts';

const h = (machine: string, over: Partial<MachineHealth> = {}): MachineHealth => ({
  machine,
  hostname: machine,
  zone: 'z1',
  rack: 'r1',
  at: '2026-12-02T10:00:00.000Z',
  reachable: true,
  health: 'ok',
  tempMaxCelsius: 45,
  watts: 200,
  fansFailed: 0,
  psusFailed: 0,
  ...over,
});

describe('racks heat map', () => {
  it('bands temperatures at 60 and 80 °C and says when there is nothing to show', () => {
    assert.deepEqual(heatOf('temperature', h('a'), 0), {
      tone: 'ok',
      text: '45',
      label: 'hottest sensor 45 °C',
    });
    assert.equal(heatOf('temperature', h('a', { tempMaxCelsius: 60 }), 0).tone, 'warn');
    assert.equal(heatOf('temperature', h('a', { tempMaxCelsius: 83.6 }), 0).text, '84');
    assert.equal(heatOf('temperature', h('a', { tempMaxCelsius: 83.6 }), 0).tone, 'error');
    assert.deepEqual(heatOf('temperature', undefined, 0), {
      tone: 'idle',
      text: '·',
      label: 'no health poll yet',
    });
    assert.equal(heatOf('temperature', h('a', { reachable: false }), 0).label, 'BMC not answering');
    assert.equal(heatOf('temperature', h('a', { tempMaxCelsius: null }), 0).label, 'no temperature reading');
  });

  it('bands power against the highest draw in view', () => {
    assert.deepEqual(heatOf('power', h('a', { watts: 900 }), 1000), {
      tone: 'error',
      text: '900',
      label: 'drawing 900 W',
    });
    assert.equal(heatOf('power', h('a', { watts: 500 }), 1000).tone, 'warn');
    assert.equal(heatOf('power', h('a', { watts: 499 }), 1000).tone, 'ok');
    assert.equal(heatOf('power', h('a', { watts: 1250 }), 1250).text, '1.3k');
  });

  it('sums a rack: hottest machine, power, BMCs not answering and its disks at risk', () => {
    const health = new Map([
      ['a', h('a', { tempMaxCelsius: 71, watts: 300 })],
      ['b', h('b', { tempMaxCelsius: 52, watts: 250 })],
      ['c', h('c', { reachable: false, tempMaxCelsius: null, watts: null })],
      ['x', h('x', { tempMaxCelsius: 99, watts: 5000 })],
    ]);
    const risk: DiskAtRisk = {
      machine: 'b',
      hostname: 'b',
      zone: 'z1',
      rack: 'r1',
      serial: 'S',
      device: '/dev/sda',
      reason: 'r',
    };
    const other: DiskAtRisk = { ...risk, machine: 'x' };
    assert.deepEqual(rackHeat(['a', 'b', 'c', 'd'], health, [risk, other]), {
      hottest: 71,
      watts: 550,
      disksAtRisk: [risk],
      unanswered: 1,
    });
  });
});
