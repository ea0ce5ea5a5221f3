/**
 * Which clusters the region's control-plane port serves, the spare's join render, and what
 * the replace says about the API endpoint. The port's run: remediation-loop-cp-port.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { clusterYaml } from '../../../test/support/cluster-seed.ts';
import { generatePki } from '../../cluster/pki/generate.ts';
import type { Plan, PlannedNode } from '../../cluster/plan/types.ts';
import { renderControlPlaneJoin } from '../../cluster/render/index.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import type { Cluster } from '../../core/cluster.ts';
import { shellQuote } from '../../core/agent-protocol.ts';
import { redactCommand } from './agent-shell.ts';
import { controlPlaneReplaceGap } from './control-plane-spare.ts';
import { endpointNote } from './remediate-control-plane.ts';

const file = clusterYaml('gap', { net: '10.23' });

const node = (hostname: string, ip: string, role: PlannedNode['role'], init = false): PlannedNode => ({
  hostname,
  machineId: `m-${hostname}`,
  role,
  pool: role === 'worker' ? 'general' : 'control-plane',
  zone: 'z1',
  rack: 'r1',
  init,
  address: `${ip}/22`,
  ip,
  gateway: '10.23.0.1',
  dns: [],
  subnet: 'nodes',
  nics: [
    { name: 'eth0', mac: `52:54:00:00:00:${ip.split('.')[3].padStart(2, '0')}` },
  ] as unknown as PlannedNode['nics'],
  disks: [],
  labels: {},
  taints: [],
});

describe("the region's control-plane port", () => {
  it('serves stacked-etcd kubeadm clusters and says why not for k3s, RKE2 and external etcd', () => {
    assert.equal(controlPlaneReplaceGap(parseClusterFile(file, 'f')), null);
    assert.match(
      controlPlaneReplaceGap(
        parseClusterFile(file.replace('distribution: kubeadm', 'distribution: k3s'), 'f'),
      ) ?? '',
      /a k3s cluster's servers join their own way/,
    );
    const external = `${file}  etcd: { topology: external, count: 3, machines: { pool: etcd } }\n`;
    assert.match(controlPlaneReplaceGap(parseClusterFile(external, 'f')) ?? '', /its etcd is external/);
  });

  it("renders the spare's control-plane join with the fresh token and certificate key, and refuses a worker", async () => {
    const spec = parseClusterFile(file, 'f');
    const plan = {
      cluster: 'gap',
      nodes: [
        node('cp1', '10.23.0.21', 'control-plane', true),
        node('cp9', '10.23.0.29', 'control-plane'),
        node('w1', '10.23.0.31', 'worker'),
      ],
    } as unknown as Plan;
    const pki = await generatePki('system:masters');
    const key = 'ab'.repeat(32);
    const r = await renderControlPlaneJoin(spec, plan, pki, new Map(), 'cp9', {
      token: 'fresh0.0123456789abcdef',
      certificateKey: key,
    });
    const join = parseAllDocuments(r.config)
      .map((d) => d.toJS())
      .find((d) => d.kind === 'JoinConfiguration');
    assert.equal(join.discovery.bootstrapToken.token, 'fresh0.0123456789abcdef');
    assert.deepEqual(join.discovery.bootstrapToken.caCertHashes, [r.caHash]);
    assert.equal(join.controlPlane.certificateKey, key);
    assert.equal(join.controlPlane.localAPIEndpoint.advertiseAddress, '10.23.0.29');
    assert.equal(r.configPath, '/etc/kubernetes/ingot/kubeadm.yaml');
    // The create's join script: kubeadm's failure ends with the kubelet's journal.
    assert.match(
      r.bootstrap,
      /kubeadm join --config \/etc\/kubernetes\/ingot\/kubeadm\.yaml \|\| \{ journalctl -u kubelet/,
    );
    await assert.rejects(
      renderControlPlaneJoin(spec, plan, pki, new Map(), 'w1', { token: 't', certificateKey: key }),
      /w1 is no joining control plane of the plan/,
    );
  });

  it('says the external load balancer must send to the spare instead of the dead node; nothing for kube-vip', () => {
    const cluster = (f: string) =>
      ({ clusterFile: f, members: [{ hostname: 'cp2', address: '10.23.0.22/22' }] }) as unknown as Cluster;
    assert.equal(endpointNote(cluster(file), 'cp2', '10.23.0.29/22'), '');
    const external = file.replace('address: 10.23.0.10', 'address: 10.23.0.10\n    mode: external');
    assert.equal(
      endpointNote(cluster(external), 'cp2', '10.23.0.29/22'),
      "; the API's external load balancer (10.23.0.10:6443) must now send to 10.23.0.29:6443 instead of 10.23.0.22:6443",
    );
  });

  it('names a failed node command without the certificate key or a token in it', () => {
    const key = 'c0ffee'.repeat(10);
    const line = ['kubeadm', 'init', 'phase', 'upload-certs', '--upload-certs', '--certificate-key', key]
      .map(shellQuote)
      .join(' ');
    const said = redactCommand(line);
    assert.ok(!said.includes(key.slice(0, 8)), said);
    assert.match(said, /'--certificate-key' '<redacted>'/);
    assert.equal(
      redactCommand("'kubeadm' 'join' 'x:6443' '--token' 'abcdef.0123456789abcdef'"),
      "'kubeadm' 'join' 'x:6443' '--token' '<redacted-token>'",
    );
  });
});
