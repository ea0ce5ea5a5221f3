/** The control-plane replacement's steps against a fake etcd behind a fake NodeShell (the real one: test/testbed.test.ts's HA suite). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIngotError } from '../../core/errors.ts';
import type { ControlPlaneJoin } from '../../kube/etcd/members.ts';
import { FAKE_CA_HASH, FAKE_JOIN_TOKEN, fakeEtcd } from '../../../test/support/fake-etcd.ts';
import { replaceControlPlane } from './replace-control-plane.ts';

const TOKEN = FAKE_JOIN_TOKEN;
const HASH = FAKE_CA_HASH;

/** A stacked etcd of `names` (test/support/fake-etcd.ts) and the cluster's Nodes. */
function fakeCluster(names: string[]) {
  return { ...fakeEtcd(names), nodes: new Set(names) };
}

function ports(c: ReturnType<typeof fakeCluster>, o: { joins?: boolean } = {}) {
  const said: string[] = [];
  const joined: { spare: string; j: ControlPlaneJoin }[] = [];
  return {
    said,
    joined,
    p: {
      shell: c.shell,
      deleteNode: async (n: string) => c.nodes.delete(n),
      nodeReady: async (n: string) => c.nodes.has(n),
      join: async (spare: string, j: ControlPlaneJoin) => {
        joined.push({ spare, j });
        c.up.add(spare);
        if (o.joins === false) return;
        c.members.push({ id: 'b9', name: spare, started: true });
        c.nodes.add(spare);
      },
      say: (step: string, message: string, level = 'info') => said.push(`${level} ${step}: ${message}`),
    },
  };
}

describe('replacing a dead control plane', () => {
  it('removes its member through a healthy one, deletes its Node, joins the spare with fresh credentials, waits for its member and Node', async () => {
    const c = fakeCluster(['cp1', 'cp2', 'cp3']);
    c.up.delete('cp1');
    const { p, said, joined } = ports(c);
    const r = await replaceControlPlane(p, {
      dead: 'cp1',
      spare: 'cp4',
      controlPlanes: ['cp1', 'cp2', 'cp3'],
      pollMs: 1,
    });
    assert.match(
      r,
      /cp4 joined as a control plane \(etcd member b9 healthy, Node Ready\); cp1's etcd member a0 removed/,
    );
    assert.deepEqual(
      c.members.map((m) => m.name),
      ['cp2', 'cp3', 'cp4'],
    );
    assert.ok(!c.nodes.has('cp1'));
    // The credentials made on the healthy control plane, uploaded before the token, and handed to the join.
    const onCp2 = c.ran.filter((l) => l.startsWith('cp2: kubeadm'));
    assert.equal(joined.length, 1);
    assert.deepEqual(onCp2, [
      `cp2: kubeadm init phase upload-certs ${joined[0].j.certificateKey} /etc/kubernetes/admin.conf`,
      'cp2: kubeadm token create 1h /etc/kubernetes/admin.conf',
    ]);
    assert.deepEqual(
      { ...joined[0].j, certificateKey: '' },
      { endpoint: '10.0.0.100:6443', token: TOKEN, caCertHash: HASH, certificateKey: '' },
    );
    assert.match(joined[0].j.certificateKey, /^[0-9a-f]{64}$/);
    // The remove before the Node's deletion, before the join; nothing secret on the timeline.
    const steps = said.map((s) => s.split(':')[0]);
    assert.deepEqual(steps, [
      'info check-quorum',
      'info member-remove',
      'info delete-node',
      'info join-credentials',
      'info join',
      'info join',
      'info member-healthy',
      'info node-ready',
    ]);
    assert.match(said[0], /2 of 3 etcd members answer/);
    for (const s of said) {
      assert.ok(!s.includes(TOKEN.split('.')[1]), s);
      assert.ok(!s.includes(joined[0].j.certificateKey), s);
    }
  });

  it('refuses, changing nothing, when two of three control planes are dead', async () => {
    const c = fakeCluster(['cp1', 'cp2', 'cp3']);
    c.up.delete('cp1');
    c.up.delete('cp2');
    const { p, said, joined } = ports(c);
    await assert.rejects(
      replaceControlPlane(p, { dead: 'cp1', spare: 'cp4', controlPlanes: ['cp1', 'cp2', 'cp3'], pollMs: 1 }),
      (e) => isIngotError(e, 'INGOT_CONFLICT') && /only 1 of 3 etcd members answer/.test(e.message),
    );
    assert.equal(c.members.length, 3);
    assert.ok(c.nodes.has('cp1'));
    assert.equal(joined.length, 0);
    assert.ok(!c.ran.some((l) => /remove|kubeadm/.test(l)), c.ran.join('\n'));
    assert.match(said.at(-1)!, /^error check-quorum: replace of cp1 refused/);
  });

  it('refuses a node whose etcd member still answers (not fenced)', async () => {
    const c = fakeCluster(['cp1', 'cp2', 'cp3']);
    const { p, joined } = ports(c);
    await assert.rejects(
      replaceControlPlane(p, { dead: 'cp1', spare: 'cp4', controlPlanes: ['cp1', 'cp2', 'cp3'], pollMs: 1 }),
      /cp1's etcd member still answers: fence it first/,
    );
    assert.equal(c.members.length, 3);
    assert.equal(joined.length, 0);
  });

  it('fails with a timeout when the spare never becomes a healthy member', async () => {
    const c = fakeCluster(['cp1', 'cp2', 'cp3']);
    c.up.delete('cp3');
    const { p } = ports(c, { joins: false });
    await assert.rejects(
      replaceControlPlane(p, {
        dead: 'cp3',
        spare: 'cp4',
        controlPlanes: ['cp1', 'cp2', 'cp3'],
        readyTimeoutMs: 50,
        pollMs: 5,
      }),
      (e) => isIngotError(e, 'INGOT_TIMEOUT') && /cp4's etcd member not started and healthy/.test(e.message),
    );
    assert.deepEqual(
      c.members.map((m) => m.name),
      ['cp1', 'cp2'],
    );
  });
});
