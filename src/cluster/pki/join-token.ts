/**
 * The kubeadm join token of a cluster a region creates: minted fresh for each create with a
 * short lifetime (not the PKI's long-lived token, which offline renders keep in `pki/tokens.yaml`),
 * sealed in the region's secret store, rendered into the init node's `InitConfiguration`
 * (`bootstrapTokens[].ttl`) and the joiners' `JoinConfiguration`. It is a credential: never put
 * it in an event, a log line or an error message.
 */
import type { JoinToken } from '../../core/cluster.ts';
import { bootstrapTokenValue } from './generate.ts';

export type { JoinToken };

/** Long enough for a slow lab deploy and every join; short enough to be worth little afterwards. */
export const JOIN_TOKEN_TTL_MS = 2 * 3_600_000;

export function mintJoinToken(ttlMs = JOIN_TOKEN_TTL_MS): JoinToken {
  return { token: bootstrapTokenValue(), ttlSeconds: Math.round(ttlMs / 1000) };
}

/** kubeadm's duration text: 7200 → `2h0m0s`. */
export function kubeadmDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${h}h${m}m${seconds % 60}s`;
}

/** A sealed join token read back; throws on anything else (a corrupt or foreign secret). */
export function parseJoinToken(text: string): JoinToken {
  const v = JSON.parse(text) as Partial<JoinToken>;
  if (
    typeof v.token !== 'string' ||
    !/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(v.token) ||
    typeof v.ttlSeconds !== 'number'
  )
    throw new Error('the cluster join token secret is malformed');
  return { token: v.token, ttlSeconds: v.ttlSeconds };
}
