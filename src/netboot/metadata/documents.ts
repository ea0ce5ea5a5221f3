/**
 * What a machine's metadata says: NoCloud `meta-data` (YAML), `user-data`, `vendor-data`, and the
 * EC2-style key tree. The documents come from a MetadataSource; the default one knows only the
 * machine itself (the deploy issue plugs in rendered cloud-init).
 */
import type { Machine } from '../../core/machine.ts';

export interface MetadataSource {
  /** cloud-init user-data (`#cloud-config …`); null serves an empty `#cloud-config`. */
  userData(machine: Machine): Promise<string | null>;
  /** cloud-init vendor-data; null serves an empty body. */
  vendorData(machine: Machine): Promise<string | null>;
  /** SSH public keys for the OS's default user (meta-data `public-keys`). */
  publicKeys?(machine: Machine): Promise<readonly string[]>;
}

export const defaultMetadataSource: MetadataSource = {
  userData: async () => null,
  vendorData: async () => null,
};

/** A YAML 1.1-safe scalar: always double-quoted JSON string syntax. */
const q = (s: string): string => JSON.stringify(s);

export function nocloudMetaData(m: Machine, publicKeys: readonly string[] = []): string {
  return [
    `instance-id: ${q(m.id)}`,
    `local-hostname: ${q(m.hostname)}`,
    `availability-zone: ${q(m.zone)}`,
    ...(publicKeys.length ? ['public-keys:', ...publicKeys.map((k) => `  - ${q(k)}`)] : []),
    '',
  ].join('\n');
}

/** EC2-style keys (`/latest/meta-data/<key>`); a key ending in `/` lists its children. */
export function ec2Tree(m: Machine, ip: string, publicKeys: readonly string[] = []): Record<string, string> {
  const mac = m.nics.find((n) => n.boot)?.mac ?? m.nics[0]?.mac ?? '';
  const keys: Record<string, string> = {};
  publicKeys.forEach((k, i) => {
    keys[`public-keys/${i}/openssh-key`] = k;
  });
  return {
    ...keys,
    'instance-id': m.id,
    hostname: m.hostname,
    'local-hostname': m.hostname,
    'local-ipv4': ip,
    mac,
    'placement/availability-zone': m.zone,
    'placement/rack': m.rack,
  };
}

/** The body for `key` ('' = the root listing), or null if there is no such key. */
export function ec2Lookup(tree: Record<string, string>, key: string): string | null {
  const k = key.replace(/^\/+/, '');
  if (k in tree) return tree[k];
  const dir = k === '' || k.endsWith('/') ? k : `${k}/`;
  const children = new Set<string>();
  for (const full of Object.keys(tree)) {
    if (!full.startsWith(dir)) continue;
    const rest = full.slice(dir.length);
    const slash = rest.indexOf('/');
    children.add(slash < 0 ? rest : rest.slice(0, slash + 1));
  }
  return children.size ? `${[...children].sort().join('\n')}\n` : null;
}
