import type { PlannedNode } from '../plan/types.ts';
import { nodeInterface, type RenderContext, secret } from './context.ts';
import { IMAGES } from './versions.ts';
import { toYamlStreamDirect } from './yaml-emit.ts';

/** Admin kubeconfig kube-vip uses, per distribution (on kubeadm's init node see kubeVipKubeconfig). */
function kubeconfigPath(ctx: RenderContext, node: PlannedNode): string {
  const d = ctx.spec.spec.distribution;
  if (d === 'k3s') return '/etc/rancher/k3s/k3s.yaml';
  if (d === 'rke2') return '/etc/rancher/rke2/rke2.yaml';
  // kubeadm ≥ 1.29 gives admin.conf its rights through a ClusterRoleBinding that only exists
  // once init has finished, so during init kube-vip must use super-admin.conf (system:masters);
  // the bootstrap script switches the manifest back to admin.conf afterwards.
  return node.init && ctx.minor >= 29 ? '/etc/kubernetes/super-admin.conf' : '/etc/kubernetes/admin.conf';
}

export function staticPodDir(ctx: RenderContext): string {
  const d = ctx.spec.spec.distribution;
  if (d === 'kubeadm') return '/etc/kubernetes/manifests';
  return `/var/lib/rancher/${d}/agent/pod-manifests`;
}

/**
 * kube-vip as a static pod on each control plane, holding the API VIP by leader election.
 * kube-vip talks to the local API server as `kubernetes:<port>`, hence the host alias.
 */
export function kubeVipManifest(ctx: RenderContext, node: PlannedNode): string {
  const s = ctx.spec.spec;
  const kv = s.endpoint.kubeVip;
  const iface = nodeInterface(ctx, node);
  const env: Record<string, string> = {
    address: s.endpoint.address,
    port: String(s.endpoint.port),
    cp_enable: 'true',
    cp_namespace: 'kube-system',
    svc_enable: 'false',
    vip_interface: iface,
    vip_subnet: '32',
    vip_leaderelection: 'true',
    vip_leasename: 'plndr-cp-lock',
    vip_leaseduration: '5',
    vip_renewdeadline: '3',
    vip_retryperiod: '1',
    prometheus_server: ':2112',
  };
  if (kv.mode === 'arp') env.vip_arp = 'true';
  if (kv.mode === 'bgp' && kv.bgp) {
    env.bgp_enable = 'true';
    env.bgp_as = String(kv.bgp.asn);
    env.bgp_routerinterface = iface;
    env.bgp_peers = kv.bgp.peers
      .map((p) => `${p.address}:${p.asn}:${p.password ? secret(ctx, p.password.secret) : ''}:false`)
      .join(',');
  }
  const path = kubeconfigPath(ctx, node);
  // Every control plane's pod but for its interface and kubeconfig: one template per render.
  return toYamlStreamDirect(
    [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'kube-vip',
          namespace: 'kube-system',
          labels: { 'app.kubernetes.io/name': 'kube-vip' },
        },
        spec: {
          hostNetwork: true,
          hostAliases: [{ ip: '127.0.0.1', hostnames: ['kubernetes'] }],
          priorityClassName: 'system-node-critical',
          containers: [
            {
              name: 'kube-vip',
              image: IMAGES.kubeVip,
              imagePullPolicy: 'IfNotPresent',
              args: ['manager'],
              env: [
                ...Object.keys(env)
                  .sort()
                  .map((name) => ({ name, value: env[name] })),
                { name: 'vip_nodename', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              ],
              securityContext: { capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] } },
              volumeMounts: [{ name: 'kubeconfig', mountPath: '/etc/kubernetes/admin.conf', readOnly: true }],
            },
          ],
          volumes: [{ name: 'kubeconfig', hostPath: { path, type: 'File' } }],
        },
      },
    ],
    ctx.yaml,
  );
}
