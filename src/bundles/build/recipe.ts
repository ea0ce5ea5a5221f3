/**
 * The recipe of the Kubernetes bundle Ingot builds from Debian's source (docs/kubernetes.md):
 * every input the build takes, pinned. Its hash names the cache directory, so a changed input
 * is a new bundle and an unchanged one is found again. Pure: no I/O.
 */
import { createHash } from 'node:crypto';

export interface Recipe {
  /** Bumped when the build steps change in a way that changes the bundle. */
  readonly revision: number;
  readonly version: string;
  readonly arch: 'amd64';
  /** Debian 12's `kubernetes` source package: the upstream tree with vendor/ (Debian's patches are not applied). */
  readonly source: { readonly suite: string; readonly package: string; readonly version: string };
  /** The upstream commit and release date the binaries report (`kubectl version`). */
  readonly git: { readonly commit: string; readonly epoch: number };
  /** Go as upstream built 1.20 (newer Go panics at run time in the vendored reflect2). */
  readonly go: {
    readonly suite: string;
    readonly version: string;
    readonly packages: readonly string[];
    /** GOROOT inside the extracted packages. */
    readonly root: string;
  };
  readonly targets: readonly string[];
  /** Debian binary packages the images and the CNI plugins come from, with their suites. */
  readonly debs: {
    readonly suite: string;
    readonly etcd: readonly string[];
    readonly kubeProxy: readonly string[];
    readonly cni: readonly string[];
  };
  /** The registry and tags kubeadm 1.20 asks for (constants in cmd/kubeadm/app/constants). */
  readonly images: {
    readonly registry: string;
    readonly pauseTag: string;
    /** Debian's etcd is 3.4.23; kubeadm 1.20 asks for 3.4.13-0: the image carries both tags. */
    readonly etcdTags: readonly string[];
  };
}

export const KUBERNETES_1_20: Recipe = {
  revision: 2,
  version: 'v1.20.2',
  arch: 'amd64',
  source: { suite: 'bookworm', package: 'kubernetes', version: '1.20.5+really1.20.2-1.1+deb12u1' },
  git: { commit: 'faecb196815e248d3ecfb03c680a4507229c2a56', epoch: 1610496000 },
  go: {
    suite: 'bullseye',
    version: '1.15.15-1~deb11u4',
    packages: ['golang-1.15-go', 'golang-1.15-src'],
    root: 'usr/lib/go-1.15',
  },
  targets: [
    'cmd/kube-apiserver',
    'cmd/kube-controller-manager',
    'cmd/kube-scheduler',
    'cmd/kubelet',
    'cmd/kubeadm',
    'cmd/kube-proxy',
    'cmd/kubectl',
  ],
  debs: {
    suite: 'bookworm',
    // Debian's etcd is linked against glibc.
    etcd: ['etcd-server', 'libc6'],
    // kube-proxy's iptables mode: iptables (nft backend, as Debian 12's own) and conntrack,
    // with the libraries they load. The build runs each binary in the image's root to prove it.
    kubeProxy: [
      'libc6',
      'libgcc-s1',
      'iptables',
      'libip4tc2',
      'libip6tc2',
      'libxtables12',
      'libnftnl11',
      'libmnl0',
      'libnetfilter-conntrack3',
      'libnfnetlink0',
      'conntrack',
      'libnetfilter-cthelper0',
      'libnetfilter-cttimeout1',
      'libnetfilter-queue1',
    ],
    cni: ['containernetworking-plugins'],
  },
  images: { registry: 'k8s.gcr.io', pauseTag: '3.2', etcdTags: ['3.4.13-0', '3.4.23'] },
};

/** The first 12 hex digits of the SHA-256 of the recipe: the cache directory's suffix. */
export function recipeHash(r: Recipe): string {
  return createHash('sha256').update(JSON.stringify(r)).digest('hex').slice(0, 12);
}

/** The hash of what the compile takes (source, Go, targets): the work directory's suffix. */
export function compileHash(r: Recipe): string {
  const { source, git, go, targets, version, arch } = r;
  return createHash('sha256')
    .update(JSON.stringify({ source, git, go, targets, version, arch }))
    .digest('hex')
    .slice(0, 12);
}

/** `v1.20.2-<hash>`: the bundle's directory under the cache. */
export function bundleDirName(r: Recipe): string {
  return `${r.version}-${recipeHash(r)}`;
}
