/**
 * The kubelet's systemd unit and kubeadm's drop-in for it, as the upstream packages install
 * them (kubernetes/release: kubelet.service, 10-kubeadm.conf), pointing at where a bundle
 * installs the kubelet. kubeadm writes /var/lib/kubelet/kubeadm-flags.env and config.yaml at
 * init/join; the drop-in reads them.
 */

export function kubeletUnit(kubelet: string): string {
  return `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=${kubelet}
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;
}

export function kubeadmDropIn(kubelet: string): string {
  return `# Written by Ingot's bundle install: kubelet flags as kubeadm sets them up.
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# Written by kubeadm init/join: KUBELET_KUBEADM_ARGS.
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# The operator's last resort: KUBELET_EXTRA_ARGS.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=${kubelet} $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;
}
