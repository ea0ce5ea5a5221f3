import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiClient, ApiError } from '../api/client.ts';
import { cleanConsole, readConsole } from './api.ts';
import {
  addReadings,
  byKind,
  EMPTY_HISTORY,
  formatValue,
  type SensorAnswer,
  type SensorReading,
  sparkLabel,
  sparkPath,
} from './sensors.ts';

const cpu = (value: number | null): SensorReading => ({
  name: 'CPU temperature',
  kind: 'temperature',
  value,
  unit: 'Cel',
  health: 'ok',
});
const answer = (readAt: string, readings: SensorReading[]): SensorAnswer => ({
  health: 'ok',
  readAt,
  readings,
});
const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 10, 0, s)).toISOString();

describe('sensor history', () => {
  it('adds one point per BMC read and none for a repeated (cached) answer', () => {
    let h = addReadings(EMPTY_HISTORY, answer(at(0), [cpu(41)]));
    h = addReadings(h, answer(at(0), [cpu(41)]));
    h = addReadings(h, answer(at(10), [cpu(44)]));
    assert.deepEqual(h.series[0].values, [41, 44]);
    assert.equal(h.series[0].latest.value, 44);
    assert.equal(h.readAt, at(10));
  });

  it('keeps only the last 60 points of each sensor', () => {
    let h = EMPTY_HISTORY;
    for (let i = 0; i < 75; i++) h = addReadings(h, answer(at(i), [cpu(i)]));
    assert.equal(h.series[0].values.length, 60);
    assert.equal(h.series[0].values[0], 15);
    assert.equal(h.series[0].values.at(-1), 74);
  });

  it('leaves a gap for a sensor missing from a read and adds sensors that appear', () => {
    const fan: SensorReading = { name: 'Fan 1', kind: 'fan', value: 5400, unit: 'RPM' };
    let h = addReadings(EMPTY_HISTORY, answer(at(0), [cpu(41), fan]));
    h = addReadings(h, answer(at(10), [fan]));
    h = addReadings(h, answer(at(20), [cpu(43), { ...fan, name: 'Fan 2' }]));
    assert.deepEqual(
      h.series.map((s) => [s.name, s.values]),
      [
        ['CPU temperature', [41, null, 43]],
        ['Fan 1', [5400, 5400, null]],
        ['Fan 2', [5400]],
      ],
    );
  });

  it('groups sensors by kind, temperatures first, each kind in the BMC’s order', () => {
    const h = addReadings(
      EMPTY_HISTORY,
      answer(at(0), [
        { name: '12V', kind: 'voltage', value: 12, unit: 'V' },
        cpu(40),
        { name: 'PSU 1', kind: 'power', value: 180, unit: 'W' },
        { name: 'Inlet', kind: 'temperature', value: 22, unit: 'Cel' },
      ]),
    );
    assert.deepEqual(
      byKind(h.series).map((g) => [g.label, g.series.map((s) => s.name)]),
      [
        ['Temperatures', ['CPU temperature', 'Inlet']],
        ['Power', ['PSU 1']],
        ['Voltages', ['12V']],
      ],
    );
  });
});

describe('sensor display', () => {
  it('writes values with their units as people read them', () => {
    assert.equal(formatValue(52, 'Cel'), '52 °C');
    assert.equal(formatValue(5400, 'RPM'), '5,400 RPM');
    assert.equal(formatValue(12.0512, 'V'), '12.05 V');
    assert.equal(formatValue(40, '%'), '40%');
    assert.equal(formatValue(3, ''), '3');
    assert.equal(formatValue(null, 'W'), '—');
  });

  it('spreads the points over the width, newest at the right edge, with gaps for missing values', () => {
    const p = sparkPath([10, 20, null, 22, 15], 98, 20);
    // Five points over 94 px: 23.5 px apart from x = 2; 10 is the bottom, 22 the top.
    assert.equal(p.d, 'M2,18 L25.5,4.7 M72.5,2 L96,11.3');
    assert.deepEqual(p.last, { x: 96, y: 11.3 });
    assert.deepEqual(sparkPath([null], 100, 20), { d: '', last: null });
    assert.deepEqual(sparkPath([41], 100, 20), { d: 'M98,10', last: { x: 98, y: 10 } });
    assert.equal(sparkPath([7, 7], 100, 20).d, 'M2,10 L98,10');
  });

  it('tells screen readers the range seen and the latest value', () => {
    const s = { name: 'CPU temperature', unit: 'Cel', latest: cpu(52), values: [24, null, 52] };
    assert.equal(
      sparkLabel(s),
      'CPU temperature: 2 readings since the page opened, from 24 °C to 52 °C, latest 52 °C',
    );
    assert.equal(
      sparkLabel({ ...s, values: [52] }),
      'CPU temperature: 1 reading since the page opened, 52 °C',
    );
  });
});

describe('serial console text', () => {
  it('removes terminal escapes and carriage returns', () => {
    const raw =
      '\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01HiPXE 1.21.1\r\n\x1b[0;32mOK\x1b[0m\r\nProgress 10%\rProgress 100%\r\n\x1b]0;title\x07done\n';
    assert.equal(cleanConsole(raw), 'iPXE 1.21.1\nOK\nProgress 100%\ndone\n');
  });

  it('reads the log as text with its size, and a 404 as the region’s reason', async () => {
    const calls: string[] = [];
    const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
      calls.push(`${String(input)} ${new Headers(init?.headers).get('authorization')}`);
      if (String(input).includes('/m-lab/'))
        return new Response('{"not":"json"}\nlogin:', { headers: { 'x-console-size': '900000' } });
      if (String(input).includes('/m-real/'))
        return new Response(
          JSON.stringify({ code: 'INGOT_NOT_FOUND', message: 'only lab machines log', details: {} }),
          { status: 404 },
        );
      return new Response(JSON.stringify({ code: 'INGOT_FORBIDDEN', message: 'no', details: {} }), {
        status: 403,
      });
    }) as typeof fetch;
    const client = new ApiClient('ingot_t', 'http://region');
    assert.deepEqual(await readConsole(client, 'm-lab', undefined, fetchImpl), {
      kind: 'log',
      text: '{"not":"json"}\nlogin:',
      size: 900000,
    });
    assert.deepEqual(await readConsole(client, 'm-real', undefined, fetchImpl), {
      kind: 'none',
      reason: 'only lab machines log',
    });
    await assert.rejects(
      readConsole(client, 'm-other', undefined, fetchImpl),
      (e) => e instanceof ApiError && e.status === 403,
    );
    assert.equal(calls[0], 'http://region/api/v1/machines/m-lab/console?bytes=65536 Bearer ingot_t');
  });
});
