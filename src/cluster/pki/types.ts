/** One certificate's validity, tracked so a later rotation job knows what expires when. */
export interface CertExpiry {
  /** File name relative to the PKI directory: `ca.crt`, `etcd/ca.crt`. */
  readonly file: string;
  readonly subject: string;
  readonly isCA: boolean;
  readonly notBefore: string;
  readonly notAfter: string;
}

/** Random secrets the cluster needs besides certificates. */
export interface ClusterTokens {
  /** kubeadm bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}`. */
  readonly bootstrapToken: string;
  /** k3s / RKE2 server token. */
  readonly clusterToken: string;
  /** 32 random bytes, base64: the secretbox key for encryption at rest. */
  readonly encryptionKey: string;
}

/**
 * All PKI material of one cluster. `files` maps a path relative to the PKI directory to PEM
 * text; names follow kubeadm's /etc/kubernetes/pki layout. Keys are secrets: a region keeps
 * them in its encrypted store, the offline CLI in `<out>/pki/` with mode 0600.
 */
export interface PkiMaterial {
  readonly files: Readonly<Record<string, string>>;
  readonly tokens: ClusterTokens;
  readonly expiry: readonly CertExpiry[];
}

/** Certificates Ingot generates, with their key file next to each (`.crt` → `.key`). */
export const PKI_FILES = {
  ca: 'ca.crt',
  frontProxyCa: 'front-proxy-ca.crt',
  etcdCa: 'etcd/ca.crt',
  apiserverEtcdClient: 'apiserver-etcd-client.crt',
  admin: 'admin.crt',
  saKey: 'sa.key',
  saPub: 'sa.pub',
} as const;

export function keyFileOf(crt: string): string {
  return crt.replace(/\.crt$/, '.key');
}
