/**
 * The kubernetes-node OS recipe, without building it: what it installs and writes, its kernel
 * arguments per Kubernetes minor, and that it agrees with what the cluster renderer asks of a
 * node (the kubelet's cgroup driver, containerd's runtime options, the sysctls and modules).
 * containerd's own config parser (Debian's containerd, `config dump`) reads the config it ships.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { NODE_AGENT_SHARE, NODE_AGENT_UNIT, nodeAgentFiles } from '../src/agent/node/files.ts';
import { buildPlan } from '../src/cluster/plan/plan.ts';
import { generatePki } from '../src/cluster/pki/generate.ts';
import { renderArtifacts } from '../src/cluster/render/index.ts';
import { cluster, inventory } from '../src/cluster/testing.ts';
import {
  KUBERNETES_MODULES,
  KUBERNETES_SYSCTLS,
  kernelArgsFor,
  kubernetesNodeRecipe,
} from '../src/images/os/kubernetes-node.ts';
import { recipeFor } from '../src/images/os/profiles.ts';
import { grubCfg, recipeHash } from '../src/images/os/recipe.ts';
import { skipUnless } from './support/needs.ts';

const run = promisify(execFile);

describe('the kubernetes-node OS recipe', () => {
  const node = recipeFor('debian-12', 'kubernetes-node');
  const standard = recipeFor('debian-12');

  it('adds the container runtime and the tools kubelet, kube-proxy and storage call to the standard image', () => {
    assert.equal(node.name, 'debian-12-kubernetes-node');
    assert.equal(node.profile, 'kubernetes-node');
    for (const p of [
      'containerd',
      'runc',
      'containernetworking-plugins',
      'iptables',
      'nftables',
      'conntrack',
      'socat',
      'ebtables',
      'ethtool',
      'ipset',
      'ifenslave',
      'vlan',
      'net-tools',
      'open-iscsi',
      'lvm2',
      'chrony',
      'etcd-client',
      'cloud-init',
      'openssh-server',
      'linux-image-amd64',
    ])
      assert.ok(node.packages.includes(p), `${p} is installed`);
    assert.ok(!node.packages.includes('systemd-timesyncd'), 'chrony replaces timesyncd (they conflict)');
    assert.equal(new Set(node.packages).size, node.packages.length, 'no package twice');
    assert.notEqual(
      recipeHash(node, 1.5 * 2 ** 30, []),
      recipeHash(standard, 1.5 * 2 ** 30, []),
      'its own cache entry',
    );
  });

  it('boots kubelet 1.20’s cgroup v1 on its menu and on the one update-grub makes; newer minors keep v2', () => {
    assert.deepEqual(kernelArgsFor(20), ['systemd.unified_cgroup_hierarchy=0']);
    assert.deepEqual(kernelArgsFor(24), ['systemd.unified_cgroup_hierarchy=0']);
    assert.deepEqual(kernelArgsFor(25), []);
    assert.match(node.cmdline, /^ro console=tty0 console=ttyS0,115200 systemd\.unified_cgroup_hierarchy=0$/);
    assert.match(
      grubCfg({ rootUuid: 'u', kernelVersion: '6.1.0-1-amd64', cmdline: node.cmdline }),
      /linux \/boot\/vmlinuz-6\.1\.0-1-amd64 root=UUID=u .*systemd\.unified_cgroup_hierarchy=0\n/,
    );
    assert.match(
      node.files['/etc/default/grub'],
      /^GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200 systemd\.unified_cgroup_hierarchy=0"$/m,
    );
    assert.doesNotMatch(standard.cmdline, /cgroup/);
    assert.doesNotMatch(standard.files['/etc/default/grub'], /cgroup/);
  });

  it('enables containerd and leaves the node agent to the deploy (a new agent needs no new image)', () => {
    for (const path of Object.keys(nodeAgentFiles()))
      assert.equal(node.files[path], undefined, `${path} is not in the image`);
    assert.ok(
      !Object.keys(node.files).some((p) => p.startsWith(NODE_AGENT_SHARE)),
      'no agent helpers in the image',
    );
    assert.ok(node.commands?.some((c) => c.join(' ') === 'systemctl enable containerd.service'));
    assert.ok(
      !node.commands?.some((c) => c.includes(NODE_AGENT_UNIT)),
      'the image does not enable the agent',
    );
    assert.ok(
      node.commands?.some((c) => c.join(' ').includes('/opt/cni/bin')),
      'CNI plugins where containerd looks',
    );
  });

  /** A kubeadm node's rendered files for VERSION, and every artifact of the render. */
  async function renderNode(version: string) {
    const c = cluster({ version, controlPlane: { count: 1 }, packages: { source: 'bundle' } });
    const pki = await generatePki('kubeadm:cluster-admins', new Date('2026-11-22T00:00:00Z'));
    const artifacts = await renderArtifacts(c, buildPlan(c, inventory(1, 1, 1)), pki, new Map());
    const ud = artifacts.find((a) => a.path.endsWith('/user-data'));
    assert.ok(ud, 'a node’s user-data');
    const files = new Map(
      (
        parse(ud.content, { version: '1.1' }) as { write_files: { path: string; content: string }[] }
      ).write_files.map((f) => [f.path, f.content]),
    );
    const rendered = (path: string) => {
      const f = files.get(path);
      assert.ok(f !== undefined, `the render writes ${path}`);
      return f;
    };
    return { artifacts, rendered };
  }

  it('uses cgroupfs on the cgroup v1 of kubelets before 1.25 (no freezer around every update), systemd after', async () => {
    for (const [version, minor, driver] of [
      ['v1.20.2', 20, 'cgroupfs'],
      ['v1.24.17', 24, 'cgroupfs'],
      ['v1.25.16', 25, 'systemd'],
      ['v1.34.1', 34, 'systemd'],
    ] as const) {
      const { rendered } = await renderNode(version);
      assert.match(
        rendered('/etc/kubernetes/ingot/kubeadm.yaml'),
        new RegExp(`cgroupDriver: ${driver}\\n`),
        version,
      );
      const systemd = `^ {2}SystemdCgroup = ${driver === 'systemd'}$`;
      assert.match(
        rendered('/etc/containerd/config.toml'),
        new RegExp(systemd, 'm'),
        `${version}: containerd`,
      );
      const image = kubernetesNodeRecipe(recipeFor('debian-12'), minor);
      assert.match(
        image.files['/etc/containerd/config.toml'],
        new RegExp(systemd, 'm'),
        `${version}: the image's`,
      );
      assert.equal(
        kernelArgsFor(minor).length > 0,
        driver === 'cgroupfs',
        `${version}: cgroup v1 ⇔ cgroupfs`,
      );
    }
  });

  it('agrees with the node configuration the cluster renderer writes for kubeadm nodes', async () => {
    // The image's minor; the runtime options, sysctls and modules do not depend on it.
    const { artifacts, rendered } = await renderNode('v1.20.2');
    assert.match(
      rendered('/etc/kubernetes/ingot/kubeadm.yaml'),
      /cgroupDriver: cgroupfs/,
      'the rendered kubelet uses cgroupfs (cgroup v1)',
    );
    // The bootstrap's firewall step loads the node's ruleset with nft: the image has it.
    assert.ok(
      artifacts.some((a) => a.content.includes('nft -f /etc/nftables.conf')),
      'the render runs nft',
    );
    assert.ok(node.packages.includes('nftables'), 'and the image installs nftables');
    const ctd = node.files['/etc/containerd/config.toml'];
    assert.match(ctd, /^ {2}SystemdCgroup = false$/m, 'and so does the image’s containerd');
    assert.match(
      rendered('/etc/containerd/config.toml'),
      /^ {2}SystemdCgroup = false$/m,
      'as the rendered one',
    );
    assert.match(ctd, /sandbox_image = "k8s\.gcr\.io\/pause:3\.2"/, 'the pause image kubeadm 1.20 expects');
    const sysctl = node.files['/etc/sysctl.d/90-ingot-kubernetes-node.conf'];
    for (const [k, v] of Object.entries(KUBERNETES_SYSCTLS)) {
      const line = new RegExp(`^${k.replace(/\./g, '\\.')} = ${v}$`, 'm');
      assert.match(sysctl, line);
      assert.match(rendered('/etc/sysctl.d/90-ingot-kubernetes.conf'), line, `the render sets ${k} the same`);
    }
    for (const m of KUBERNETES_MODULES) {
      assert.match(node.files['/etc/modules-load.d/ingot-kubernetes-node.conf'], new RegExp(`^${m}$`, 'm'));
      assert.match(rendered('/etc/modules-load.d/ingot-kubernetes.conf'), new RegExp(`^${m}$`, 'm'));
    }
  });

  it('ships a containerd config that containerd itself reads', {
    skip: skipUnless({ files: { containerd: '/usr/bin/containerd' } }),
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingot-ctd-config-'));
    try {
      const f = join(dir, 'config.toml');
      // A 1.34 image's config (cgroup v2, the systemd driver) too.
      const v134 = kubernetesNodeRecipe(recipeFor('debian-12'), 34).files['/etc/containerd/config.toml'];
      writeFileSync(f, v134);
      assert.match(
        (await run('containerd', ['--config', f, 'config', 'dump'])).stdout,
        /SystemdCgroup = true/,
      );
      writeFileSync(f, node.files['/etc/containerd/config.toml']);
      const { stdout } = await run('containerd', ['--config', f, 'config', 'dump']);
      assert.match(stdout, /SystemdCgroup = false/);
      assert.match(stdout, /sandbox_image = "k8s\.gcr\.io\/pause:3\.2"/);
      assert.match(stdout, /bin_dir = "\/opt\/cni\/bin"/);
      writeFileSync(f, `${node.files['/etc/containerd/config.toml']}\n[broken\n`);
      await assert.rejects(
        run('containerd', ['--config', f, 'config', 'dump']),
        'a broken config is refused',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
