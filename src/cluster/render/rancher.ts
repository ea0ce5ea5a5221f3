import type { PlannedNode } from '../plan/types.ts';
import { etcdNodes, type RenderContext, secret, topologyLabels } from './context.ts';
import { toYamlDirect } from './yaml-emit.ts';

/** Where a k3s / RKE2 server reads the API server side files Ingot writes. */
export function rancherDir(ctx: RenderContext): string {
  return `/etc/rancher/${ctx.spec.spec.distribution}/ingot`;
}

/** `v1.34.1` + release 1 → `v1.34.1+k3s1` / `v1.34.1+rke2r1`. */
export function rancherVersion(ctx: RenderContext): string {
  const s = ctx.spec.spec;
  return s.distribution === 'rke2'
    ? `${s.version}+rke2r${s.distributionRelease}`
    : `${s.version}+k3s${s.distributionRelease}`;
}

/**
 * The server that starts the cluster (`cluster-init`): the first etcd member. With external
 * etcd that is the first dedicated etcd server, which the API servers then join.
 */
export function bootstrapServer(ctx: RenderContext): PlannedNode {
  return etcdNodes(ctx)[0];
}

export function isServer(node: PlannedNode): boolean {
  return node.role !== 'worker';
}

function serverUrl(ctx: RenderContext, node: PlannedNode): string | undefined {
  const s = ctx.spec.spec;
  const port = s.distribution === 'rke2' ? 9345 : s.endpoint.port;
  const first = bootstrapServer(ctx);
  if (node.hostname === first.hostname) return undefined;
  // Servers join through the first etcd member: with external etcd no API server exists yet
  // behind the VIP when they start. Agents use the fixed registration address (the VIP).
  if (isServer(node)) return `https://${first.ip}:${port}`;
  return `https://${s.endpoint.address}:${port}`;
}

function etcdSnapshots(ctx: RenderContext): Record<string, unknown> {
  const b = ctx.spec.spec.backups.etcd;
  if (!b) return {};
  const local = { 'etcd-snapshot-schedule-cron': b.schedule, 'etcd-snapshot-retention': b.retention };
  // Without s3, k3s and RKE2 keep their snapshots on the servers' disks.
  if (!b.s3) return local;
  const endpoint = b.s3.endpoint.replace(/^https?:\/\//, '').replace(/\/$/, '');
  return {
    ...local,
    'etcd-s3': true,
    'etcd-s3-endpoint': endpoint,
    ...(b.s3.endpoint.startsWith('http://') ? { 'etcd-s3-insecure': true } : {}),
    'etcd-s3-bucket': b.s3.bucket,
    'etcd-s3-region': b.s3.region,
    ...(b.s3.folder ? { 'etcd-s3-folder': b.s3.folder } : {}),
    'etcd-s3-access-key': secret(ctx, b.s3.accessKey.secret),
    'etcd-s3-secret-key': secret(ctx, b.s3.secretKey.secret),
  };
}

/** `/etc/rancher/{k3s,rke2}/config.yaml` for one node. */
export function rancherConfig(ctx: RenderContext, node: PlannedNode): string {
  const s = ctx.spec.spec;
  const n = s.networking;
  const rke2 = s.distribution === 'rke2';
  const labels = topologyLabels(node);
  const cfg: Record<string, unknown> = {
    token: ctx.pki.tokens.clusterToken,
    'node-name': node.hostname,
    'node-ip': node.ip,
    'node-label': Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`),
  };
  const url = serverUrl(ctx, node);
  if (url) cfg.server = url;
  const taints = node.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
  const kubeletArgs = ['read-only-port=0', 'streaming-connection-idle-timeout=5m', 'event-qps=5'];
  if (!rke2 && s.security.cis) cfg['protect-kernel-defaults'] = true;
  // RKE2's CIS profile applies to agents too (it checks their kernel parameters at start).
  if (rke2 && s.security.cis) cfg.profile = 'cis';
  if (!isServer(node)) {
    if (taints.length) cfg['node-taint'] = taints;
    cfg['kubelet-arg'] = kubeletArgs;
    return toYamlDirect(cfg);
  }
  const dir = rancherDir(ctx);
  Object.assign(cfg, {
    'tls-san': [s.endpoint.address, ...s.endpoint.certSANs],
    'cluster-cidr': [n.podCIDR, n.podCIDRv6].filter(Boolean).join(','),
    'service-cidr': [n.serviceCIDR, n.serviceCIDRv6].filter(Boolean).join(','),
    'cluster-domain': n.clusterDomain,
    'write-kubeconfig-mode': '0600',
    'kubelet-arg': kubeletArgs,
    'kube-controller-manager-arg': ['terminated-pod-gc-threshold=1000', 'profiling=false'],
    'kube-scheduler-arg': ['profiling=false'],
  });
  if (s.workers.some((w) => w.count > 0))
    cfg['node-taint'] = ['node-role.kubernetes.io/control-plane:NoSchedule'];
  if (node.hostname === bootstrapServer(ctx).hostname) cfg['cluster-init'] = true;
  const apiArgs = ['profiling=false', 'service-account-lookup=true'];
  if (rke2) {
    cfg.cni = [n.cni.plugin];
    if (s.security.auditPolicy) cfg['audit-policy-file'] = `${dir}/audit-policy.yaml`;
    cfg['pod-security-admission-config-file'] = `${dir}/admission.yaml`;
  } else {
    cfg['flannel-backend'] = 'none';
    cfg['disable-network-policy'] = true;
    cfg.disable = ['traefik', 'servicelb', ...(s.storage.provider === 'local-path' ? [] : ['local-storage'])];
    if (s.security.secretsEncryption) cfg['secrets-encryption'] = true;
    apiArgs.push(`admission-control-config-file=${dir}/admission.yaml`);
    if (s.security.auditPolicy) {
      apiArgs.push(
        `audit-policy-file=${dir}/audit-policy.yaml`,
        'audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log',
        'audit-log-maxage=30',
        'audit-log-maxbackup=10',
        'audit-log-maxsize=100',
      );
    }
  }
  cfg['kube-apiserver-arg'] = apiArgs;
  if (n.cni.plugin === 'cilium') cfg['disable-kube-proxy'] = true;
  if (s.etcd.topology === 'external') {
    if (node.role === 'etcd')
      Object.assign(cfg, {
        'disable-apiserver': true,
        'disable-controller-manager': true,
        'disable-scheduler': true,
      });
    else cfg['disable-etcd'] = true;
  }
  if (etcdNodes(ctx).some((e) => e.hostname === node.hostname)) Object.assign(cfg, etcdSnapshots(ctx));
  return toYamlDirect(cfg);
}
