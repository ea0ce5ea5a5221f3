/**
 * Every pinned image and chart version in one place, so an upgrade is one reviewed diff.
 * Versions marked `fixture` match the upstream CRDs pinned in test/fixtures/crds/ (the
 * manifests are validated against those); the rest are releases known to exist when pinned.
 * docs/cluster.md lists them.
 */
export interface Chart {
  readonly repo: string;
  readonly chart: string;
  readonly version: string;
  readonly namespace: string;
}

export const CHARTS = {
  cilium: { repo: 'https://helm.cilium.io', chart: 'cilium', version: '1.19.4', namespace: 'kube-system' }, // fixture
  calico: {
    repo: 'https://docs.tigera.io/calico/charts',
    chart: 'tigera-operator',
    version: 'v3.32.1',
    namespace: 'tigera-operator',
  }, // fixture
  metallb: {
    repo: 'https://metallb.github.io/metallb',
    chart: 'metallb',
    version: '0.16.1',
    namespace: 'metallb-system',
  }, // fixture
  longhorn: {
    repo: 'https://charts.longhorn.io',
    chart: 'longhorn',
    version: '1.12.1',
    namespace: 'longhorn-system',
  }, // fixture
  rook: {
    repo: 'https://charts.rook.io/release',
    chart: 'rook-ceph',
    version: 'v1.20.6',
    namespace: 'rook-ceph',
  }, // fixture
  kubePrometheusStack: {
    repo: 'https://prometheus-community.github.io/helm-charts',
    chart: 'kube-prometheus-stack',
    version: '77.0.0',
    namespace: 'monitoring',
  },
  smartctlExporter: {
    repo: 'https://prometheus-community.github.io/helm-charts',
    chart: 'prometheus-smartctl-exporter',
    version: '0.15.0',
    namespace: 'monitoring',
  },
  loki: {
    repo: 'https://grafana.github.io/helm-charts',
    chart: 'loki',
    version: '6.29.0',
    namespace: 'monitoring',
  },
  alloy: {
    repo: 'https://grafana.github.io/helm-charts',
    chart: 'alloy',
    version: '1.1.2',
    namespace: 'monitoring',
  },
  flux: {
    repo: 'https://fluxcd-community.github.io/helm-charts',
    chart: 'flux2',
    version: '2.16.0',
    namespace: 'flux-system',
  },
  argocd: {
    repo: 'https://argoproj.github.io/argo-helm',
    chart: 'argo-cd',
    version: '8.0.0',
    namespace: 'argocd',
  },
} as const satisfies Record<string, Chart>;

export const IMAGES = {
  kubeVip: 'ghcr.io/kube-vip/kube-vip:v0.9.2',
  helmController: 'rancher/helm-controller:v0.17.7', // fixture (HelmChart CRD)
  localPath: 'rancher/local-path-provisioner:v0.0.31',
  etcd: 'registry.k8s.io/etcd:3.6.4-0',
  awsCli: 'amazon/aws-cli:2.27.0',
  busybox: 'busybox:1.37.0',
} as const;

/** The pause image kubeadm expects for a Kubernetes minor (containerd's sandbox_image). */
export function pauseImage(minor: number): string {
  if (minor >= 34) return 'registry.k8s.io/pause:3.10.1';
  if (minor >= 31) return 'registry.k8s.io/pause:3.10';
  if (minor >= 26) return 'registry.k8s.io/pause:3.9';
  // Older kubeadm: constants.PauseVersion and its default registry (k8s.gcr.io before 1.25).
  const older: Record<number, string> = {
    25: 'registry.k8s.io/pause:3.8',
    24: 'k8s.gcr.io/pause:3.7',
    23: 'k8s.gcr.io/pause:3.6',
    22: 'k8s.gcr.io/pause:3.5',
    21: 'k8s.gcr.io/pause:3.4.1',
    20: 'k8s.gcr.io/pause:3.2',
  };
  return older[minor] ?? 'registry.k8s.io/pause:3.9';
}
