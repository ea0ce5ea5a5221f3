import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  AgentTask,
  checkInventory,
  HELLO_FIELDS,
  helloFields,
  PARAM_ENV,
  parseReport,
  RACK_ANSWERED,
  RACK_ENV,
  taskAsShell,
} from './agent-protocol.ts';
import { ErrorCode, IngotError } from './errors.ts';

const GUEST = new URL('../agent/guest/', import.meta.url).pathname;
const NODE = new URL('../agent/node/', import.meta.url).pathname;

/** Every file of the agents: the ephemeral OS's (the boot image) and the deployed OS's node agent. */
function agentSources(): string {
  return [GUEST, NODE].map(walk).join('\n');
}

function walk(dir: string): string {
  return readdirSync(dir)
    .map((f) => join(dir, f))
    .map((p) => (statSync(p).isDirectory() ? walk(p) : readFileSync(p, 'utf8')))
    .join('\n');
}

const inventory = {
  cpu: { model: 'X', cores: 4, threads: 8 },
  memoryBytes: 2 ** 34,
  disks: [{ name: 'sda', sizeBytes: 10 ** 12, rotational: false, serial: 'S1' }],
  nics: [{ mac: '52:54:00:12:34:56', name: 'eth0', boot: false, driver: 'ixgbe', speedMbps: 10000 }],
  details: { dmi: { sys_vendor: 'ACME' }, lldp: [{ interface: 'eth0', systemName: 'tor1' }] },
};

describe('the agent protocol', () => {
  it('is spoken by the agent script: the variables it reads are exactly the ones the protocol sends', () => {
    const src = agentSources();
    const read = new Set(src.match(/\bT_[A-Z0-9_]+/g));
    const sent = new Set(
      [...Object.values(PARAM_ENV), ...Object.values(RACK_ENV)].filter((v): v is string => v !== null),
    );
    assert.deepEqual([...read].sort(), [...sent].sort());
    for (const task of Object.values(AgentTask)) {
      const handled = new RegExp(`^\\s*${task}\\)`, 'm').test(src);
      assert.equal(
        handled,
        !RACK_ANSWERED.includes(task),
        `the agent runs ${task} iff the rack does not answer it`,
      );
    }
    for (const k of HELLO_FIELDS) assert.match(src, new RegExp(`"${k}":`), `the hello sends ${k}`);
  });

  it('writes a task as shell assignments: known parameters only, quoted, the task’s name last', () => {
    const text = taskAsShell(
      {
        id: 'at-1',
        name: 'write-image',
        params: {
          sha256: 'a'.repeat(64),
          format: 'raw',
          artifact: 'images/x.raw',
          name: 'evil',
          disk: "o'k",
        },
      },
      { url: 'http://rack/artifacts/images/x.raw', osToken: 'tok' },
    );
    assert.equal(
      text,
      [
        `T_SHA256='${'a'.repeat(64)}'`,
        "T_FORMAT='raw'",
        "T_DISK='o'\\''k'",
        "T_URL='http://rack/artifacts/images/x.raw'",
        "T_OS_TOKEN='tok'",
        "T_ID='at-1'",
        "T_NAME='write-image'",
        '',
      ].join('\n'),
    );
    const withUrl = taskAsShell(
      { id: 'at-2', name: 'write-image', params: { url: 'https://mirror/x.raw' } },
      { url: 'http://rack/ignored' },
    );
    assert.match(
      withUrl,
      /^T_URL='https:\/\/mirror\/x\.raw'$/m,
      'an image URL wins over the rack’s artifact URL',
    );
    assert.match(
      taskAsShell({ id: 'a', name: 'tests', params: { tests: ['cpu', 'memory'] } }),
      /^T_TESTS='cpu memory'$/m,
    );
  });

  it('bounds what the agent sends: hello fields, report strings, event names', () => {
    assert.deepEqual(helloFields({ mac: 'm', uptime: 3.5, evil: 'x', kernel: 'k'.repeat(300) }), {
      mac: 'm',
      uptime: 3.5,
      kernel: 'k'.repeat(200),
    });
    const r = parseReport({
      status: 'bogus',
      event: 'Bad Name',
      level: 'fatal',
      message: 'm'.repeat(900),
      data: [1],
    });
    assert.deepEqual(
      [r.status, r.event, r.level, r.message?.length, r.data],
      [undefined, undefined, 'info', 500, {}],
    );
    assert.equal(parseReport(null).level, 'info', 'an empty report is a heartbeat');
  });

  it('takes the inventory the agent reports and refuses a malformed one, naming the field', () => {
    assert.deepEqual(checkInventory(inventory), inventory);
    assert.equal(
      checkInventory({ ...inventory, nics: [{ mac: '52-54-00-AB-CD-EF' }] }).nics[0].mac,
      '52:54:00:ab:cd:ef',
    );
    for (const [bad, field] of [
      [undefined, 'result'],
      [{ ...inventory, cpu: { cores: 0 } }, 'cpu.cores'],
      [{ ...inventory, memoryBytes: -1 }, 'memoryBytes'],
      [{ ...inventory, disks: [{ name: 'sda' }] }, 'disks[0].sizeBytes'],
      [{ ...inventory, disks: [{ name: 'x'.repeat(65), sizeBytes: 1 }] }, 'disks[0].name'],
      [{ ...inventory, nics: [{ mac: 'nope' }] }, 'nics[0].mac'],
      [{ ...inventory, details: 'x' }, 'details'],
    ] as const) {
      assert.throws(
        () => checkInventory(bad),
        (e: unknown) =>
          e instanceof IngotError && e.code === ErrorCode.AgentError && e.details.field === field,
        field,
      );
    }
  });
});
