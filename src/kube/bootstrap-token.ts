/**
 * A cluster's kubeadm join token on its control plane: the `kube-system/bootstrap-token-<id>`
 * Secret `kubeadm init` (or `kubeadm token create`) writes. kubeadm's token cleaner deletes it
 * when it expires; a join that starts later (a retried create, a slow worker pool) would then be
 * refused. `ensureBootstrapToken` re-creates it — the same Secret `kubeadm token create` would
 * write, with a fresh expiry — when it is gone or about to go, and leaves a valid one alone.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { JoinToken } from '../core/cluster.ts';

/** A token with less left than this is re-created before a join is started with it. */
export const TOKEN_MARGIN_MS = 15 * 60_000;

const NS = 'kube-system';

/** RFC 3339 without fractions, as kubeadm writes it. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function bootstrapTokenSecret(t: JoinToken, now: number): V1Secret {
  const [id, secret] = t.token.split('.');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${id}`, namespace: NS },
    type: 'bootstrap.kubernetes.io/token',
    stringData: {
      'token-id': id,
      'token-secret': secret,
      expiration: rfc3339(now + t.ttlSeconds * 1000),
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
      'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
      description: 'Ingot: the cluster join token, re-created for a pending join',
    },
  };
}

/** 'valid' when the Secret has more than the margin left; 'created' when it was (re-)written. */
export async function ensureBootstrapToken(
  kc: KubeConfig,
  t: JoinToken,
  now = Date.now(),
): Promise<'valid' | 'created'> {
  const api = kc.makeApiClient(CoreV1Api);
  const body = bootstrapTokenSecret(t, now);
  const name = body.metadata!.name!;
  let existing: V1Secret | null = null;
  try {
    existing = await api.readNamespacedSecret({ name, namespace: NS });
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw e;
  }
  if (existing) {
    const exp = Buffer.from(existing.data?.expiration ?? '', 'base64').toString();
    // No expiration: the token never expires (kubeadm `--ttl 0`).
    if (!exp || Date.parse(exp) - now > TOKEN_MARGIN_MS) return 'valid';
    await api.replaceNamespacedSecret({ name, namespace: NS, body });
    return 'created';
  }
  await api.createNamespacedSecret({ namespace: NS, body });
  return 'created';
}
