/**
 * The test bed for tests (src/lab/testbed, docs/kubernetes.md): bring a bed up and down with
 * the checks that nothing is left, name it for this run, reap beds a killed run left behind,
 * and run a workload on it. Shared by every suite that runs real Kubernetes on the bed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { alive } from '../../src/host/process.ts';
import { type ApiAccess, apiAccess } from '../../src/lab/testbed/api.ts';
import { type BedState, bedBundle, down, up } from '../../src/lab/testbed/bed.ts';
import type { BedBmc } from '../../src/lab/testbed/power.ts';
import { inNode } from '../../src/lab/testbed/node.ts';
import { hostSysctls, KUBELET_SYSCTLS, type saveSysctls } from '../../src/lab/testbed/sysctls.ts';
import { listNamespaces } from '../../src/lab/netns.ts';
import type { TestRegion } from './region.ts';
import { createHttpd, IMAGE } from './workloads.ts';

/** What a bed needs on this host (for skipUnless). */
export const BED_NEEDS = {
  root: true,
  programs: ['containerd', 'runc', 'ctr', 'haproxy', 'umoci', 'skopeo', 'nsenter', 'curl'],
  files: {
    'the Kubernetes 1.20.2 bundle (node scripts/kubernetes-bundle.ts)': join(bedBundle(), 'ingot-build.json'),
    'busybox-static': '/bin/busybox',
  },
};

/**
 * A bed name for this run: PREFIX (1-3 letters) + this process's pid in base 36, so suites in
 * concurrent runs on one host never share a bed, and a bed left by a killed run can be told
 * from a live one (see reapStaleBeds).
 */
export function bedName(prefix: string): string {
  if (!/^[a-z]{1,3}$/.test(prefix)) throw new Error(`bed name prefix ${prefix}: 1-3 lower-case letters`);
  return `${prefix}${process.pid.toString(36)}`;
}

/**
 * Takes down beds named PREFIX<pid> whose run is gone (killed mid-suite, so its after() never
 * ran): their namespaces, node processes and cgroups. Live runs' beds are left alone.
 */
export async function reapStaleBeds(prefix: string): Promise<string[]> {
  const names = new Set<string>();
  for (const ns of await listNamespaces()) {
    const m = /^itb-([a-z0-9]+)-/.exec(ns);
    if (!m?.[1]?.startsWith(prefix)) continue;
    const pid = Number.parseInt(m[1].slice(prefix.length), 36);
    if (!Number.isSafeInteger(pid) || pid <= 0 || !alive(pid)) names.add(m[1]);
  }
  const reaped: string[] = [];
  for (const name of names) {
    await down({ name, root: join(tmpdir(), 'ingot-testbed-stale') });
    reaped.push(name);
  }
  return reaped;
}

/** Polls `fn` every second until it returns true; throws naming `what` after `ms`. */
export async function waitFor(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(1000);
  }
}

/**
 * The longest time the API did not answer in a series of polls (from the first failed poll to
 * the next answered one), in ms; a silence still going at the end counts to the last poll.
 */
export function longestSilence(polls: readonly { at: number; ok: boolean }[]): number {
  let gap = 0;
  let down: number | null = null;
  for (const p of polls) {
    if (!p.ok) down ??= p.at;
    else if (down !== null) {
      gap = Math.max(gap, p.at - down);
      down = null;
    }
  }
  return down === null ? gap : Math.max(gap, (polls.at(-1)?.at ?? down) - down);
}

/** Calls `fn` until it resolves, for up to a minute; then throws its last error. */
export async function eventually<T>(fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(1000);
    }
  }
}

/** Brings a bed up in ROOT for one suite, with its API reached from the host and clients for it. */
export async function startBed(
  name: string,
  topology: '1+1' | 'ha',
  root: string,
): Promise<{ bed: BedState; api: ApiAccess; core: CoreV1Api; apps: AppsV1Api }> {
  const t = Date.now();
  const bed = await up({ name, topology, root, say: (l) => process.stderr.write(`testbed: ${l}\n`) });
  process.stderr.write(
    `testbed ${topology} up in ${((Date.now() - t) / 1000).toFixed(1)} s: ${JSON.stringify(bed.timings)}\n`,
  );
  const api = await apiAccess(bed, root);
  const kc = bedKubeConfig(api);
  return { bed, api, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

/** A client configuration for the bed's API from the host (its admin credentials). */
export function bedKubeConfig(api: ApiAccess): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'tb', server: api.server, caData: api.caData }],
    users: [{ name: 'admin', certData: api.certData, keyData: api.keyData }],
    contexts: [{ name: 'tb', cluster: 'tb', user: 'admin' }],
    currentContext: 'tb',
  });
  return kc;
}

/** Makes the busybox httpd image and imports it into the containerd of the nodes `on`. */
export async function importHttpd(bed: BedState, on: readonly string[]): Promise<void> {
  await importImage(bed, on, httpdImage);
}

/** Makes an image archive in a temporary directory and imports it into the nodes `on`. */
async function importImage(
  bed: BedState,
  on: readonly string[],
  make: (dir: string) => string,
): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ingot-image-'));
  try {
    const tar = make(work);
    for (const n of bed.nodes.filter((x) => on.includes(x.name)))
      await inNode(n.pid, 'ctr', [
        '--address',
        '/run/containerd/containerd.sock',
        '-n',
        'k8s.io',
        'images',
        'import',
        tar,
      ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A stand-in for CoreDNS under kubeadm's image name `tag` (the bundle has no CoreDNS: Debian
 * packages none), imported into the nodes `on`: a busybox image whose `/coredns` ignores its
 * arguments and answers the probes kubeadm's CoreDNS Deployment has (`/ready` on 8181,
 * `/health` on 8080), from files in the image (the pod's root filesystem is read-only). It
 * resolves nothing: it lets a kubeadm-deployed CoreDNS be Ready where kubeadm waits for it.
 */
export async function importCoreDnsStandIn(bed: BedState, on: readonly string[], tag: string): Promise<void> {
  await importImage(bed, on, (dir) =>
    busyboxImage(
      dir,
      tag,
      (rootfs) => {
        mkdirSync(join(rootfs, 'www'));
        writeFileSync(join(rootfs, 'www', 'ready'), 'OK\n');
        writeFileSync(join(rootfs, 'www', 'health'), 'OK\n');
        writeFileSync(
          join(rootfs, 'coredns'),
          '#!/bin/sh\n/bin/busybox httpd -p 8181 -h /www\nexec /bin/busybox httpd -f -p 8080 -h /www\n',
          { mode: 0o755 },
        );
      },
      ['/coredns'],
    ),
  );
}

/** Enrols every node of the bed in the region as a machine behind the bed's BMC; node → machine id. */
export async function enrolBed(
  region: Pick<TestRegion, 'api'>,
  bmc: BedBmc,
  creds: { username: string; password: string },
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const m of bmc.machines) {
    const res = await region.api<{ id: string }>('POST', '/api/v1/machines', {
      hostname: m.node,
      bmc: { address: m.address, ...creds },
      nics: [{ mac: m.mac }],
    });
    assert.equal(res.status, 201);
    ids.set(m.node, res.body.id);
  }
  return ids;
}

/**
 * Takes a suite's bed down and checks nothing is left: no namespace, no cgroup, the kubelet's
 * host sysctls as they were. A bed that did not come up leaves its nodes' logs
 * (<root>/<name>-logs) for a look.
 */
export async function stopBed(
  name: string,
  root: string,
  bed: BedState | undefined,
  api: ApiAccess | undefined,
  sysctlsBefore: ReturnType<typeof saveSysctls>,
): Promise<void> {
  await api?.close();
  if (!root) return;
  await down({ name, root });
  assert.deepEqual(
    (await listNamespaces()).filter((n) => n.startsWith(`itb-${name}-`)),
    [],
  );
  assert.equal(existsSync(`/sys/fs/cgroup/pids/itb-${name}-node1`), false);
  // Restored by the last bed down: while another bed holds them they are its kubelets'.
  const host = hostSysctls();
  if (host.holders.length === 0)
    assert.deepEqual(host.values, sysctlsBefore, `sysctls ${KUBELET_SYSCTLS.join(', ')} restored`);
  if (bed) rmSync(root, { recursive: true, force: true });
}

/** A one-layer image with busybox's httpd (umoci + skopeo), as a docker archive. */
export function httpdImage(dir: string): string {
  return busyboxImage(dir, IMAGE);
}

/**
 * A one-layer image of static busybox (`/bin/busybox`, `/bin/sh`) plus what `add` puts in its
 * root filesystem, named `tag`, as a docker archive (umoci + skopeo).
 */
function busyboxImage(
  dir: string,
  tag: string,
  add: (rootfs: string) => void = () => {},
  entrypoint: readonly string[] = [],
): string {
  const layout = join(dir, 'layout');
  const bundle = join(dir, 'bundle');
  const run = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:t`]);
  run('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  symlinkSync('busybox', join(rootfs, 'bin', 'sh'));
  add(rootfs);
  run('umoci', ['repack', '--image', `${layout}:t`, bundle]);
  run('umoci', [
    'config',
    '--image',
    `${layout}:t`,
    '--architecture',
    'amd64',
    '--os',
    'linux',
    ...entrypoint.flatMap((e) => ['--config.entrypoint', e]),
  ]);
  const out = join(dir, 'image.tar');
  run('skopeo', ['copy', '--quiet', `oci:${layout}:t`, `docker-archive:${out}:${tag}`]);
  return out;
}

/**
 * Runs a Deployment with one busybox httpd pod on each of the nodes `on` (node affinity + pod
 * anti-affinity) and a ClusterIP Service in front; checks one pod Ready on each node. Returns
 * the Service's IP and the pods' names.
 */
export async function spread(
  bed: BedState,
  core: CoreV1Api,
  apps: AppsV1Api,
  on: readonly string[],
): Promise<{ clusterIp: string; pods: string[] }> {
  await importHttpd(bed, on);
  const labels = { app: 'echo' };
  await createHttpd(apps, {
    name: 'echo',
    replicas: 2,
    labels,
    onControlPlanes: true,
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [...on] }] },
          ],
        },
      },
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
        ],
      },
    },
  });
  const svc = await core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name: 'echo' },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    },
  });
  const clusterIp = svc.spec?.clusterIP;
  assert.ok(clusterIp, 'the Service has a cluster IP');

  let pods: { name: string; node: string }[] = [];
  for (let i = 0; i < 120; i++) {
    const list = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=echo' })).items;
    pods = list
      .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((p) => ({ name: p.metadata!.name!, node: p.spec!.nodeName! }));
    if (pods.length === on.length) break;
    await sleep(1000);
  }
  assert.equal(pods.length, on.length, 'every replica Ready');
  assert.deepEqual(pods.map((p) => p.node).sort(), [...on].sort(), 'one pod on each node');

  return { clusterIp, pods: pods.map((p) => p.name) };
}

/** From a worker's network namespace, where the Service IP exists only as kube-proxy's rules, every pod answers through it. */
export async function serve(bed: BedState, s: { clusterIp: string; pods: string[] }): Promise<void> {
  const { clusterIp } = s;
  const worker = bed.nodes.find((n) => n.role === 'worker')!;
  const seen = new Set<string>();
  // kube-proxy's rules follow the endpoints a moment after the pods are Ready: keep asking.
  const end = Date.now() + 90_000;
  while (seen.size < s.pods.length && Date.now() < end) {
    const body = await inNode(worker.pid, 'curl', ['-sS', '--max-time', '3', `http://${clusterIp}/`]).catch(
      () => '',
    );
    if (body.trim()) seen.add(body.trim());
    await sleep(200);
  }
  assert.deepEqual([...seen].sort(), [...s.pods].sort(), 'every pod answers through the Service');
}
