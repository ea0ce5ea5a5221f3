/**
 * Restore of a kubeadm cluster with stacked etcd from a snapshot, the documented procedure:
 *
 * 1. on every control plane, move the static pod manifests out of the kubelet's static pod
 *    path, so the kubelet stops etcd, the API server, the controller manager and the
 *    scheduler, and wait until the local etcd no longer answers;
 * 2. copy the snapshot to each control plane, check its SHA-256 there, and
 *    `etcdctl snapshot restore` it into a new data directory with the member's name and peer
 *    URL from its etcd manifest and the whole control-plane set as the initial cluster (a new
 *    cluster token, so no member of the old cluster can talk to the new one);
 * 3. once every member's new directory is there, swap the data directories (the old one is kept
 *    beside it as `<dir>.before-<id>`);
 * 4. put the manifests back: the kubelet starts etcd from the restored data, then the rest.
 *
 * A step 2 that fails on any member removes the new directories and starts the control plane
 * again on its old data; a swap that fails swaps back those done. Either way the error says so.
 *
 * Everything the API stored after the snapshot is gone afterwards; that is what a restore is.
 */
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { NodeShell } from './shell.ts';
import { etcdctl, type SnapshotRecord } from './snapshot.ts';

const MANIFESTS = '/etc/kubernetes/manifests';
const HELD = '/etc/kubernetes/manifests-ingot-restore';
const STATIC_PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** The etcd member a control plane runs, from its static pod manifest. */
export interface EtcdMember {
  readonly node: string;
  readonly name: string;
  readonly peerUrl: string;
  readonly dataDir: string;
}

/** Reads `--name`, `--initial-advertise-peer-urls` and `--data-dir` from kubeadm's etcd manifest. */
export function memberOfManifest(node: string, manifest: string): EtcdMember {
  const pod = parse(manifest) as { spec?: { containers?: { command?: string[] }[] } };
  const cmd = pod.spec?.containers?.[0]?.command ?? [];
  const flag = (f: string) => cmd.find((c) => c.startsWith(`--${f}=`))?.slice(f.length + 3);
  const name = flag('name');
  const peerUrl = flag('initial-advertise-peer-urls');
  const dataDir = flag('data-dir');
  if (!name || !peerUrl || !dataDir)
    throw new IngotError(
      ErrorCode.Config,
      `${node}: ${MANIFESTS}/etcd.yaml lacks --name, --initial-advertise-peer-urls or --data-dir: not a kubeadm stacked etcd member`,
    );
  return { node, name, peerUrl, dataDir };
}

async function until(what: string, ms: number, fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new IngotError(ErrorCode.Timeout, `restore: ${what} after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const answers = (shell: NodeShell, node: string) =>
  shell.exec(node, etcdctl('endpoint', 'health', '--command-timeout=2s')).then(
    () => true,
    () => false,
  );

/**
 * Restores the snapshot on every control plane of the cluster (`controlPlanes`: every node
 * running a stacked etcd member). Resolves when each local etcd answers again; the caller then
 * waits for the API.
 */
export async function restoreSnapshot(
  shell: NodeShell,
  o: {
    controlPlanes: readonly string[];
    snapshot: { record: SnapshotRecord; data: Buffer };
    say?: (line: string) => void;
  },
): Promise<{ members: EtcdMember[]; keptDataDirs: string[] }> {
  const say = o.say ?? (() => {});
  const { record, data } = o.snapshot;
  if (createHash('sha256').update(data).digest('hex') !== record.sha256)
    throw new IngotError(
      ErrorCode.Conflict,
      `snapshot ${record.id}: its bytes do not match its SHA-256; nothing was changed`,
    );
  const members: EtcdMember[] = [];
  for (const node of o.controlPlanes)
    members.push(
      memberOfManifest(node, (await shell.readFile(node, `${MANIFESTS}/etcd.yaml`)).toString('utf8')),
    );
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const remote = `/var/lib/ingot-restore-${record.id}.db`;

  for (const m of members) {
    await shell.writeFile(m.node, remote, data);
    const sum = (await shell.exec(m.node, ['sha256sum', remote])).split(/\s/)[0];
    if (sum !== record.sha256)
      throw new IngotError(
        ErrorCode.Conflict,
        `restore: the copy of ${record.id} on ${m.node} has sha256 ${sum}, not ${record.sha256}; nothing was changed`,
      );
  }
  say(`stopping the control plane's static pods on ${o.controlPlanes.join(', ')}`);
  for (const m of members) {
    const moves = STATIC_PODS.map(
      (p) => `[ ! -f ${MANIFESTS}/${p}.yaml ] || mv ${MANIFESTS}/${p}.yaml ${HELD}/`,
    );
    await shell.exec(m.node, ['sh', '-ec', [`mkdir -p ${HELD}`, ...moves].join('\n')]);
  }
  for (const m of members)
    await until(
      `etcd on ${m.node} still answers with its manifest moved away`,
      180_000,
      async () => !(await answers(shell, m.node)),
    );

  const fresh = (m: EtcdMember) => `${m.dataDir}.restore-${record.id}`;
  const kept = (m: EtcdMember) => `${m.dataDir}.before-${record.id}`;
  const startAgain = () =>
    Promise.all(
      members.map((m) =>
        shell.exec(m.node, [
          'sh',
          '-ec',
          STATIC_PODS.map((p) => `[ ! -f ${HELD}/${p}.yaml ] || mv ${HELD}/${p}.yaml ${MANIFESTS}/`).join(
            '\n',
          ),
        ]),
      ),
    );
  // Every member's new data directory first: a restore that fails leaves the old data in
  // place, and the control plane is started again on it.
  try {
    for (const m of members) {
      say(`restoring ${record.id} on ${m.node} as member ${m.name} (${m.peerUrl})`);
      await shell.exec(m.node, ['rm', '-rf', fresh(m)]);
      await shell.exec(m.node, [
        'env',
        'ETCDCTL_API=3',
        'etcdctl',
        'snapshot',
        'restore',
        remote,
        `--name=${m.name}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-advertise-peer-urls=${m.peerUrl}`,
        `--initial-cluster-token=ingot-${record.id}`,
        `--data-dir=${fresh(m)}`,
      ]);
    }
  } catch (e) {
    for (const m of members) await shell.exec(m.node, ['rm', '-rf', fresh(m), remote]).catch(() => {});
    await startAgain();
    throw new IngotError(
      ErrorCode.StepFailed,
      `restore of ${record.id} failed before any data was swapped (${(e as Error).message.slice(0, 500)}); the control plane was started again on its old data`,
      { cause: e },
    );
  }
  // Then the swaps; one that fails puts back those already done.
  const swapped: EtcdMember[] = [];
  try {
    for (const m of members) {
      await shell.exec(m.node, [
        'sh',
        '-ec',
        `rm -rf ${kept(m)}\nmv ${m.dataDir} ${kept(m)}\nmv ${fresh(m)} ${m.dataDir}\nrm -f ${remote}`,
      ]);
      swapped.push(m);
    }
  } catch (e) {
    for (const m of swapped)
      await shell
        .exec(m.node, ['sh', '-ec', `rm -rf ${m.dataDir}\nmv ${kept(m)} ${m.dataDir}`])
        .catch(() => {});
    await startAgain();
    throw new IngotError(
      ErrorCode.StepFailed,
      `restore of ${record.id}: swapping the data directories failed (${(e as Error).message.slice(0, 500)}); the old data was put back and the control plane started again`,
      { cause: e },
    );
  }
  const keptDataDirs = members.map((m) => `${m.node}:${kept(m)}`);
  say('starting the control plane again');
  await startAgain();
  for (const m of members)
    await until(`etcd on ${m.node} did not answer again`, 300_000, () => answers(shell, m.node));
  return { members, keptDataDirs };
}
