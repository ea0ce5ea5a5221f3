import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { BundleManifest } from '../core/bundle.ts';
import { CRICTL_SHIM } from './crictl-shim.ts';
import { CHACHA_FIRST, renderBundleInstall } from './install-script.ts';

const m: BundleManifest = {
  apiVersion: 'ingot.dev/v1alpha1',
  kind: 'KubernetesBundle',
  version: 'v1.20.2',
  arch: 'amd64',
  binaries: [{ name: 'kubelet', path: 'bin/kubelet', sha256: 'a'.repeat(64), size: 1, version: 'v1.20.2' }],
  images: [
    {
      path: 'images/etcd.tar',
      sha256: 'b'.repeat(64),
      size: 2,
      format: 'docker-archive',
      refs: ['registry.k8s.io/etcd-amd64:3.4.13-0'],
      aliases: ['registry.k8s.io/etcd:3.4.13-0'],
      component: 'etcd',
      arch: 'amd64',
      os: 'linux',
      configDigest: `sha256:${'c'.repeat(64)}`,
      manifestDigest: null,
    },
  ],
  cniPlugins: [{ name: 'bridge', path: 'cni/bridge', sha256: 'd'.repeat(64), size: 3 }],
  absentImages: [],
  provenance: { layout: 'upstream-release', versionFrom: 'x', archFrom: 'y' },
};

describe('bundle install script', () => {
  const script = renderBundleInstall(
    { name: 'k120', sha256: 'e'.repeat(64), manifest: m },
    { rackUrl: 'http://10.0.0.1:8081/' },
  );

  it('is valid sh, and the same bytes for the same bundle', () => {
    execFileSync('sh', ['-n', '-c', script]);
    assert.equal(
      script,
      renderBundleInstall(
        { name: 'k120', sha256: 'e'.repeat(64), manifest: m },
        { rackUrl: 'http://10.0.0.1:8081' },
      ),
    );
  });

  it('verifies every file against the checksum the region computed before installing it', () => {
    // Binaries and CNI plugins: listed with their checksums, downloaded and all verified, then installed.
    const list =
      /cat >"\$WORK\/small" <<'FILES'\nbin\/kubelet a{64} b0\ncni\/bridge d{64} c0\nFILES\nfetch_all small\n/;
    assert.match(script, list);
    const at = script.search(list);
    assert.ok(script.indexOf('install -m 0755 "$WORK/b0" "$ROOT/usr/local/bin/kubelet"') > at);
    assert.ok(script.indexOf('install -m 0755 "$WORK/c0" "$ROOT/opt/cni/bin/bridge"') > at);
    assert.match(
      script,
      /echo "\$s {2}\$WORK\/\$f" \| sha256sum -c --status \|\| die "\$p: checksum mismatch/,
    );
    // Images: fetched and verified, then imported.
    assert.match(script, /fetch images\/etcd\.tar b{64} i0\n.*\nctr -n k8s\.io images import "\$WORK\/i0"/);
  });

  it('downloads the next image while containerd imports this one', () => {
    const two = renderBundleInstall(
      {
        name: 'k120',
        sha256: 'e'.repeat(64),
        manifest: {
          ...m,
          images: [...m.images, { ...m.images[0], path: 'images/pause.tar', sha256: '9'.repeat(64) }],
        },
      },
      { rackUrl: 'http://10.0.0.1:8081/' },
    );
    execFileSync('sh', ['-n', '-c', two]);
    const order = [
      'fetch images/etcd.tar',
      'fetch images/pause.tar 9',
      'images import "$WORK/i0"',
      'wait "$NEXT" || exit 1',
      'images import "$WORK/i1"',
    ].map((x) => two.indexOf(x));
    assert.ok(
      order.every((x, k) => x > 0 && (k === 0 || x > order[k - 1])),
      `order: ${order}`,
    );
    assert.match(two, /fetch images\/pause\.tar 9{64} i1 & NEXT=\$!/);
  });

  it('tags aliases and checks containerd lists every name', () => {
    assert.match(
      script,
      /ctr -n k8s\.io images tag --force registry\.k8s\.io\/etcd-amd64:3\.4\.13-0 registry\.k8s\.io\/etcd:3\.4\.13-0/,
    );
    assert.match(
      script,
      /for ref in registry\.k8s\.io\/etcd-amd64:3\.4\.13-0 registry\.k8s\.io\/etcd:3\.4\.13-0; do/,
    );
  });

  it('downloads from the rack it was rendered for, with the token in a header file, never in argv', () => {
    assert.match(script, /RACK="\$\{INGOT_RACK_URL:-http:\/\/10\.0\.0\.1:8081\}"/);
    assert.match(script, /-H @"\$WORK\/header"/);
    assert.doesNotMatch(script, /-H "X-Ingot-Token: \$TOKEN"/);
  });

  it("gives a node Ingot's crictl for kubeadm when the bundle has none and the node has none", () => {
    assert.match(
      script,
      /if \[ ! -x "\$ROOT\/usr\/local\/bin\/crictl" \] && \{ \[ -n "\$ROOT" \] \|\| ! command -v crictl/,
    );
    assert.ok(script.includes(`<<'CRICTL'\n${CRICTL_SHIM}CRICTL\n`), 'the shim, unexpanded');
    const withCrictl = renderBundleInstall(
      {
        name: 'k120',
        sha256: 'e'.repeat(64),
        manifest: {
          ...m,
          binaries: [
            ...m.binaries,
            { name: 'crictl', path: 'bin/crictl', sha256: 'f'.repeat(64), size: 1, version: null },
          ],
        },
      },
      { rackUrl: 'http://10.0.0.1:8081/' },
    );
    assert.ok(!withCrictl.includes("<<'CRICTL'"), 'a bundle with crictl installs its own');
    assert.match(withCrictl, /bin\/crictl f{64} b1\n/);
    assert.match(withCrictl, /install -m 0755 "\$WORK\/b1" "\$ROOT\/usr\/local\/bin\/crictl"/);
  });

  it('asks for ChaCha20-Poly1305 first on a CPU without AES instructions, as the agent does', () => {
    const rackSh = readFileSync(new URL('../agent/guest/lib/rack.sh', import.meta.url), 'utf8');
    for (const line of CHACHA_FIRST)
      assert.ok(rackSh.includes(`echo '${line}'`), `rack.sh's cipher_prefs: ${line}`);
    assert.match(script, /if ! grep -qw aes "\$\{INGOT_CPUINFO:-\/proc\/cpuinfo\}"/);
    // Every download reads the preference.
    const curls = script.split('\n').filter((l) => /^\s*(until )?curl /.test(l));
    assert.equal(curls.length, 2);
    for (const c of curls) assert.match(c, /curl -K "\$WORK\/tls\.curl" /);
  });

  it('refuses to run on a machine of another architecture', () => {
    assert.match(script, /case "\$\(uname -m\)" in x86_64\) ;; \*\) die "this bundle is for amd64 machines/);
  });
});
