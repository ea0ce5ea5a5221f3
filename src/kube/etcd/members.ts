/**
 * A stacked etcd's membership and a control-plane join's credentials, through a NodeShell on
 * the control planes (the test bed's namespaces, or a deployed node's agent): the members as
 * `etcdctl member list` tells them, whether a node's local member answers, a member's removal,
 * and the fresh credentials a `kubeadm join --control-plane` needs (a bootstrap token and the
 * control-plane certificates uploaded, encrypted with a new certificate key, to the
 * `kubeadm-certs` Secret for two hours). src/core/control-plane-replace.ts decides; this runs.
 */
import { randomBytes } from 'node:crypto';
import type { EtcdMemberInfo } from '../../core/control-plane-replace.ts';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import type { NodeShell } from './shell.ts';
import { etcdctl } from './snapshot.ts';

/**
 * Parses `etcdctl member list` (its default "simple" output, IDs in hex):
 * `8e9e05c52164694d, started, node1, https://10.0.0.2:2380, https://10.0.0.2:2379, false`;
 * a member added but not started has an empty name.
 */
export function parseMemberList(out: string): EtcdMemberInfo[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [id, status, name] = l.split(',').map((x) => x.trim());
      if (!/^[0-9a-f]{1,16}$/.test(id ?? '') || (status !== 'started' && status !== 'unstarted'))
        throw new IngotError(
          ErrorCode.Config,
          `etcdctl member list: cannot read the line "${l.slice(0, 200)}"`,
        );
      return { id, name: name ?? '', started: status === 'started' };
    });
}

/** The members, asked through `via`'s local etcd. */
export async function listMembers(shell: NodeShell, via: string): Promise<EtcdMemberInfo[]> {
  return parseMemberList(await shell.exec(via, etcdctl('member', 'list')));
}

/** Whether `node`'s local etcd member answers (`endpoint health` within 3 s); false when the node is unreachable. */
export function memberAnswers(shell: NodeShell, node: string): Promise<boolean> {
  return shell.exec(node, etcdctl('endpoint', 'health', '--command-timeout=3s')).then(
    () => true,
    () => false,
  );
}

/** Removes the member `id` (hex) through `via`'s local etcd. */
export async function removeMember(shell: NodeShell, via: string, id: string): Promise<void> {
  if (!/^[0-9a-f]{1,16}$/.test(id)) throw invalid('member', `"${id}" is not an etcd member ID in hex`);
  await shell.exec(via, etcdctl('member', 'remove', id));
}

/** What `kubeadm join --control-plane` needs. Secrets: never logged, never in an event. */
export interface ControlPlaneJoin {
  /** The cluster's API endpoint, `host:port`. */
  readonly endpoint: string;
  readonly token: string;
  /** `sha256:<hex>` of the cluster CA's public key. */
  readonly caCertHash: string;
  /** The key the control-plane certificates were uploaded with (64 hex digits). */
  readonly certificateKey: string;
}

/** Reads `kubeadm token create --print-join-command`'s line (without the secrets in any error). */
export function parseJoinCommand(out: string): Omit<ControlPlaneJoin, 'certificateKey'> {
  const m = /kubeadm join (\S+) --token (\S+)\s+--discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})/.exec(
    out,
  );
  if (!m || !/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(m[2]))
    throw new IngotError(
      ErrorCode.StepFailed,
      'kubeadm token create --print-join-command printed no join command (its output is not shown: it holds a token)',
    );
  return { endpoint: m[1], token: m[2], caCertHash: m[3] };
}

/**
 * Makes the credentials of a control-plane join on the healthy control plane `via`: a new
 * certificate key, the control-plane certificates uploaded with it (`kubeadm init phase
 * upload-certs --upload-certs`, the Secret lives 2 h), and a bootstrap token valid 1 h.
 */
export async function controlPlaneJoin(shell: NodeShell, via: string): Promise<ControlPlaneJoin> {
  const certificateKey = randomBytes(32).toString('hex');
  await shell.exec(via, [
    'kubeadm',
    'init',
    'phase',
    'upload-certs',
    '--upload-certs',
    '--certificate-key',
    certificateKey,
    '--skip-certificate-key-print',
    '--kubeconfig',
    '/etc/kubernetes/admin.conf',
  ]);
  const out = await shell.exec(via, [
    'kubeadm',
    'token',
    'create',
    '--ttl',
    '1h',
    '--print-join-command',
    '--kubeconfig',
    '/etc/kubernetes/admin.conf',
  ]);
  return { ...parseJoinCommand(out), certificateKey };
}
