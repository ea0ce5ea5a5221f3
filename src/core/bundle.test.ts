import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bundleFileUrl,
  checkBundleName,
  defaultBundleName,
  dockerTagOf,
  imageComponent,
  parseImageRef,
  parseKubeVersion,
  withoutArchSuffix,
} from './bundle.ts';
import { IngotError } from './errors.ts';

describe('bundle vocabulary', () => {
  it('parses full image references into repository, name, tag and digest', () => {
    assert.deepEqual(parseImageRef('k8s.gcr.io/kube-apiserver:v1.20.2'), {
      repository: 'k8s.gcr.io/kube-apiserver',
      name: 'kube-apiserver',
      tag: 'v1.20.2',
      digest: null,
    });
    assert.deepEqual(parseImageRef('localhost:5000/team/etcd:3.4.13-0'), {
      repository: 'localhost:5000/team/etcd',
      name: 'etcd',
      tag: '3.4.13-0',
      digest: null,
    });
    const d = `sha256:${'a'.repeat(64)}`;
    assert.equal(parseImageRef(`registry.k8s.io/pause@${d}`)?.digest, d);
  });

  it('refuses references without a tag or digest, with upper case, or over 255 characters', () => {
    assert.equal(parseImageRef('registry.k8s.io/pause'), null);
    assert.equal(parseImageRef('3.2'), null);
    assert.equal(parseImageRef('Registry/Pause:3.2'), null);
    assert.equal(parseImageRef(`r.io/${'a'.repeat(260)}:1`), null);
  });

  it('names the component of an image, with or without upstream’s -<arch> suffix', () => {
    const c = (r: string) => imageComponent(parseImageRef(r)!, 'amd64');
    assert.equal(c('k8s.gcr.io/kube-proxy-amd64:v1.20.2'), 'kube-proxy');
    assert.equal(c('k8s.gcr.io/kube-proxy:v1.20.2'), 'kube-proxy');
    assert.equal(c('k8s.gcr.io/etcd:3.4.13-0'), 'etcd');
    assert.equal(c('k8s.gcr.io/kube-proxy-arm64:v1.20.2'), null);
    assert.equal(c('docker.io/library/nginx:1'), null);
  });

  it('drops the -<arch> suffix to make the name kubeadm asks for', () => {
    assert.equal(
      withoutArchSuffix(parseImageRef('registry.k8s.io/kube-apiserver-amd64:v1.30.0')!, 'amd64'),
      'registry.k8s.io/kube-apiserver:v1.30.0',
    );
    assert.equal(withoutArchSuffix(parseImageRef('registry.k8s.io/kube-apiserver:v1.30.0')!, 'amd64'), null);
  });

  it('reads Kubernetes versions and writes them as upstream’s Docker tags', () => {
    assert.deepEqual(parseKubeVersion('v1.20.2'), { major: 1, minor: 20, patch: 2 });
    assert.deepEqual(parseKubeVersion('v1.21.0-rc.0+abc123'), { major: 1, minor: 21, patch: 0 });
    assert.equal(parseKubeVersion('1.20.2'), null);
    assert.equal(parseKubeVersion('v1.20'), null);
    assert.equal(dockerTagOf('v1.20.2+deb'), 'v1.20.2_deb');
  });

  it('names bundles by version and arch, and checks given names', () => {
    assert.equal(defaultBundleName('v1.20.2', 'amd64'), 'kubernetes-v1.20.2-amd64');
    assert.equal(defaultBundleName('v1.20.2+Deb', 'arm64'), 'kubernetes-v1.20.2_deb-arm64');
    assert.equal(checkBundleName('k8s-1.20'), 'k8s-1.20');
    assert.throws(
      () => checkBundleName('../etc'),
      (e: unknown) => e instanceof IngotError && e.details.field === 'name',
    );
    assert.throws(() => checkBundleName('A'), /not a bundle name/);
  });

  it('builds a rack URL for a bundle file, each path segment encoded', () => {
    assert.equal(
      bundleFileUrl('http://10.0.0.1:8081/', 'kubernetes-v1.20.2-amd64', 'images/kube-proxy.tar'),
      'http://10.0.0.1:8081/bundles/kubernetes-v1.20.2-amd64/images/kube-proxy.tar',
    );
  });
});
