import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { skipUnless } from '../../test/support/needs.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { checkNetworkConfigs, shapeOf } from './network-config.ts';

const node = (addr: string, mac: string, mode = 'active-backup') =>
  `network:\n  version: 2\n  ethernets:\n    nic0: {match: {macaddress: "${mac}"}, set-name: nic0}\n  bonds:\n    bond0:\n      interfaces: [nic0]\n      parameters: {mode: ${mode}}\n      addresses: [${addr}]\n      routes: [{to: 0.0.0.0/0, via: 10.1.0.1}]\n`;

describe('network-config checks', () => {
  it('groups configs that differ only in well-formed IPv4 addresses and quoted MACs', () => {
    const a = node('10.1.0.5/16', '52:54:00:00:00:01');
    assert.equal(shapeOf(a), shapeOf(node('10.1.7.9/16', '52:54:00:ab:cd:ef')));
    assert.notEqual(shapeOf(a), shapeOf(node('10.1.0.256/16', '52:54:00:00:00:01')), 'a malformed address');
    assert.notEqual(shapeOf(a), shapeOf(node('10.1.0.5/24', '52:54:00:00:00:01')), 'another prefix');
    assert.notEqual(shapeOf(a), shapeOf(node('10.1.0.5/16', '52:54:00:00:00:01', '802.3ad')), 'another mode');
    assert.notEqual(
      shapeOf('match: {macaddress: 52:54:00:00:00:02}'),
      shapeOf('match: {macaddress: 52:54:00:00:00:01}'),
      'an unquoted all-digit MAC (a YAML 1.1 number to cloud-init) is its own shape',
    );
    // The render quotes only the MACs a YAML 1.1 reader would take for numbers.
    assert.equal(shapeOf('macaddress: 52:54:00:00:6e:01\n'), shapeOf('macaddress: 52:54:00:04:60:01\n'));
  });

  it('passes a cluster’s worth of one shape, and refuses a batch naming the item the tools refused', {
    skip: skipUnless({ programs: ['netplan', 'cloud-init'] }),
  }, async () => {
    const hex = (i: number) => i.toString(16).padStart(2, '0');
    await checkNetworkConfigs(
      Array.from({ length: 200 }, (_, i) => ({
        who: `machine n${i}`,
        text: node(`10.1.${i >> 8}.${(i & 255) + 1}/16`, `52:54:00:00:${hex(i >> 8)}:${hex(i & 255)}`),
      })),
    );
    const batch = [
      { who: 'machine good', text: node('10.2.0.5/16', '52:54:00:00:01:01') },
      { who: 'machine typo', text: node('10.2.0.300/16', '52:54:00:00:01:02') },
    ];
    await assert.rejects(checkNetworkConfigs(batch), (e: unknown) => {
      assert.ok(e instanceof IngotError);
      assert.equal(e.code, ErrorCode.Validation);
      assert.equal(e.details.field, 'params.networkConfig');
      assert.match(
        e.message,
        /^params\.networkConfig: machine typo: netplan generate refused it: .*10\.2\.0\.300/,
      );
      return true;
    });
  });
});
