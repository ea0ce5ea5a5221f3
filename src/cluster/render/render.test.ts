import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { buildPlan } from '../plan/plan.ts';
import { generatePki } from '../pki/generate.ts';
import type { PkiMaterial } from '../pki/types.ts';
import { cluster, inventory } from '../testing.ts';
import type { Artifact } from './context.ts';
import { renderArtifacts, renderNodes } from './index.ts';
import { kubeadmDuration, mintJoinToken } from '../pki/join-token.ts';

let pki: PkiMaterial;
const secrets = new Map([
  ['s3-a', 'AKIAEXAMPLE'],
  ['s3-s', 'secret'],
  ['tor', 'pw'],
]);

async function render(spec: Record<string, unknown>, inv = inventory(3, 1, 2)): Promise<Artifact[]> {
  const c = cluster(spec);
  return renderArtifacts(c, buildPlan(c, inv), pki, secrets);
}

/** A file cloud-init writes on a node, read back as cloud-init (YAML 1.1) would. */
function nodeFile(artifacts: readonly Artifact[], host: string, path: string): string {
  const ud = artifacts.find((a) => a.path === `nodes/${host}/user-data`);
  assert.ok(ud, `no user-data for ${host}`);
  const f = (
    parse(ud.content, { version: '1.1' }) as { write_files: { path: string; content: string }[] }
  ).write_files.find((x) => x.path === path);
  assert.ok(f, `${host} has no ${path}`);
  return f.content;
}

const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS());
const backups = {
  etcd: {
    s3: {
      endpoint: 'https://s3.example.com',
      bucket: 'b',
      accessKey: { secret: 's3-a' },
      secretKey: { secret: 's3-s' },
    },
  },
};

describe('render', () => {
  before(async () => {
    pki = await generatePki('kubeadm:cluster-admins', new Date('2026-11-22T00:00:00Z'));
  });

  it('writes kubeadm v1beta4 with list-form extraArgs and a timeouts block for Kubernetes ≥ 1.31', async () => {
    const a = await render({ version: 'v1.34.1' });
    const [init, clusterCfg] = docs(nodeFile(a, 'z1r1-1', '/etc/kubernetes/ingot/kubeadm.yaml'));
    assert.equal(init.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.equal(init.kind, 'InitConfiguration');
    assert.ok(Array.isArray(clusterCfg.apiServer.extraArgs));
    assert.deepEqual(
      clusterCfg.apiServer.extraArgs.find((x: { name: string }) => x.name === 'profiling'),
      { name: 'profiling', value: 'false' },
    );
    assert.equal(init.timeouts.controlPlaneComponentHealthCheck, '4m0s');
    assert.equal(clusterCfg.apiServer.timeoutForControlPlane, undefined);
  });

  it('renders a region create’s own join token (its TTL on the init node, the same token on joiners), not the PKI’s', async () => {
    const c = cluster({ version: 'v1.20.2' });
    const plan = buildPlan(c, inventory(3, 1, 2));
    const kubeadmOf = (userData: string) => {
      const files = (
        parse(userData, { version: '1.1' }) as { write_files: { path: string; content: string }[] }
      ).write_files;
      return docs(files.find((f) => f.path === '/etc/kubernetes/ingot/kubeadm.yaml')!.content)[0];
    };
    const tokens = [mintJoinToken(), mintJoinToken(90 * 60_000)];
    assert.notEqual(tokens[0].token, tokens[1].token, 'each create mints its own');
    for (const t of tokens) {
      const nodes = await renderNodes(c, plan, pki, secrets, t);
      const init = plan.nodes.find((n) => n.init)!;
      const initCfg = kubeadmOf(nodes.get(init.hostname)!.userData);
      assert.deepEqual(
        initCfg.bootstrapTokens.map((b: { token: string; ttl: string }) => [b.token, b.ttl]),
        [[t.token, kubeadmDuration(t.ttlSeconds)]],
      );
      for (const n of plan.nodes.filter((x) => !x.init && x.role !== 'etcd')) {
        const join = kubeadmOf(nodes.get(n.hostname)!.userData);
        assert.equal(join.discovery.bootstrapToken.token, t.token, n.hostname);
      }
      for (const r of nodes.values()) {
        assert.ok(!r.userData.includes(pki.tokens.bootstrapToken), 'the PKI’s long-lived token is not used');
        assert.ok(!r.bootstrap.includes(t.token.split('.')[1]), 'the token is not in the bootstrap script');
      }
    }
    assert.equal(kubeadmDuration(7200), '2h0m0s');
    assert.equal(kubeadmDuration(5400), '1h30m0s');
    // Offline renders keep the PKI's token (pki/tokens.yaml) with kubeadm's 24 h.
    const offline = kubeadmOf(
      (await render({ version: 'v1.20.2' })).find(
        (a) => a.path === `nodes/${plan.nodes.find((n) => n.init)!.hostname}/user-data`,
      )!.content,
    );
    assert.deepEqual(offline.bootstrapTokens[0].token, pki.tokens.bootstrapToken);
    assert.equal(offline.bootstrapTokens[0].ttl, '24h0m0s');
  });

  it('writes kubeadm v1beta3 with map extraArgs and the old timeout fields below 1.31', async () => {
    const a = await render({ version: 'v1.30.14' });
    const [init, clusterCfg] = docs(nodeFile(a, 'z1r1-1', '/etc/kubernetes/ingot/kubeadm.yaml'));
    assert.equal(init.apiVersion, 'kubeadm.k8s.io/v1beta3');
    assert.equal(clusterCfg.apiServer.extraArgs.profiling, 'false');
    assert.equal(clusterCfg.apiServer.timeoutForControlPlane, '10m0s');
    const join = docs(nodeFile(a, 'z2r1-1', '/etc/kubernetes/ingot/kubeadm.yaml'))[0];
    assert.equal(join.discovery.timeout, '10m0s');
    assert.equal(join.discovery.bootstrapToken.caCertHashes[0].startsWith('sha256:'), true);
  });

  it('writes kubeadm v1beta2 for 1.20 and 1.21: no field v1beta2 lacks, kube-proxy skipped by flag, k8s.gcr.io pause', async () => {
    for (const version of ['v1.20.2', 'v1.21.14']) {
      const a = await render({ version, networking: { cni: { plugin: 'cilium' } } });
      const cp = nodeFile(a, 'z1r1-1', '/etc/kubernetes/ingot/kubeadm.yaml');
      const [init, clusterCfg, kubelet] = docs(cp);
      assert.equal(init.apiVersion, 'kubeadm.k8s.io/v1beta2');
      assert.equal(clusterCfg.apiVersion, 'kubeadm.k8s.io/v1beta2');
      assert.equal(init.nodeRegistration.imagePullPolicy, undefined);
      assert.equal(init.skipPhases, undefined);
      assert.equal(kubelet.seccompDefault, undefined, 'seccompDefault is 1.25+');
      assert.equal(
        clusterCfg.apiServer.extraArgs['admission-control-config-file'],
        undefined,
        'no PodSecurity before 1.25',
      );
      const join = docs(nodeFile(a, 'z2r1-1', '/etc/kubernetes/ingot/kubeadm.yaml'))[0];
      assert.equal(join.apiVersion, 'kubeadm.k8s.io/v1beta2');
      assert.equal(join.nodeRegistration.imagePullPolicy, undefined);
      const boot = nodeFile(a, 'z1r1-1', '/usr/local/sbin/ingot-bootstrap');
      assert.match(boot, /kubeadm init --config \S+ --skip-phases=addon\/kube-proxy/);
    }
    const ctd = nodeFile(await render({ version: 'v1.20.2' }), 'z1r1-1', '/etc/containerd/config.toml');
    assert.match(ctd, /sandbox_image = "k8s\.gcr\.io\/pause:3\.2"/);
  });

  it('gives kube-vip super-admin.conf only on the kubeadm init node and switches it back after init', async () => {
    const a = await render({});
    assert.match(
      nodeFile(a, 'z1r1-1', '/etc/kubernetes/manifests/kube-vip.yaml'),
      /path: \/etc\/kubernetes\/super-admin.conf/,
    );
    assert.match(
      nodeFile(a, 'z2r1-1', '/etc/kubernetes/manifests/kube-vip.yaml'),
      /path: \/etc\/kubernetes\/admin.conf/,
    );
    assert.match(
      nodeFile(a, 'z1r1-1', '/usr/local/sbin/ingot-bootstrap'),
      /super-admin.conf#\/etc\/kubernetes\/admin.conf#/,
    );
  });

  it('writes k3s server configs: cluster-init on the first server, the others join it, snapshots to S3', async () => {
    const a = await render({ distribution: 'k3s', backups, workers: [{ name: 'w', count: 1 }] });
    const first = parse(nodeFile(a, 'z1r1-1', '/etc/rancher/k3s/config.yaml'));
    const second = parse(nodeFile(a, 'z2r1-1', '/etc/rancher/k3s/config.yaml'));
    assert.equal(first['cluster-init'], true);
    assert.equal(first.server, undefined);
    assert.equal(second.server, `https://${first['node-ip']}:6443`);
    assert.equal(first['etcd-s3'], true);
    assert.equal(first['etcd-s3-endpoint'], 's3.example.com');
    assert.equal(first['etcd-snapshot-schedule-cron'], '0 */6 * * *');
    assert.equal(first['flannel-backend'], 'none');
    assert.ok(first['tls-san'].includes('10.0.0.10'));
    const worker = a.find((x) => x.path.startsWith('nodes/') && x.content.includes('(worker)'));
    assert.ok(worker);
  });

  it('writes RKE2 with the CIS profile and dedicated etcd servers when etcd is external', async () => {
    const a = await render({ distribution: 'rke2', etcd: { topology: 'external' } }, inventory(3, 1, 3));
    const configs = a
      .filter((x) => x.path.endsWith('/user-data'))
      .map((x) => parse(nodeFile(a, x.path.split('/')[1], '/etc/rancher/rke2/config.yaml')));
    const etcd = configs.filter((c) => c['disable-apiserver']);
    const cps = configs.filter((c) => c['disable-etcd']);
    assert.equal(etcd.length, 3);
    assert.equal(cps.length, 3);
    assert.ok(configs.every((c) => c.profile === 'cis'));
    assert.equal(etcd.filter((c) => c['cluster-init']).length, 1);
    assert.ok(cps.every((c) => /:9345$/.test(c.server)));
  });

  it('keeps YAML 1.1 readers from turning MACs and modes into numbers', async () => {
    const a = await render({ networking: { bond: { members: [] } } });
    const nc = a.find((x) => x.path === 'nodes/z1r1-1/network-config');
    assert.match(nc?.content ?? '', /macaddress: "52:54:00:/);
    const ud = a.find((x) => x.path === 'nodes/z1r1-1/user-data')?.content ?? '';
    assert.match(ud, /permissions: "0600"/);
    const doc = parse(ud, { version: '1.1' }) as { write_files: { permissions: unknown }[] };
    assert.ok(doc.write_files.every((f) => typeof f.permissions === 'string'));
  });

  it('renders an active-backup bond without LACP settings, and the default route as cloud-init reads it', async () => {
    const a = await render({ networking: { bond: { members: [], mode: 'active-backup' } } });
    const nc = parse(a.find((x) => x.path === 'nodes/z1r1-1/network-config')?.content ?? '') as {
      network: { bonds: Record<string, { parameters: Record<string, unknown>; routes?: { to: string }[] }> };
    };
    const bond = nc.network.bonds.bond0;
    assert.deepEqual(bond.parameters, { mode: 'active-backup', 'mii-monitor-interval': 100 });
    assert.deepEqual(bond.routes, [{ to: '0.0.0.0/0', via: '10.0.0.1' }]);
    const lacp = parse(
      (await render({ networking: { bond: { members: [] } } })).find(
        (x) => x.path === 'nodes/z1r1-1/network-config',
      )?.content ?? '',
    ) as typeof nc;
    assert.equal(lacp.network.bonds.bond0.parameters.mode, '802.3ad');
  });

  it('opens etcd ports only to etcd members and API servers, and never flushes other tables', async () => {
    const a = await render({});
    const cp = a.find((x) => x.path === 'nftables/control-plane.nft')?.content ?? '';
    const w = a.find((x) => x.path === 'nftables/worker.nft')?.content ?? '';
    assert.match(cp, /ip saddr \{ 10\.0\.0\.2, 10\.0\.0\.3, 10\.0\.0\.4 \} tcp dport 2380 accept/);
    assert.doesNotMatch(w, /2379|2380|6443/);
    assert.doesNotMatch(cp + w, /flush ruleset/);
    assert.match(cp, /policy drop;/);
  });

  it('renders kubeadm etcd snapshots as a CronJob, k3s/RKE2 through their own config', async () => {
    const a = await render({ backups });
    const backup = a.find((x) => x.path === 'manifests/ingot-70-etcd-backup.yaml');
    assert.ok(backup);
    const [secret, cron] = docs(backup.content);
    assert.equal(secret.stringData.AWS_ACCESS_KEY_ID, 'AKIAEXAMPLE');
    assert.equal(cron.spec.schedule, '0 */6 * * *');
    const k3s = await render({ distribution: 'k3s', backups });
    assert.equal(
      k3s.find((x) => x.path === 'manifests/ingot-70-etcd-backup.yaml'),
      undefined,
    );
  });
});
