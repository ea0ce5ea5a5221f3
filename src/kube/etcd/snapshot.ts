/**
 * etcd snapshots of a kubeadm cluster with stacked etcd: taken on a control plane with
 * etcdctl (v3 API, kubeadm's etcd CA and health-check client certificate) against its local
 * member, checked there (`etcdctl snapshot status`), copied off the node, checksummed and kept
 * in the region's artifact store: `<artifacts>/etcd-snapshots/<cluster>/<id>.db` with a
 * `<id>.json` beside it (checksum, size, revision, keys, node, time).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkArtifactName } from '../../core/artifacts.ts';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import type { NodeShell } from './shell.ts';

export const ETCD_PKI = '/etc/kubernetes/pki/etcd';

/** etcdctl against the node's own member with kubeadm's health-check client certificate. */
export function etcdctl(...args: string[]): string[] {
  return [
    'env',
    'ETCDCTL_API=3',
    'etcdctl',
    '--endpoints=https://127.0.0.1:2379',
    `--cacert=${ETCD_PKI}/ca.crt`,
    `--cert=${ETCD_PKI}/healthcheck-client.crt`,
    `--key=${ETCD_PKI}/healthcheck-client.key`,
    '--command-timeout=60s',
    ...args,
  ];
}

export interface SnapshotRecord {
  readonly id: string;
  readonly cluster: string;
  readonly node: string;
  readonly takenAt: string;
  readonly sha256: string;
  readonly bytes: number;
  /** etcd's own view of the file: its revision, key count and hash. */
  readonly revision: number;
  readonly totalKeys: number;
  readonly hash: number;
}

/** Where a cluster's snapshots live in the artifact store. */
export function snapshotDir(artifacts: string, cluster: string): string {
  return join(artifacts, 'etcd-snapshots', checkArtifactName(cluster, 'cluster', 'a cluster name'));
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Snapshots of a cluster, newest first. */
export function listSnapshots(artifacts: string, cluster: string): SnapshotRecord[] {
  const dir = snapshotDir(artifacts, cluster);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SnapshotRecord)
    .sort((a, b) => b.takenAt.localeCompare(a.takenAt) || b.id.localeCompare(a.id));
}

/**
 * Keeps the newest `retention` snapshots of a cluster (the Cluster file's
 * `spec.backups.etcd.retention`) and removes the others, record first so a half-removed
 * snapshot is never listed. Returns the ids removed.
 */
export function pruneSnapshots(artifacts: string, cluster: string, retention: number): string[] {
  if (!Number.isInteger(retention) || retention < 1)
    throw invalid(
      'spec.backups.etcd.retention',
      `${retention} is not a number of snapshots to keep (1 or more)`,
    );
  const dir = snapshotDir(artifacts, cluster);
  const gone = listSnapshots(artifacts, cluster).slice(retention);
  for (const r of gone) {
    rmSync(join(dir, `${r.id}.json`), { force: true });
    rmSync(join(dir, `${r.id}.db`), { force: true });
  }
  return gone.map((r) => r.id);
}

/** A stored snapshot's bytes, checked against its recorded SHA-256. */
export function readSnapshot(
  artifacts: string,
  cluster: string,
  id: string,
): { record: SnapshotRecord; data: Buffer } {
  const dir = snapshotDir(artifacts, cluster);
  checkArtifactName(id, 'snapshot', 'a snapshot id');
  const meta = join(dir, `${id}.json`);
  if (!existsSync(meta))
    throw new IngotError(
      ErrorCode.NotFound,
      `snapshot ${id} of cluster ${cluster} not found: \`ingot cluster backup ls ${cluster}\` lists them`,
    );
  const record = JSON.parse(readFileSync(meta, 'utf8')) as SnapshotRecord;
  const data = readFileSync(join(dir, `${id}.db`));
  if (sha256(data) !== record.sha256 || data.length !== record.bytes)
    throw new IngotError(
      ErrorCode.Conflict,
      `snapshot ${id} of cluster ${cluster} does not match its checksum (sha256 ${sha256(data)}, recorded ${record.sha256}): the file is damaged; restore another one`,
      { details: { id, cluster } },
    );
  return { record, data };
}

/**
 * Takes a snapshot on `node` (a control plane), checks it with `etcdctl snapshot status`,
 * copies it into the artifact store and removes the node's copy. Returns its record.
 */
export async function takeSnapshot(
  shell: NodeShell,
  o: { artifacts: string; cluster: string; node: string; now?: Date },
): Promise<SnapshotRecord> {
  const at = o.now ?? new Date();
  const id = `etcd-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'z')
    .toLowerCase()}`;
  const remote = `/var/lib/ingot-${id}.db`;
  try {
    await shell.exec(o.node, etcdctl('snapshot', 'save', remote));
    const status = JSON.parse(
      await shell.exec(o.node, [
        'env',
        'ETCDCTL_API=3',
        'etcdctl',
        'snapshot',
        'status',
        remote,
        '--write-out=json',
      ]),
    ) as { hash: number; revision: number; totalKey: number };
    const data = await shell.readFile(o.node, remote);
    const record: SnapshotRecord = {
      id,
      cluster: o.cluster,
      node: o.node,
      takenAt: at.toISOString(),
      sha256: sha256(data),
      bytes: data.length,
      revision: status.revision,
      totalKeys: status.totalKey,
      hash: status.hash,
    };
    const dir = snapshotDir(o.artifacts, o.cluster);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The data first, the record last (renamed into place): a record always has its file.
    writeFileSync(join(dir, `${id}.db`), data, { mode: 0o600 });
    writeFileSync(join(dir, `${id}.json.tmp`), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    renameSync(join(dir, `${id}.json.tmp`), join(dir, `${id}.json`));
    return record;
  } finally {
    await shell.exec(o.node, ['rm', '-f', remote]).catch(() => {});
  }
}
