import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { AgentTask } from '../../core/agent-protocol.ts';
import type { Machine } from '../../core/machine.ts';
import type { Store } from '../../store/store.ts';
import { BED_PREFLIGHT_IGNORED, BedDeployAgent } from './deploy-agent.ts';

const JOIN = `apiVersion: kubeadm.k8s.io/v1beta2
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.78.0.100:6443
    token: abcdef.0123456789abcdef
    caCertHashes: ['sha256:${'0'.repeat(64)}']
nodeRegistration:
  name: node1
controlPlane:
  localAPIEndpoint: { advertiseAddress: 10.78.0.2, bindPort: 6443 }
  certificateKey: "${'1e'.repeat(32)}"
`;

describe("the bed's deploy seam", () => {
  const root = mkdtempSync(join(tmpdir(), 'ingot-bed-agent-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("adapts a control plane's kubeadm config the region wrote before its join's bootstrap, once; a worker's and a status read are left alone", async () => {
    mkdirSync(join(root, 'b'), { recursive: true });
    writeFileSync(
      join(root, 'b', 'state.json'),
      JSON.stringify({ name: 'b', bundle: '/nowhere', nodes: [{ name: 'node1' }, { name: 'node2' }] }),
    );
    const file = (node: string) => join(root, 'b', node, 'etc-up', 'kubernetes', 'ingot', 'kubeadm.yaml');
    for (const n of ['node1', 'node2']) {
      mkdirSync(join(file(n), '..'), { recursive: true });
      writeFileSync(file(n), JOIN);
    }
    const asked: [string, Record<string, unknown> | undefined][] = [];
    const agent = new BedDeployAgent({
      store: () => ({}) as Store,
      root,
      bed: 'b',
      rackUrl: 'https://10.78.0.1:8443',
      rackCertPem: '',
      real: {
        task: async (m, _job, task, params) => {
          asked.push([`${m.hostname} ${task}`, params]);
          return { status: 'pending' };
        },
      },
    });
    const machine = (hostname: string) => ({ id: hostname, hostname }) as Machine;
    const join1 = { role: 'control-plane', script: 'kubeadm join …' };
    assert.deepEqual(await agent.task(machine('node1'), 'j1', AgentTask.Bootstrap, join1), {
      status: 'pending',
    });
    const docs = parseAllDocuments(readFileSync(file('node1'), 'utf8')).map((d) => d.toJS());
    const cfg = docs.find((d) => d.kind === 'JoinConfiguration');
    assert.deepEqual(cfg.nodeRegistration.ignorePreflightErrors, BED_PREFLIGHT_IGNORED);
    assert.equal(cfg.controlPlane.certificateKey, '1e'.repeat(32), 'the rest kept');
    const adapted = readFileSync(file('node1'), 'utf8');
    // Asked again (its status read, or a retry): not adapted twice.
    await agent.task(machine('node1'), 'j1', AgentTask.Bootstrap, { role: 'control-plane', script: '' });
    await agent.task(machine('node1'), 'j1', AgentTask.Bootstrap, join1);
    assert.equal(readFileSync(file('node1'), 'utf8'), adapted);
    // A worker's bootstrap runs the deploy's config (adapted by the OS write): untouched here.
    await agent.task(machine('node2'), 'j1', AgentTask.Bootstrap, { role: 'worker', script: 'x' });
    assert.equal(readFileSync(file('node2'), 'utf8'), JOIN);
    // Every ask went on to the node agent, as asked.
    assert.deepEqual(
      asked.map(([t, p]) => [t, p?.script]),
      [
        ['node1 bootstrap', 'kubeadm join …'],
        ['node1 bootstrap', ''],
        ['node1 bootstrap', 'kubeadm join …'],
        ['node2 bootstrap', 'x'],
      ],
    );
  });
});
