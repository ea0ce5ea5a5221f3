import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { buildPlan } from '../plan/plan.ts';
import { generatePki } from '../pki/generate.ts';
import type { PkiMaterial } from '../pki/types.ts';
import { cluster, inventory } from '../testing.ts';
import type { Artifact } from './context.ts';
import { renderArtifacts } from './index.ts';
import { BUNDLE_INSTALLER_PATH, KUBERNETES_APT_KEY_FINGERPRINT, KUBERNETES_APT_SOURCE } from './packages.ts';

let pki: PkiMaterial;

async function files(spec: Record<string, unknown>): Promise<Map<string, string>> {
  const c = cluster(spec);
  const a: Artifact[] = await renderArtifacts(c, buildPlan(c, inventory(3, 1, 1)), pki, new Map());
  const ud = a.find((x) => x.path === 'nodes/z1r1-1/user-data')!;
  const wf = (parse(ud.content, { version: '1.1' }) as { write_files: { path: string; content: string }[] })
    .write_files;
  return new Map(wf.map((f) => [f.path, f.content]));
}

describe('where kubeadm nodes get Kubernetes (spec.packages)', () => {
  before(async () => {
    pki = await generatePki('kubeadm:cluster-admins', new Date('2026-11-22T00:00:00Z'));
  });

  it('renders nothing new when the OS image has the packages (the default)', async () => {
    const f = await files({ version: 'v1.34.1' });
    assert.ok(!f.has(BUNDLE_INSTALLER_PATH));
    assert.ok(!f.has(KUBERNETES_APT_SOURCE));
    assert.doesNotMatch(f.get('/usr/local/sbin/ingot-bootstrap')!, /apt-get|ingot-install-bundle/);
  });

  it('installs from the rack’s bundle before checking the kubeadm version, named by version and node arch', async () => {
    const f = await files({ version: 'v1.34.1', packages: { source: 'bundle' } });
    const installer = f.get(BUNDLE_INSTALLER_PATH)!;
    execFileSync('sh', ['-n', '-c', installer]);
    assert.match(installer, /BUNDLE="\$\{1:-kubernetes-v1\.34\.1-\$\(dpkg --print-architecture\)\}"/);
    assert.match(installer, /\$RACK\/bundles\/\$BUNDLE\/install\.sh/);
    const boot = f.get('/usr/local/sbin/ingot-bootstrap')!;
    const at = (s: string) => boot.indexOf(s);
    assert.ok(at('systemctl restart containerd') < at(BUNDLE_INSTALLER_PATH));
    assert.ok(at(BUNDLE_INSTALLER_PATH) < at('kubeadm version -o short'));
    const named = await files({ version: 'v1.34.1', packages: { source: 'bundle', bundle: 'k8s-prod' } });
    assert.match(named.get(BUNDLE_INSTALLER_PATH)!, /BUNDLE="\$\{1:-k8s-prod\}"/);
  });

  it('installs from pkgs.k8s.io with a deb822 source, a fingerprint-checked key and pinned, held packages', async () => {
    const f = await files({ version: 'v1.34.1', packages: { source: 'upstream' } });
    assert.equal(
      f.get(KUBERNETES_APT_SOURCE),
      'Types: deb\nURIs: https://pkgs.k8s.io/core:/stable:/v1.34/deb/\nSuites: /\nSigned-By: /etc/apt/keyrings/kubernetes-apt-keyring.gpg\n',
    );
    const boot = f.get('/usr/local/sbin/ingot-bootstrap')!;
    execFileSync('bash', ['-n', '-c', boot]);
    assert.match(boot, new RegExp(`print \\$10; exit \\}'\\)" = ${KUBERNETES_APT_KEY_FINGERPRINT} \\|\\|`));
    assert.ok(boot.indexOf(KUBERNETES_APT_KEY_FINGERPRINT) < boot.indexOf('gpg --batch --yes --dearmor'));
    assert.match(boot, /apt-get install -y kubelet=1\.34\.1-\* kubeadm=1\.34\.1-\* kubectl=1\.34\.1-\*/);
    assert.match(boot, /apt-mark hold kubelet kubeadm kubectl/);
  });

  it('refuses a bundle or upstream source for k3s, upstream packages older than 1.24, and a stray bundle name', () => {
    assert.throws(
      () => cluster({ distribution: 'k3s', version: 'v1.34.1', packages: { source: 'bundle' } }),
      /spec\.packages\.source: bundle is for kubeadm clusters; k3s installs from its own release/,
    );
    assert.throws(
      () => cluster({ version: 'v1.34.1', packages: { source: 'upstream', bundle: 'x' } }),
      /spec\.packages\.bundle: is only used with source: bundle/,
    );
    assert.throws(
      () => cluster({ version: 'v1.34.1', packages: { source: 'apt' } }),
      /spec\.packages\.source: must be one of/,
    );
    assert.throws(
      () => cluster({ version: 'v1.23.0', packages: { source: 'upstream' } }),
      /spec\.packages\.source: pkgs\.k8s\.io has Kubernetes 1\.24 and newer, not v1\.23\.0; use source: bundle/,
    );
  });
});
