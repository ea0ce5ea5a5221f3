import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, parseKubeVersion, type SkewInput, skewProblems } from './version-skew.ts';

const cluster = (o: Partial<SkewInput> = {}): SkewInput => ({
  target: 'v1.21.3',
  apiServers: [
    { node: 'cp1', version: 'v1.20.2' },
    { node: 'cp2', version: 'v1.20.2' },
  ],
  kubelets: [
    { node: 'cp1', version: 'v1.20.2' },
    { node: 'w1', version: 'v1.20.2' },
  ],
  kubeadm: 'v1.21.3',
  ...o,
});

describe('parseKubeVersion', () => {
  it('reads v-prefixed and bare versions with pre-release or build suffixes, and nothing else', () => {
    assert.deepEqual(parseKubeVersion('v1.20.2'), { major: 1, minor: 20, patch: 2 });
    assert.deepEqual(parseKubeVersion('1.21.0-rc.1'), { major: 1, minor: 21, patch: 0 });
    assert.deepEqual(parseKubeVersion('v1.20.2+k3s1'), { major: 1, minor: 20, patch: 2 });
    for (const bad of ['1.20', 'v1', 'latest', '']) assert.equal(parseKubeVersion(bad), null);
    assert.ok(compareVersions(parseKubeVersion('1.20.10')!, parseKubeVersion('1.20.9')!) > 0);
  });
});

describe('skewProblems', () => {
  it('allows the next minor, a patch upgrade, and a same-version reconfigure', () => {
    assert.deepEqual(skewProblems(cluster()), []);
    assert.deepEqual(skewProblems(cluster({ target: 'v1.20.5', kubeadm: 'v1.20.5' })), []);
    assert.deepEqual(skewProblems(cluster({ target: 'v1.20.2', kubeadm: 'v1.20.2' })), []);
  });

  it('refuses to skip a minor', () => {
    const p = skewProblems(cluster({ target: 'v1.22.0', kubeadm: 'v1.22.0' }));
    assert.equal(p.length, 1);
    assert.match(
      p[0],
      /skips a minor: cp1's API server is v1.20.2; upgrade one minor at a time \(to v1.21.x first\)/,
    );
  });

  it('refuses a downgrade', () => {
    const p = skewProblems(cluster({ target: 'v1.20.1', kubeadm: 'v1.20.1' }));
    assert.match(p.join('\n'), /older than cp\d's API server v1.20.2: downgrades are not supported/);
  });

  it('refuses a kubelet newer than the oldest API server', () => {
    const p = skewProblems(
      cluster({
        target: 'v1.21.3',
        kubelets: [{ node: 'w1', version: 'v1.21.0' }],
      }),
    );
    assert.deepEqual(p, [
      "w1's kubelet v1.21.0 is newer than cp1's API server v1.20.2: a kubelet may never be newer than the API server",
    ]);
  });

  it('refuses an upgrade that would leave a kubelet more than two minors behind', () => {
    const p = skewProblems(
      cluster({
        kubelets: [
          { node: 'w1', version: 'v1.19.4' },
          { node: 'w2', version: 'v1.18.9' },
        ],
      }),
    );
    assert.deepEqual(p, [
      "w2's kubelet v1.18.9 would be more than two minors behind v1.21.3: upgrade that node first",
    ]);
  });

  it('refuses to start on a control plane left mixed, but resumes one between current and target', () => {
    const mixed = [
      { node: 'cp1', version: 'v1.20.2' },
      { node: 'cp2', version: 'v1.20.4' },
    ];
    assert.match(
      skewProblems(cluster({ apiServers: mixed })).join('\n'),
      /run different versions \(v1.20.2, v1.20.4\)/,
    );
    const resuming = [
      { node: 'cp1', version: 'v1.21.3' },
      { node: 'cp2', version: 'v1.20.2' },
    ];
    assert.deepEqual(skewProblems(cluster({ apiServers: resuming })), []);
  });

  it('needs kubeadm of the target minor, not older than the target', () => {
    assert.match(
      skewProblems(cluster({ kubeadm: 'v1.20.2' })).join(''),
      /kubeadm v1.20.2 cannot upgrade to v1.21.3: it must be v1.21.x/,
    );
    assert.match(skewProblems(cluster({ kubeadm: 'v1.21.1' })).join(''), /at least v1.21.3/);
    assert.deepEqual(skewProblems(cluster({ kubeadm: 'v1.21.5' })), []);
    assert.deepEqual(skewProblems(cluster({ kubeadm: null })), []);
  });

  it('names versions it cannot read', () => {
    assert.deepEqual(skewProblems(cluster({ target: 'next' })), [
      'target: "next" is not a Kubernetes version such as v1.21.3',
    ]);
    assert.match(
      skewProblems(cluster({ kubelets: [{ node: 'w1', version: '?' }] })).join(''),
      /w1: its kubelet reports "\?"/,
    );
    assert.match(skewProblems(cluster({ apiServers: [] })).join(''), /no API server version known/);
  });
});
