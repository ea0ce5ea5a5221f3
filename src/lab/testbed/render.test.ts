import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { adaptContainerd } from './node.ts';
import { DISCOVERY_KUBECONFIG, renderBed } from './render.ts';
import { bedLayout, nodePodCidr } from './topology.ts';

describe('the test bed’s render', () => {
  it('refuses a bad bed name or topology, naming the field', () => {
    assert.throws(() => bedLayout('Bad-Name', '1+1'), /^IngotError: name: /);
    assert.throws(() => bedLayout('tb', '2+2'), /topology: must be one of 1\+1, 1\+2, 3\+0, ha/);
  });

  it('renders the 3+0 bed: three control planes at .2–.4, no worker, each a backend of the API load balancer', async () => {
    const r = await renderBed(bedLayout('t', '3+0'));
    assert.deepEqual(
      r.nodes.map((n) => [n.hostname, n.ip, n.role, n.init]),
      [
        ['node1', '10.78.0.2', 'control-plane', true],
        ['node2', '10.78.0.3', 'control-plane', false],
        ['node3', '10.78.0.4', 'control-plane', false],
      ],
    );
    for (const ip of ['10.78.0.2', '10.78.0.3', '10.78.0.4'])
      assert.match(r.haproxy, new RegExp(`server \\S+ ${ip.replaceAll('.', '\\.')}:6443 `));
  });

  it('renders the HA bed with Ingot: one init, two control-plane joins, two workers, v1beta2, adapted kubelet and kube-proxy', async () => {
    const bed = bedLayout('t', 'ha');
    const r = await renderBed(bed);
    assert.deepEqual(
      r.nodes.map((n) => [n.hostname, n.ip, n.role, n.init]),
      [
        ['node1', '10.78.0.2', 'control-plane', true],
        ['node2', '10.78.0.3', 'control-plane', false],
        ['node3', '10.78.0.4', 'control-plane', false],
        ['node4', '10.78.0.5', 'worker', false],
        ['node5', '10.78.0.6', 'worker', false],
      ],
    );
    const docsOf = (i: number) =>
      parseAllDocuments(r.nodes[i].files.find((f) => f.path === r.nodes[i].kubeadmConfig)!.content).map((d) =>
        d.toJS(),
      );
    const init = docsOf(0);
    assert.deepEqual(
      init.map((d) => d.kind),
      ['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration', 'KubeProxyConfiguration'],
    );
    assert.equal(init[0].apiVersion, 'kubeadm.k8s.io/v1beta2');
    assert.equal(init[1].controlPlaneEndpoint, '10.78.0.100:6443');
    assert.ok(init[1].apiServer.certSANs.includes('127.0.0.1'));
    assert.equal(init[2].cgroupDriver, 'cgroupfs');
    assert.equal(init[2].syncFrequency, '10s');
    assert.equal(init[2].featureGates.LocalStorageCapacityIsolation, false);
    assert.equal(init[3].conntrack.maxPerCore, 0);
    const cpJoin = docsOf(1)[0];
    assert.equal(cpJoin.kind, 'JoinConfiguration');
    assert.equal(cpJoin.controlPlane.localAPIEndpoint.advertiseAddress, '10.78.0.3');
    // HA joins find the cluster from a file with its CA and bootstrap with the rendered token.
    assert.equal(cpJoin.discovery.file.kubeConfigPath, DISCOVERY_KUBECONFIG);
    assert.match(cpJoin.discovery.tlsBootstrapToken, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const disc = parseYaml(r.nodes[4].files.find((f) => f.path === DISCOVERY_KUBECONFIG)!.content);
    assert.equal(disc.clusters[0].cluster.server, 'https://10.78.0.100:6443');
    assert.ok(disc.clusters[0].cluster['certificate-authority-data']);
    assert.deepEqual(disc.users, [{ name: 'discovery', user: {} }]);
    // The 1+1 bed keeps Ingot's rendered token discovery.
    const one = await renderBed(bedLayout('t', '1+1'));
    const oneJoin = parseAllDocuments(
      one.nodes[1].files.find((f) => f.path === one.nodes[1].kubeadmConfig)!.content,
    )[0].toJS();
    assert.ok(oneJoin.discovery.bootstrapToken.caCertHashes[0].startsWith('sha256:'));
    // Joining control planes get the cluster's PKI from Ingot's render (no kubeadm upload-certs).
    assert.ok(r.nodes[1].files.some((f) => f.path === '/etc/kubernetes/pki/ca.key'));
    assert.ok(!r.nodes[3].files.some((f) => f.path === '/etc/kubernetes/pki/ca.key'));
    assert.match(r.haproxy, /server node3 10\.78\.0\.4:6443 check/);
    assert.doesNotMatch(r.haproxy, /^\s+daemon$/m);
    assert.match(r.haproxy, /inter 1s fall 2 rise 1/);
    assert.equal(nodePodCidr(bed, 3), '10.244.4.0/24');
  });

  it('adapts Ingot’s containerd config: cgroupfs, restricted oom_score_adj, the bundle’s CNI plugins', async () => {
    const r = await renderBed(bedLayout('t', '1+1'));
    const c = adaptContainerd(r.containerd.node1, '/b/cni/bin');
    assert.match(c, /SystemdCgroup = false/);
    assert.match(c, /sandbox_image = "k8s\.gcr\.io\/pause:3\.2"\n\s*restrict_oom_score_adj = true/);
    assert.match(c, /bin_dir = "\/b\/cni\/bin"/);
  });
});
