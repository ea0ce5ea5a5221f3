/**
 * Restore of a kubeadm cluster's etcd from a snapshot, the documented procedure, for stacked
 * etcd (the members are the control planes) and external etcd (the members are the dedicated
 * etcd nodes, kubeadm's `init phase etcd local` static pods; the control planes' API servers,
 * controller managers and schedulers — `others` below — are stopped and started around it):
 *
 * 1. on every member and control plane, move the static pod manifests out of the kubelet's
 *    static pod path, so the kubelet stops etcd, the API server, the controller manager and the
 *    scheduler, and wait until each member's etcd no longer answers;
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
 *
 * Each step is its own function (the durable restore of a deployed cluster records each as it
 * ends, src/engine/cluster/restore-run.ts) and may run again after a crash in it: the manifest
 * moves skip what is moved already, a member's restore starts from a removed new directory, and a
 * swap reads what is on the node — a member swapped already is left alone, one whose old
 * directory was moved but not the new one only gets the new one moved — so the kept
 * `<dir>.before-<id>` is never removed by a second run.
 */
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { RestoreMember } from '../../core/etcd-restore.ts';
import type { NodeShell } from './shell.ts';
import { etcdctl, type SnapshotRecord } from './snapshot.ts';

const MANIFESTS = '/etc/kubernetes/manifests';
const HELD = '/etc/kubernetes/manifests-ingot-restore';
const STATIC_PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** The etcd member a control plane runs, from its static pod manifest. */
export type EtcdMember = RestoreMember;

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
      `${node}: ${MANIFESTS}/etcd.yaml lacks --name, --initial-advertise-peer-urls or --data-dir: not a kubeadm etcd member (stacked, or external from kubeadm init phase etcd local)`,
    );
  // The directory goes into the node's shell commands: a plain path only.
  if (!/^\/[A-Za-z0-9._/-]+$/.test(dataDir))
    throw new IngotError(
      ErrorCode.Config,
      `${node}: ${MANIFESTS}/etcd.yaml has --data-dir=${dataDir}: not a plain absolute path`,
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

type Say = (line: string) => void;
const noSay: Say = () => {};

export const remoteSnapshot = (id: string) => `/var/lib/ingot-restore-${id}.db`;
export const freshDir = (m: EtcdMember, id: string) => `${m.dataDir}.restore-${id}`;
export const keptDir = (m: EtcdMember, id: string) => `${m.dataDir}.before-${id}`;

/**
 * The members of `nodes`, read from their etcd manifests — in the static pod path, or in the
 * held directory when a run before this one moved it there already.
 */
export async function readMembers(shell: NodeShell, nodes: readonly string[]): Promise<EtcdMember[]> {
  const members: EtcdMember[] = [];
  for (const node of nodes) {
    const manifest = await shell
      .readFile(node, `${MANIFESTS}/etcd.yaml`)
      .catch(() => shell.readFile(node, `${HELD}/etcd.yaml`));
    members.push(memberOfManifest(node, manifest.toString('utf8')));
  }
  return members;
}

/** Step 1: the snapshot on every member, its SHA-256 checked there (a mismatch changes nothing). */
export async function copySnapshot(
  shell: NodeShell,
  members: readonly EtcdMember[],
  snapshot: { record: SnapshotRecord; data: Buffer },
): Promise<void> {
  const { record, data } = snapshot;
  if (createHash('sha256').update(data).digest('hex') !== record.sha256)
    throw new IngotError(
      ErrorCode.Conflict,
      `snapshot ${record.id}: its bytes do not match its SHA-256; nothing was changed`,
    );
  const remote = remoteSnapshot(record.id);
  for (const m of members) {
    await shell.writeFile(m.node, remote, data);
    const sum = (await shell.exec(m.node, ['sha256sum', remote])).split(/\s/)[0];
    if (sum !== record.sha256)
      throw new IngotError(
        ErrorCode.Conflict,
        `restore: the copy of ${record.id} on ${m.node} has sha256 ${sum}, not ${record.sha256}; nothing was changed`,
      );
  }
}

/** Step 2: the static pod manifests moved away on every member; waits until each etcd is silent. */
export async function stopControlPlane(
  shell: NodeShell,
  members: readonly EtcdMember[],
  o: { say?: Say; silentWithinMs?: number; others?: readonly string[] } = {},
): Promise<void> {
  const nodes = staticPodNodes(members, o.others);
  (o.say ?? noSay)(`stopping the control plane's static pods on ${nodes.join(', ')}`);
  try {
    for (const node of nodes) {
      const moves = STATIC_PODS.map((p) => move(`${MANIFESTS}/${p}.yaml`, HELD));
      await shell.exec(node, ['sh', '-ec', [`mkdir -p ${HELD}`, ...moves].join('\n')]);
    }
    for (const m of members)
      await until(
        `etcd on ${m.node} still answers with its manifest moved away`,
        o.silentWithinMs ?? 180_000,
        async () => !(await answers(shell, m.node)),
      );
  } catch (e) {
    await putManifestsBack(shell, members, o.others);
    throw new IngotError(
      ErrorCode.StepFailed,
      `restore: stopping the control plane failed (${(e as Error).message.slice(0, 500)}); its manifests were put back, nothing was changed`,
      { cause: e, details: { rolledBack: true } },
    );
  }
}

/**
 * A manifest moved into `dir` unless it is gone already — or went meanwhile: a command of a
 * region that died may still run on the node beside the one of the region that took over.
 */
const move = (file: string, dir: string) =>
  `if [ -f ${file} ]; then mv ${file} ${dir}/ || [ ! -f ${file} ]; fi`;

/** The nodes whose static pods a restore stops and starts: the members, then the others. */
const staticPodNodes = (members: readonly EtcdMember[], others: readonly string[] = []): string[] => [
  ...new Set([...members.map((m) => m.node), ...others]),
];

/** Puts the held manifests back on every member and other node (those back already are left). */
export function putManifestsBack(
  shell: NodeShell,
  members: readonly EtcdMember[],
  others: readonly string[] = [],
): Promise<unknown> {
  return Promise.all(
    staticPodNodes(members, others).map((node) =>
      shell.exec(node, [
        'sh',
        '-ec',
        STATIC_PODS.map((p) => move(`${HELD}/${p}.yaml`, MANIFESTS)).join('\n'),
      ]),
    ),
  );
}

/**
 * Step 3: every member's new data directory (from a removed one: a second run starts over).
 * A failure removes the new directories and the copies and starts the control plane again on
 * its old data: the error (`INGOT_STEP_FAILED`, details `rolledBack: true`) says so. Never run
 * once a swap may have happened.
 */
export async function restoreMembers(
  shell: NodeShell,
  members: readonly EtcdMember[],
  id: string,
  o: { say?: Say; others?: readonly string[] } = {},
): Promise<void> {
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const remote = remoteSnapshot(id);
  try {
    for (const m of members) {
      (o.say ?? noSay)(`restoring ${id} on ${m.node} as member ${m.name} (${m.peerUrl})`);
      await shell.exec(m.node, ['rm', '-rf', freshDir(m, id)]);
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
        `--initial-cluster-token=ingot-${id}`,
        `--data-dir=${freshDir(m, id)}`,
      ]);
    }
  } catch (e) {
    for (const m of members) await shell.exec(m.node, ['rm', '-rf', freshDir(m, id), remote]).catch(() => {});
    await putManifestsBack(shell, members, o.others);
    throw new IngotError(
      ErrorCode.StepFailed,
      `restore of ${id} failed before any data was swapped (${(e as Error).message.slice(0, 500)}); the control plane was started again on its old data`,
      { cause: e, details: { rolledBack: true } },
    );
  }
}

/**
 * Step 4: each member's data directory swapped with its new one, the old kept as
 * `<dir>.before-<id>`. What is on the node decides: the new directory there → swap (only the
 * second move when the first was done already); gone with the data and kept directories there →
 * swapped already, left alone. A failure swaps back every member swapped (by what is on it) and
 * starts the control plane again on its old data (details `rolledBack: true`).
 */
export async function swapDataDirs(
  shell: NodeShell,
  members: readonly EtcdMember[],
  id: string,
  o: { others?: readonly string[] } = {},
): Promise<string[]> {
  const remote = remoteSnapshot(id);
  try {
    for (const m of members) {
      const [data, fresh, kept] = [m.dataDir, freshDir(m, id), keptDir(m, id)];
      await shell.exec(m.node, [
        'sh',
        '-ec',
        [
          `if [ -d ${fresh} ]; then`,
          `  if [ -d ${data} ]; then rm -rf ${kept}; mv ${data} ${kept}; fi`,
          `  mv ${fresh} ${data}`,
          `elif [ ! -d ${data} ] || [ ! -d ${kept} ]; then`,
          `  echo "neither ${fresh} to swap in nor ${data} with ${kept} swapped already" >&2; exit 1`,
          'fi',
          `rm -f ${remote}`,
        ].join('\n'),
      ]);
    }
  } catch (e) {
    for (const m of members) await swapBack(shell, m, id).catch(() => {});
    await putManifestsBack(shell, members, o.others);
    throw new IngotError(
      ErrorCode.StepFailed,
      `restore of ${id}: swapping the data directories failed (${(e as Error).message.slice(0, 500)}); the old data was put back and the control plane started again`,
      { cause: e, details: { rolledBack: true } },
    );
  }
  return members.map((m) => `${m.node}:${keptDir(m, id)}`);
}

/** A member's old data put back: swapped → the kept directory back; half swapped → moved back. */
function swapBack(shell: NodeShell, m: EtcdMember, id: string): Promise<string> {
  const [data, fresh, kept] = [m.dataDir, freshDir(m, id), keptDir(m, id)];
  return shell.exec(m.node, [
    'sh',
    '-ec',
    [
      `if [ -d ${fresh} ]; then`,
      `  if [ ! -d ${data} ] && [ -d ${kept} ]; then mv ${kept} ${data}; fi`,
      `  rm -rf ${fresh}`,
      `elif [ -d ${kept} ]; then rm -rf ${data}; mv ${kept} ${data}; fi`,
    ].join('\n'),
  ]);
}

/** Step 5: the manifests back, the kubelet starts etcd on the restored data; waits until each answers. */
export async function startControlPlane(
  shell: NodeShell,
  members: readonly EtcdMember[],
  o: { say?: Say; answerWithinMs?: number; others?: readonly string[] } = {},
): Promise<void> {
  (o.say ?? noSay)('starting the control plane again');
  await putManifestsBack(shell, members, o.others);
  for (const m of members)
    await until(`etcd on ${m.node} did not answer again`, o.answerWithinMs ?? 300_000, () =>
      answers(shell, m.node),
    );
}

/**
 * Restores the snapshot on every etcd member of the cluster, all steps in one go (the test bed's
 * drill): `controlPlanes` run the API servers; `etcdNodes` run the members (default: the control
 * planes, stacked etcd). Resolves when each member answers again; the caller then waits for the API.
 */
export async function restoreSnapshot(
  shell: NodeShell,
  o: {
    controlPlanes: readonly string[];
    etcdNodes?: readonly string[];
    snapshot: { record: SnapshotRecord; data: Buffer };
    say?: (line: string) => void;
  },
): Promise<{ members: EtcdMember[]; keptDataDirs: string[] }> {
  const { record } = o.snapshot;
  if (createHash('sha256').update(o.snapshot.data).digest('hex') !== record.sha256)
    throw new IngotError(
      ErrorCode.Conflict,
      `snapshot ${record.id}: its bytes do not match its SHA-256; nothing was changed`,
    );
  const members = await readMembers(shell, o.etcdNodes ?? o.controlPlanes);
  const others = o.controlPlanes;
  await copySnapshot(shell, members, o.snapshot);
  await stopControlPlane(shell, members, { say: o.say, others });
  await restoreMembers(shell, members, record.id, { say: o.say, others });
  const keptDataDirs = await swapDataDirs(shell, members, record.id, { others });
  await startControlPlane(shell, members, { say: o.say, others });
  return { members, keptDataDirs };
}
