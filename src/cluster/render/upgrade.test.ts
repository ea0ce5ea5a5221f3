import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUNDLE_INSTALLER_PATH as BUNDLE_INSTALLER } from './packages.ts';
import { coreDnsReadyCheck, upgradeScript } from './upgrade.ts';

describe('the kubeadm upgrade script', () => {
  const input = { hostname: 'n1', target: 'v1.21.3', ip: '10.0.0.11', port: 6443 };

  it('runs upgrade apply on the first control plane, upgrade node on the others and on workers', () => {
    const first = upgradeScript({ ...input, part: 'first' });
    const other = upgradeScript({ ...input, part: 'control-plane' });
    const worker = upgradeScript({ ...input, part: 'worker' });
    for (const s of [first, other, worker]) execFileSync('sh', ['-n'], { input: s });
    assert.match(first, /^kubeadm upgrade apply v1\.21\.3 --yes/m);
    assert.doesNotMatch(other, /upgrade apply/);
    assert.match(other, /^kubeadm upgrade node$/m);
    assert.match(worker, /^kubeadm upgrade node$/m);
    assert.match(other, /https:\/\/10\.0\.0\.11:6443\/healthz/);
    assert.doesNotMatch(worker, /healthz/, 'a worker runs no API server');
  });

  it('ignores the ImagePull preflight when told (a bundle cluster: images imported, not pulled)', () => {
    const bundle = upgradeScript({ ...input, part: 'first', ignorePreflightErrors: ['ImagePull'] });
    assert.match(
      bundle,
      /^kubeadm upgrade apply v1\.21\.3 --yes --certificate-renewal=true --ignore-preflight-errors=ImagePull$/m,
    );
    assert.doesNotMatch(upgradeScript({ ...input, part: 'first' }), /ignore-preflight-errors/);
  });

  it('refuses before changing anything when the node’s kubeadm is not the target’s', () => {
    const s = upgradeScript({ ...input, part: 'worker' });
    assert.ok(s.indexOf('kubeadm version -o short') < s.indexOf('kubeadm upgrade node'));
    assert.match(s, /put the v1\.21\.3 bundle's kubeadm and kubelet on the node first/);
  });

  it('refuses a target that is not a version', () => {
    assert.throws(
      () => upgradeScript({ ...input, part: 'first', target: 'v1.21; rm -rf /' }),
      /not a version/,
    );
  });
});

describe('the first control plane’s CoreDNS check before a 1.20 upgrade apply', () => {
  const input = { hostname: 'n1', ip: '10.0.0.11', port: 6443 };
  /** Runs the check with a kubectl that answers as `configmap` and `ready` say. */
  function run(configmap: boolean, ready: string): { code: number; err: string } {
    const dir = mkdtempSync(join(tmpdir(), 'ingot-upgrade-'));
    try {
      writeFileSync(
        join(dir, 'kubectl'),
        `#!/bin/sh
case "$*" in
  *"get configmap coredns"*) ${configmap ? 'exit 0' : 'echo "not found" >&2; exit 1'} ;;
  *"get deployment coredns"*) printf '%s' '${ready}' ;;
  *) exit 2 ;;
esac
`,
        { mode: 0o755 },
      );
      const r = spawnSync('sh', ['-c', coreDnsReadyCheck()], {
        env: { PATH: `${dir}:/usr/bin:/bin` },
        encoding: 'utf8',
      });
      return { code: r.status ?? -1, err: r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('refuses when kubeadm’s CoreDNS has no ready replica (kubeadm would wait ~43 min)', () => {
    const r = run(true, '');
    assert.equal(r.code, 1);
    assert.match(r.err, /kube-system\/coredns has no ready replica/);
  });

  it('goes on when CoreDNS has a ready replica, or when kubeadm’s CoreDNS addon is not deployed', () => {
    assert.equal(run(true, '1').code, 0);
    assert.equal(run(false, '').code, 0);
  });

  it('is in a 1.20 first control plane’s script before upgrade apply, and nowhere else', () => {
    const s = upgradeScript({ ...input, part: 'first', target: 'v1.20.2' });
    assert.ok(s.includes(coreDnsReadyCheck()));
    assert.ok(s.indexOf('get configmap coredns') < s.indexOf('kubeadm upgrade apply'));
    assert.ok(!upgradeScript({ ...input, part: 'first', target: 'v1.21.3' }).includes('coredns'));
    assert.ok(!upgradeScript({ ...input, part: 'worker', target: 'v1.20.2' }).includes('coredns'));
  });
});

describe('a bundle cluster’s upgrade script', () => {
  const input = { hostname: 'n1', target: 'v1.21.3', ip: '10.0.0.11', port: 6443 };

  it('installs the target’s bundle from the rack before the version check', () => {
    const s = upgradeScript({ ...input, part: 'worker', bundlePrefix: 'kubernetes-v1.21.3-' });
    execFileSync('sh', ['-n'], { input: s });
    const install = s.indexOf(`${BUNDLE_INSTALLER} "kubernetes-v1.21.3-$(dpkg --print-architecture)"`);
    assert.ok(install > 0, s);
    assert.ok(install < s.indexOf('kubeadm version -o short'));
    assert.ok(!upgradeScript({ ...input, part: 'worker' }).includes(BUNDLE_INSTALLER));
  });

  it('refuses a bundle name that is not one', () => {
    assert.throws(
      () => upgradeScript({ ...input, part: 'worker', bundlePrefix: 'x"; rm -rf / #' }),
      /not a bundle name/,
    );
  });
});
