/**
 * A bootstrap's result on its way into the store: checked against the protocol
 * (`checkBootstrapReport`: the kubeconfig arrives as base64 and is decoded), and the init node's admin kubeconfig sealed as a secret (AES-256-GCM,
 * like BMC passwords) so that the task row holds only its id. The engine's AgentPort opens it.
 */
import { type BootstrapRole, checkJoinTokenResult } from '../../core/node-agent-protocol.ts';
import {
  ADMIN_KUBECONFIG_SECRET,
  checkBootstrapReport,
  JOIN_TOKEN_SECRET,
} from '../../core/node-agent-protocol.ts';
import type { Store } from '../../store/store.ts';

/** The secret's purpose in the secrets table. */
export const ADMIN_KUBECONFIG_PURPOSE = 'cluster.admin-kubeconfig';

export interface SealedBootstrap {
  /** What the task row stores: phases, node facts and the secret's id. */
  result: Record<string, unknown>;
  /** The kubeconfig as the agent sent it (base64) and decoded, so the caller can keep both out of anything it logs. */
  secrets?: string[];
  secretId?: string;
}

/** Throws the protocol's AgentError (naming the field, never the value) for a malformed result. */
export async function sealedResult(store: Store, v: unknown, role: unknown): Promise<SealedBootstrap> {
  const { adminKubeconfig, ...rest } = checkBootstrapReport(v, role as BootstrapRole);
  if (adminKubeconfig === undefined) return { result: rest };
  const secretId = await store.putSecret(ADMIN_KUBECONFIG_PURPOSE, adminKubeconfig);
  const wire = (v as { adminKubeconfig: string }).adminKubeconfig;
  return {
    result: { ...rest, [ADMIN_KUBECONFIG_SECRET]: secretId },
    secrets: [wire, adminKubeconfig],
    secretId,
  };
}

/** The secret's purpose of a scale's join token. */
export const JOIN_TOKEN_PURPOSE = 'cluster.join-token';

/** A join-token result: the token checked and sealed; the task row holds only the secret's id. */
export async function sealedJoinToken(store: Store, v: unknown): Promise<SealedBootstrap> {
  const { token } = checkJoinTokenResult(v);
  const secretId = await store.putSecret(JOIN_TOKEN_PURPOSE, token);
  return { result: { [JOIN_TOKEN_SECRET]: secretId }, secrets: [token], secretId };
}
