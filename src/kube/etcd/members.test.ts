/** Reading etcdctl's member list and kubeadm's join line (the real commands run in test/testbed.test.ts's HA suite). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIngotError } from '../../core/errors.ts';
import { parseJoinCommand, parseMemberList, removeMember } from './members.ts';
import type { NodeShell } from './shell.ts';

describe('etcd members and join credentials', () => {
  it('reads etcdctl member list, a member added but not started included', () => {
    const out = `8e9e05c52164694d, started, node1, https://10.78.0.2:2380, https://10.78.0.2:2379, false
91bc3c398fb3c146, unstarted, , https://10.78.0.4:2380, , false
`;
    assert.deepEqual(parseMemberList(out), [
      { id: '8e9e05c52164694d', name: 'node1', started: true },
      { id: '91bc3c398fb3c146', name: '', started: false },
    ]);
    assert.throws(() => parseMemberList('Error: context deadline exceeded'), /cannot read the line/);
  });

  it('reads kubeadm token create --print-join-command, and never shows the token when it cannot', () => {
    const hash = `sha256:${'ab'.repeat(32)}`;
    assert.deepEqual(
      parseJoinCommand(
        `kubeadm join 10.78.0.100:6443 --token abcdef.0123456789abcdef     --discovery-token-ca-cert-hash ${hash} \n`,
      ),
      { endpoint: '10.78.0.100:6443', token: 'abcdef.0123456789abcdef', caCertHash: hash },
    );
    assert.throws(
      () => parseJoinCommand('kubeadm join 10.78.0.100:6443 --token abcdef.0123456789abcdef'),
      (e) => isIngotError(e, 'INGOT_STEP_FAILED') && !e.message.includes('0123456789abcdef'),
    );
  });

  it('refuses a member ID that is not hex, running nothing', async () => {
    const ran: string[][] = [];
    const shell: NodeShell = {
      exec: async (_n, argv) => {
        ran.push([...argv]);
        return '';
      },
      readFile: async () => Buffer.alloc(0),
      writeFile: async () => {},
    };
    await assert.rejects(
      removeMember(shell, 'node1', '1; rm -rf /'),
      (e) => isIngotError(e, 'INGOT_VALIDATION') && /^member: /.test(e.message),
    );
    assert.equal(ran.length, 0);
    await removeMember(shell, 'node1', '8e9e05c52164694d');
    assert.deepEqual(ran[0].slice(-3), ['member', 'remove', '8e9e05c52164694d']);
  });
});
