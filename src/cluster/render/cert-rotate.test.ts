import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { certRotateScript, ROTATED_MANIFESTS } from './cert-rotate.ts';

describe('the control plane certificate rotation script', () => {
  const script = certRotateScript({ hostname: 'cp-1', ip: '10.0.0.11', port: 6443, waitSeconds: 60 });

  it('is valid sh', () => {
    execFileSync('sh', ['-n'], { input: script });
  });

  it('puts back what an interrupted run held aside, renews, restarts the static pods, then waits for this node’s API', () => {
    const at = (s: string) => {
      const i = script.indexOf(s);
      assert.ok(i >= 0, `${s} in the script`);
      return i;
    };
    assert.ok(at('\nput_back\n') < at('kubeadm certs renew all'), 'a rerun restores the manifests first');
    assert.ok(at('kubeadm certs renew all') < at('ingot-phase: certificates-renewed'));
    assert.ok(at('ingot-phase: certificates-renewed') < at('ingot-phase: static-pods-stopped'));
    assert.ok(at('ingot-phase: static-pods-stopped') < at('https://10.0.0.11:6443/healthz'));
    for (const m of ROTATED_MANIFESTS) assert.match(script, new RegExp(m.replace('.', '\\.')));
    assert.match(script, /within 60 s/);
  });
});
