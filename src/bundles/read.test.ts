/**
 * The bundle reader against real archives: images made by umoci and written by skopeo (docker
 * and OCI archives), read back with skopeo; binaries are tiny ELF files. Each refusal names
 * the file and says what is wrong.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IngotError } from '../core/errors.ts';
import { readBundle } from './read.ts';
import { makeImageArchive, tarGz, tinyElf, writeUpstreamTree } from './testing.ts';

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Asserts that reading `root` is refused with a message matching every pattern. */
async function refused(root: string, ...patterns: RegExp[]): Promise<IngotError> {
  try {
    await readBundle(root);
  } catch (e) {
    assert.ok(e instanceof IngotError, `expected an IngotError, got ${e}`);
    assert.equal(e.code, 'INGOT_VALIDATION');
    for (const p of patterns) assert.match(e.message, p);
    return e;
  }
  assert.fail('the bundle was accepted');
}

describe('bundle reader', () => {
  let dir: string;
  let good: string;
  let n = 0;
  /** A fresh copy of the good upstream tree to break. */
  const copy = () => {
    const d = join(dir, `case-${++n}`);
    cpSync(good, d, { recursive: true });
    return d;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-bundle-read-'));
    good = join(dir, 'good');
    writeUpstreamTree(good, {
      extras: [
        { file: 'pause.tar', ref: 'k8s.gcr.io/pause:3.2' },
        { file: 'etcd.tar', ref: 'k8s.gcr.io/etcd:3.4.13-0' },
      ],
      cni: ['bridge', 'host-local', 'loopback', 'portmap'],
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts the official release layout: version from .docker_tag, arch from the ELF header, names from the archives', async () => {
    const { manifest: m, placements } = await readBundle(copy());
    assert.equal(m.version, 'v1.20.2');
    assert.equal(m.arch, 'amd64');
    assert.equal(m.provenance.layout, 'upstream-release');
    assert.match(m.provenance.versionFrom, /4 \.docker_tag files/);
    assert.equal(m.provenance.archFrom, 'the ELF headers and image configs (all 17 files)');
    assert.deepEqual(
      m.binaries.map((b) => [b.name, b.path, b.version]),
      [
        ['kubeadm', 'bin/kubeadm', 'v1.20.2'],
        ['kubelet', 'bin/kubelet', 'v1.20.2'],
        ['kubectl', 'bin/kubectl', 'v1.20.2'],
      ],
    );
    assert.deepEqual(
      m.images.map((i) => [i.component, i.refs[0], i.format]),
      [
        ['etcd', 'k8s.gcr.io/etcd:3.4.13-0', 'docker-archive'],
        ['kube-apiserver', 'k8s.gcr.io/kube-apiserver:v1.20.2', 'docker-archive'],
        ['kube-controller-manager', 'k8s.gcr.io/kube-controller-manager:v1.20.2', 'docker-archive'],
        ['kube-proxy', 'k8s.gcr.io/kube-proxy:v1.20.2', 'docker-archive'],
        ['kube-scheduler', 'k8s.gcr.io/kube-scheduler:v1.20.2', 'docker-archive'],
        ['pause', 'k8s.gcr.io/pause:3.2', 'docker-archive'],
      ],
    );
    for (const i of m.images) assert.match(i.configDigest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(m.absentImages, ['coredns']);
    assert.deepEqual(
      m.cniPlugins.map((c) => c.name),
      ['bridge', 'host-local', 'loopback', 'portmap'],
    );
    // Each kept file's checksum is the source file's, and the server-only binaries are not kept.
    for (const p of placements) {
      const f = [...m.binaries, ...m.images, ...m.cniPlugins].find((x) => x.path === p.to)!;
      assert.equal(f.sha256, sha(p.from), p.to);
    }
    assert.ok(!placements.some((p) => p.from.endsWith('/kube-apiserver')));
  });

  it('accepts an OCI archive (converted from a docker archive with skopeo) and records its manifest digest', async () => {
    const root = copy();
    const docker = join(root, 'images', 'pause.tar');
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      `docker-archive:${docker}`,
      `oci-archive:${join(root, 'images', 'pause-oci.tar')}:registry.k8s.io/pause:3.2`,
    ]);
    unlinkSync(docker);
    const { manifest: m } = await readBundle(root);
    const pause = m.images.find((i) => i.component === 'pause')!;
    assert.equal(pause.format, 'oci-archive');
    assert.deepEqual(pause.refs, ['registry.k8s.io/pause:3.2']);
    assert.match(pause.manifestDigest ?? '', /^sha256:[0-9a-f]{64}$/);
  });

  it('accepts the release tarball itself beside extra images (kubernetes-server-linux-amd64.tar.gz)', async () => {
    const root = join(dir, `case-${++n}`);
    cpSync(join(good, 'images'), join(root, 'images'), { recursive: true });
    tarGz(good, join(root, 'kubernetes-server-linux-amd64.tar.gz'), ['kubernetes']);
    const { manifest: m } = await readBundle(root);
    assert.equal(m.version, 'v1.20.2');
    assert.equal(m.images.length, 6);
    assert.deepEqual(
      m.binaries.map((b) => b.name),
      ['kubeadm', 'kubelet', 'kubectl'],
    );
  });

  it('refuses a binary of another architecture, naming it and where the bundle’s came from', async () => {
    const root = copy();
    writeFileSync(join(root, 'kubernetes/server/bin/kubeadm'), tinyElf('arm64', 'v1.20.2'));
    await refused(
      root,
      /kubernetes\/server\/bin\/kubeadm: is an arm64 binary but the bundle is amd64 \(from the ELF headers and image configs \(16 of 17 files\)\)/,
    );
  });

  it('refuses images of another architecture', async () => {
    const root = copy();
    makeImageArchive(join(root, 'images', 'pause.tar'), { ref: 'k8s.gcr.io/pause:3.2', arch: 'arm64' });
    await refused(root, /images\/pause\.tar: is an arm64 image but the bundle is amd64/);
  });

  it('refuses a kubelet of another release: the version string is not in it', async () => {
    const root = copy();
    writeFileSync(join(root, 'kubernetes/server/bin/kubelet'), tinyElf('amd64', 'v1.21.0'));
    await refused(root, /kubernetes\/server\/bin\/kubelet: does not carry the version string v1\.20\.2/);
  });

  it('refuses .docker_tag files that disagree, naming both', async () => {
    const root = copy();
    writeFileSync(join(root, 'kubernetes/server/bin/kube-proxy.docker_tag'), 'v1.21.0\n');
    await refused(root, /says v1\.20\.2 but kubernetes\/server\/bin\/kube-proxy\.docker_tag says v1\.21\.0/);
  });

  it('refuses a control-plane image tagged with another release', async () => {
    const root = copy();
    makeImageArchive(join(root, 'kubernetes/server/bin/kube-proxy.tar'), {
      ref: 'k8s.gcr.io/kube-proxy:v1.21.0',
    });
    await refused(
      root,
      /kube-proxy\.tar: is k8s\.gcr\.io\/kube-proxy:v1\.21\.0, but the bundle is v1\.20\.2/,
    );
  });

  it('refuses a bundle without a kubelet', async () => {
    const root = copy();
    unlinkSync(join(root, 'kubernetes/server/bin/kubelet'));
    const e = await refused(
      root,
      /kubelet: the bundle has no kubelet: expected kubernetes\/server\/bin\/kubelet/,
    );
    assert.equal(e.details.field, 'kubelet');
  });

  it('refuses a truncated image archive, naming the file', async () => {
    const root = copy();
    const f = join(root, 'images', 'etcd.tar');
    truncateSync(f, 3000);
    await refused(root, /images\/etcd\.tar: .*(truncated or corrupt|corrupt)/);
  });

  it('refuses an image archive whose layer was altered: every layer is checked against its digest', async () => {
    const root = copy();
    const f = join(root, 'images', 'pause.tar');
    const x = join(dir, `x-${n}`);
    execFileSync('mkdir', ['-p', x]);
    execFileSync('tar', ['-xf', f, '-C', x]);
    const layer = readFileSync(join(x, 'manifest.json'), 'utf8').match(/"Layers":\["([^"]+)"/)![1];
    const lf = join(x, layer);
    const b = readFileSync(lf);
    b[600] ^= 0xff;
    writeFileSync(lf, b);
    execFileSync('sh', ['-c', `cd ${x} && tar -cf ${f} *`]);
    await refused(
      root,
      /images\/pause\.tar: image k8s\.gcr\.io\/pause:3\.2 is corrupt: .*Digest did not match/,
    );
  });

  it('refuses an OCI archive that names its image by tag only (containerd would import it as "3.2")', async () => {
    const root = copy();
    makeImageArchive(join(root, 'images', 'pause.tar'), { ref: '3.2', format: 'oci-archive' });
    await refused(root, /images\/pause\.tar: names its image "3\.2" .*not a full reference/);
  });

  it('reads an ingot-bundle.json: files where it says, aliases added, checksums compared', async () => {
    const root = join(dir, `case-${++n}`);
    cpSync(join(good, 'kubernetes/server/bin'), join(root, 'bin'), { recursive: true });
    cpSync(join(good, 'images'), join(root, 'images'), { recursive: true });
    const manifest = {
      apiVersion: 'ingot.dev/v1alpha1',
      kind: 'KubernetesBundle',
      version: 'v1.20.2',
      arch: 'amd64',
      binaries: ['kubeadm', 'kubelet'].map((b) => ({
        name: b,
        path: `bin/${b}`,
        sha256: sha(join(root, 'bin', b)),
      })),
      images: [
        { path: 'bin/kube-apiserver.tar' },
        { path: 'images/etcd.tar', aliases: ['registry.k8s.io/etcd:3.4.13-0'] },
      ],
    };
    writeFileSync(join(root, 'ingot-bundle.json'), JSON.stringify(manifest));
    const { manifest: m } = await readBundle(root);
    assert.equal(m.provenance.layout, 'ingot-manifest');
    assert.equal(m.images.length, 2);
    assert.deepEqual(m.images.find((i) => i.component === 'etcd')?.aliases, [
      'registry.k8s.io/etcd:3.4.13-0',
    ]);
    assert.deepEqual(m.absentImages, [
      'kube-controller-manager',
      'kube-scheduler',
      'kube-proxy',
      'pause',
      'coredns',
    ]);

    manifest.binaries[1].sha256 = 'f'.repeat(64);
    writeFileSync(join(root, 'ingot-bundle.json'), JSON.stringify(manifest));
    await refused(root, /bin\/kubelet: checksum mismatch: ingot-bundle\.json says sha256 f{64}/);

    writeFileSync(join(root, 'ingot-bundle.json'), JSON.stringify({ ...manifest, arhc: 'amd64' }));
    const e = await refused(root, /ingot-bundle\.json: arhc: is not a known field/);
    assert.equal(e.details.field, 'ingot-bundle.json');
  });

  it('refuses a tree with no version anywhere, saying what would tell it', async () => {
    const root = join(dir, `case-${++n}`);
    cpSync(join(good, 'kubernetes/server/bin/kubelet'), join(root, 'kubernetes/server/bin/kubelet'));
    await refused(root, /cannot tell which Kubernetes version this is/);
  });
});
