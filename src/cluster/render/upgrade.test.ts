import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { upgradeScript } from './upgrade.ts';

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
