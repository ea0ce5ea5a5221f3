/**
 * Kubernetes bundles: the vocabulary shared by the registry (src/bundles), the store, the
 * rack that serves them (src/netboot) and the renderers that install them (src/cluster).
 * Pure: no I/O. docs/bundles.md says which field comes from where.
 *
 * A bundle is one Kubernetes release for one architecture, ready for nodes without internet:
 * node binaries (kubeadm, kubelet, kubectl, crictl), container image archives (control plane,
 * kube-proxy, pause, etcd, CoreDNS when present) and CNI plugins, each with its SHA-256.
 */
import { checkArtifactName } from './artifacts.ts';
import { ARCHES, type Arch } from './machine.ts';

export const BUNDLE_API_VERSION = 'ingot.dev/v1alpha1';
export const BUNDLE_KIND = 'KubernetesBundle';
/** Ingot's own bundle manifest, at the root of a bundle (given or stored). */
export const BUNDLE_MANIFEST_FILE = 'ingot-bundle.json';
/** The rack serves a ready bundle's files under `/bundles/<name>/<path>` (token required). */
export const BUNDLE_HTTP_PREFIX = '/bundles/';
/** The rack renders the bundle's install step at `/bundles/<name>/install.sh`. */
export const BUNDLE_INSTALL_SCRIPT = 'install.sh';

/** Machine architectures a bundle can be for: the machines' own vocabulary. */
export const BUNDLE_ARCHES: readonly Arch[] = ARCHES;

/** Binaries a node installs, in install order. kubeadm and kubelet are required. */
export const NODE_BINARIES = ['kubeadm', 'kubelet', 'kubectl', 'crictl'] as const;
export type NodeBinary = (typeof NODE_BINARIES)[number];
export const REQUIRED_BINARIES: readonly NodeBinary[] = ['kubeadm', 'kubelet'];

/** Kubernetes' own components: their binaries and images carry the bundle's version. */
export const KUBE_COMPONENTS = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
] as const;
/** Images kubeadm also pulls, with their own versions. */
export const EXTRA_COMPONENTS = ['pause', 'etcd', 'coredns'] as const;
export type ImageComponent = (typeof KUBE_COMPONENTS)[number] | (typeof EXTRA_COMPONENTS)[number];

export const ImageArchiveFormat = { Docker: 'docker-archive', Oci: 'oci-archive' } as const;
export type ImageArchiveFormat = (typeof ImageArchiveFormat)[keyof typeof ImageArchiveFormat];

export const BundleStatus = { Importing: 'importing', Ready: 'ready', Failed: 'failed' } as const;
export type BundleStatus = (typeof BundleStatus)[keyof typeof BundleStatus];
export const BUNDLE_STATUSES: readonly BundleStatus[] = Object.values(BundleStatus);

/** A file of a bundle: path relative to the bundle's root, `/`-separated. */
export interface BundleFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export interface BundleBinary extends BundleFile {
  readonly name: NodeBinary;
  /** The bundle's version when the binary carries that version string, else null (crictl). */
  readonly version: string | null;
}

export interface BundleImage extends BundleFile {
  readonly format: ImageArchiveFormat;
  /** Names the archive gives its image (docker-archive RepoTags, OCI `ref.name`): what containerd imports. */
  readonly refs: readonly string[];
  /** Extra names the install step tags (`…/kube-proxy-amd64:v` → `…/kube-proxy:v`, what kubeadm asks for). */
  readonly aliases: readonly string[];
  readonly component: ImageComponent | null;
  readonly arch: Arch;
  readonly os: string;
  /** `sha256:…` of the image config: the image ID, the same in either archive format. */
  readonly configDigest: string;
  /** OCI archives: the manifest digest `ctr images ls` shows. Docker archives have none of their own. */
  readonly manifestDigest: string | null;
}

export interface BundleCniPlugin extends BundleFile {
  readonly name: string;
}

/** Where the bundle's facts came from (docs/bundles.md). */
export interface BundleProvenance {
  /** `upstream-release`: a `kubernetes/server/bin` tree; `ingot-manifest`: an ingot-bundle.json. */
  readonly layout: 'upstream-release' | 'ingot-manifest';
  /** The file(s) the version was read from, e.g. `kubernetes/server/bin/*.docker_tag`. */
  readonly versionFrom: string;
  /** The file the architecture was first read from (an ELF header or an image config). */
  readonly archFrom: string;
}

/** Ingot's bundle manifest as stored (`ingot-bundle.json` in the bundle's directory). */
export interface BundleManifest {
  readonly apiVersion: typeof BUNDLE_API_VERSION;
  readonly kind: typeof BUNDLE_KIND;
  /** `v1.20.2`: Kubernetes' own version string (`git describe` form). */
  readonly version: string;
  readonly arch: Arch;
  readonly binaries: readonly BundleBinary[];
  readonly images: readonly BundleImage[];
  readonly cniPlugins: readonly BundleCniPlugin[];
  /** Images kubeadm needs that the bundle lacks (e.g. `coredns`): nodes cannot pull them offline. */
  readonly absentImages: readonly ImageComponent[];
  readonly provenance: BundleProvenance;
}

/** One registered bundle (the store's row; times are ISO). */
export interface Bundle {
  readonly id: string;
  /** Null while an import that was given no name is still reading the bundle. */
  readonly name: string | null;
  readonly version: string | null;
  readonly arch: Arch | null;
  readonly source: string;
  /** Directory under the artifacts dir: `bundles/<id>`. */
  readonly path: string;
  /** Bytes of all stored files; null until ready. */
  readonly size: number | null;
  /** SHA-256 of the stored ingot-bundle.json (which lists every file's SHA-256); null until ready. */
  readonly sha256: string | null;
  readonly status: BundleStatus;
  readonly statusReason: string;
  readonly manifest: BundleManifest | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Throws a validation error unless `name` is a bundle name (`kubernetes-v1.20.2-amd64`). */
export function checkBundleName(name: string, field = 'name'): string {
  return checkArtifactName(name, field, 'a bundle name');
}

/** The name a bundle gets when none is given: `kubernetes-v1.20.2-amd64`. */
export function defaultBundleName(version: string, arch: Arch): string {
  return `${bundleNamePrefix(version)}${arch}`;
}

/** `kubernetes-v1.20.2-`: a default bundle name without its arch (a node adds its own). */
export function bundleNamePrefix(version: string): string {
  return `kubernetes-${version.toLowerCase().replace(/[^a-z0-9._-]/g, '_')}-`;
}

const VERSION = /^v(\d{1,3})\.(\d{1,3})\.(\d{1,5})(-[0-9A-Za-z.-]{1,64})?(\+[0-9A-Za-z.-]{1,64})?$/;

/** `v1.20.2` → {major 1, minor 20, patch 2}; null when it is not a Kubernetes version. */
export function parseKubeVersion(v: string): { major: number; minor: number; patch: number } | null {
  const m = VERSION.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : null;
}

/** Upstream's image tag for a version: Docker tags cannot hold `+`, so release.sh writes `_`. */
export function dockerTagOf(version: string): string {
  return version.replace(/\+/g, '_');
}

/** A parsed image reference: `registry.k8s.io/kube-proxy-amd64:v1.20.2`. */
export interface ImageRef {
  /** Everything before the tag/digest: `registry.k8s.io/kube-proxy-amd64`. */
  readonly repository: string;
  /** Last path segment of the repository: `kube-proxy-amd64`. */
  readonly name: string;
  readonly tag: string | null;
  readonly digest: string | null;
}

const REF =
  /^([a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** Parses a full image reference (`name:tag`, `name@sha256:…`); null when it is not one. */
export function parseImageRef(ref: string): ImageRef | null {
  if (ref.length > 255) return null;
  // A first segment with a dot, a colon or `localhost` is a registry host (Docker's rule).
  if (!REF.test(ref)) return null;
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : null;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  const tag = colon > slash ? rest.slice(colon + 1) : null;
  const repository = colon > slash ? rest.slice(0, colon) : rest;
  if (tag === null && digest === null) return null;
  return { repository, name: repository.slice(repository.lastIndexOf('/') + 1), tag, digest };
}

const COMPONENTS: readonly ImageComponent[] = [...KUBE_COMPONENTS, ...EXTRA_COMPONENTS];

/**
 * Which Kubernetes component an image is, from its name: `kube-proxy-amd64` → `kube-proxy`
 * (upstream's release.sh appends `-<arch>` to image names), `etcd` → `etcd`; null for others.
 */
export function imageComponent(ref: ImageRef, arch: Arch): ImageComponent | null {
  const base = ref.name.endsWith(`-${arch}`) ? ref.name.slice(0, -arch.length - 1) : ref.name;
  return (COMPONENTS as readonly string[]).includes(base) ? (base as ImageComponent) : null;
}

/** `registry.k8s.io/kube-proxy-amd64:v1.20.2` → `registry.k8s.io/kube-proxy:v1.20.2` (kubeadm's name); null when no suffix. */
export function withoutArchSuffix(ref: ImageRef, arch: Arch): string | null {
  if (!ref.name.endsWith(`-${arch}`) || ref.tag === null) return null;
  return `${ref.repository.slice(0, -arch.length - 1)}:${ref.tag}`;
}

/** Every file a node downloads, in install order: binaries, CNI plugins, images. */
export function bundleFiles(m: BundleManifest): BundleFile[] {
  return [...m.binaries, ...m.cniPlugins, ...m.images];
}

/** URL of a bundle file on a rack: `<rack>/bundles/<name>/<path>`. */
export function bundleFileUrl(rackUrl: string, bundleName: string, path: string): string {
  return `${rackUrl.replace(/\/+$/, '')}${BUNDLE_HTTP_PREFIX}${encodeURIComponent(bundleName)}/${path
    .split('/')
    .map(encodeURIComponent)
    .join('/')}`;
}
