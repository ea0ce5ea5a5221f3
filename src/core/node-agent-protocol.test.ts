import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode, IngotError } from './errors.ts';
import {
  checkBootstrapReport,
  checkBootstrapResult,
  checkNodeSmartReport,
  MAX_NODE_SMART_DISKS,
} from './node-agent-protocol.ts';

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

describe('the bootstrap task result', () => {
  it('takes phases and the init node’s admin kubeconfig, and refuses an init result without one', () => {
    assert.deepEqual(checkBootstrapResult({ phases: ['kubeadm-init'], adminKubeconfig: 'k' }, 'init'), {
      phases: ['kubeadm-init'],
      adminKubeconfig: 'k',
    });
    assert.deepEqual(checkBootstrapResult({ phases: [] }, 'worker'), { phases: [] });
    assert.throws(() => checkBootstrapResult({ phases: ['x'] }, 'init'), /adminKubeconfig/);
    assert.throws(() => checkBootstrapResult({ phases: [1] }, 'worker'), /result\.phases/);
    assert.throws(() => checkBootstrapResult('x', 'worker'), /result\.phases/);
  });
});

describe('the bootstrap report as the node agent sends it', () => {
  it('checks a bootstrap’s result as the node agent sends it, naming the field and never echoing a value', () => {
    const yaml = 'apiVersion: v1\nkind: Config\n';
    const conf = Buffer.from(yaml).toString('base64');
    assert.deepEqual(checkBootstrapReport({ phases: ['kubeadm-init'], adminKubeconfig: conf }, 'init'), {
      phases: ['kubeadm-init'],
      adminKubeconfig: yaml,
    });
    const field = (v: unknown, role: 'init' | 'worker') => {
      try {
        checkBootstrapReport(v, role);
      } catch (e) {
        assert.ok(e instanceof IngotError && e.code === ErrorCode.AgentError);
        assert.ok(!e.message.includes(conf), 'the kubeconfig is never in the message');
        return e.details?.field;
      }
      return null;
    };
    assert.equal(field({ phases: ['a'] }, 'init'), 'adminKubeconfig', 'an init must return admin.conf');
    assert.equal(field({ phases: ['a'], adminKubeconfig: conf }, 'worker'), 'adminKubeconfig');
    assert.equal(field({ phases: ['a'], adminKubeconfig: 'not base64!' }, 'init'), 'adminKubeconfig');
    assert.equal(
      field({ phases: ['a'], adminKubeconfig: btoa('hello') }, 'init'),
      'adminKubeconfig',
      'not a kubeconfig',
    );
    assert.equal(field({ phases: ['bad name'] }, 'worker'), 'phases[0]');
    assert.equal(
      field({ phases: [], node: { containerdRunning: 'yes' } }, 'worker'),
      'node.containerdRunning',
    );
    assert.equal(field({ phases: [], node: { containerdRunning: true } }, 'worker'), null);
  });
});
