/**
 * The multi-node test bed (docs/kubernetes.md): real Kubernetes 1.20.2 from the bundle
 * `scripts/kubernetes-bundle.ts` builds, running natively, one namespace set per node
 * (node.ts) on a private bridge in the bed's hub namespace, which also runs the API's load
 * balancer (Debian's haproxy, Ingot's rendered config) on 10.78.0.100. The first control plane
 * runs `kubeadm init` with Ingot's rendered config, the others join; nodes go Ready on Debian's
 * CNI bridge plugin with static routes between the nodes' pod subnets.
 *
 * `down` works from names alone (namespaces `itb-<bed>-*`, cgroups of the same names) as well
 * as from the state file, so a bed whose `up` died half-way is still cleaned up.
 */
import { execFile, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  openSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { kubernetesCacheDir } from '../../bundles/build/build.ts';
import { bundleDirName, KUBERNETES_1_20 } from '../../bundles/build/recipe.ts';
import { writePkiDir } from '../../cluster/pki/dir.ts';
import { run, stopPid } from '../../host/process.ts';
import { listNamespaces } from '../netns.ts';
import { restartApiServer } from './apiserver.ts';
import { bundleImages, importImages } from './images.ts';
import { hierarchies, inNode, killNode, type NodePlan, startNode, waitContainerd } from './node.ts';
import { renderBed } from './render.ts';
import { holdSysctls, releaseSysctls, type SysctlHost } from './sysctls.ts';
import { type BedLayout, bedLayout, nodeNs, nodePodCidr } from './topology.ts';

const execFileP = promisify(execFile);

export const DEFAULT_ROOT = '/tmp/ingot-testbed';

export interface BedNode {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  readonly role: 'control-plane' | 'worker';
  readonly pid: number;
}

export interface BedState {
  readonly name: string;
  readonly topology: string;
  readonly hubNs: string;
  readonly endpoint: string;
  readonly bundle: string;
  sysctls: Record<string, string>;
  haproxyPid: number | null;
  nodes: BedNode[];
  /** Seconds per phase of `up`. */
  timings: Record<string, number>;
  adminKubeconfig: string;
}

export interface UpOptions {
  readonly name?: string;
  readonly topology?: string;
  readonly root?: string;
  /** The cache `scripts/kubernetes-bundle.ts` built into (INGOT_CACHE, default /var/cache/ingot). */
  readonly cache?: string;
  readonly say?: (line: string) => void;
  /**
   * Stop before Kubernetes: every node runs containerd with the bundle's binaries and images,
   * but has no /etc/kubernetes and never ran kubeadm — what a region's `cluster create`
   * bootstraps (docs/cluster.md). @default false
   */
  readonly prepared?: boolean;
}

/** The bundle directory of the recipe the bed runs. */
export function bedBundle(cache = process.env.INGOT_CACHE ?? '/var/cache/ingot'): string {
  return join(kubernetesCacheDir(cache), bundleDirName(KUBERNETES_1_20));
}

const stateFile = (root: string, name: string) => join(root, name, 'state.json');

/** Where `up` keeps the PKI the bed's cluster was rendered with (readPkiDir reads it). */
export const bedPkiDir = (root: string, name: string): string => join(root, name, 'pki');

export function readState(root: string, name: string): BedState | null {
  try {
    return JSON.parse(readFileSync(stateFile(root, name), 'utf8')) as BedState;
  } catch {
    return null;
  }
}

function writeState(root: string, s: BedState): void {
  writeFileSync(stateFile(root, s.name), `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
}

/** Records the init PID of a node that was booted again (power.ts). */
export function setNodePid(root: string, name: string, node: string, pid: number): void {
  const s = readState(root, name);
  if (!s) throw new Error(`no test bed ${name} under ${root}`);
  s.nodes = s.nodes.map((n) => (n.name === node ? { ...n, pid } : n));
  writeState(root, s);
}

/** Brings a bed up and returns its state; on any failure it takes everything down again and rethrows. */
export async function up(o: UpOptions = {}): Promise<BedState> {
  const bed = bedLayout(o.name ?? 'tb', o.topology ?? '1+1');
  const root = o.root ?? DEFAULT_ROOT;
  const say = o.say ?? (() => {});
  const bundle = bedBundle(o.cache);
  if (!existsSync(join(bundle, 'ingot-build.json')))
    throw new Error(
      `no Kubernetes bundle at ${bundle}: run \`node scripts/kubernetes-bundle.ts\` first (CI does)`,
    );
  if (readState(root, bed.name) || (await listNamespaces()).some((n) => n.startsWith(`itb-${bed.name}-`)))
    throw new Error(`test bed ${bed.name} exists: \`ingot lab testbed down --name ${bed.name}\` first`);
  const started = Date.now();
  let mark = started;
  const lap = (phase: string) => {
    const now = Date.now();
    state.timings[phase] = Math.round((now - mark) / 100) / 10;
    mark = now;
    writeState(root, state);
  };
  mkdirSync(join(root, bed.name), { recursive: true });
  const rendered = await renderBed(bed);
  // The PKI the bed's cluster was rendered with (mode 0600 keys), for a region that records the
  // bed as a cluster it created (test/support/bed-region.ts): down removes it with the rest.
  writePkiDir(bedPkiDir(root, bed.name), rendered.pki);
  const state: BedState = {
    name: bed.name,
    topology: bed.topology,
    hubNs: bed.hubNs,
    endpoint: bed.endpoint,
    bundle,
    sysctls: holdSysctls(bed.name),
    haproxyPid: null,
    nodes: [],
    timings: {},
    adminKubeconfig: rendered.adminKubeconfig,
  };
  writeState(root, state);
  try {
    lap('render');
    await hub(bed, root, rendered.haproxy, state);
    lap('network');
    const images = await bundleImages(bundle);
    const plans: NodePlan[] = rendered.nodes.map((n, i) => ({
      name: n.hostname,
      ns: nodeNs(bed, n.hostname),
      ip: n.ip,
      prefixLen: Number(bed.cidr.split('/')[1]),
      gateway: bed.gateway,
      podCidr: nodePodCidr(bed, i),
      routes: rendered.nodes.flatMap((m, j) => (j === i ? [] : [{ cidr: nodePodCidr(bed, j), via: m.ip }])),
      dir: join(root, bed.name, n.hostname),
      bundle,
      hosts: rendered.nodes.map((m) => ({ name: m.hostname, ip: m.ip })),
    }));
    for (const [i, p] of plans.entries()) {
      const r = rendered.nodes[i];
      const files = o.prepared ? { ...r, files: [] } : r;
      const pid = await startNode(p, bed.hubNs, files, rendered.containerd[r.hostname]);
      state.nodes.push({ name: p.name, ns: p.ns, ip: p.ip, role: r.role, pid });
      writeState(root, state);
    }
    await Promise.all(state.nodes.map((n) => waitContainerd(n.pid)));
    lap('nodes');
    const skip = '--skip-phases=preflight,addon/coredns';
    const first = rendered.nodes.find((n) => n.init)!;
    const firstPid = state.nodes.find((n) => n.name === first.hostname)!.pid;
    await importImages(firstPid, images, false);
    lap('images');
    if (o.prepared) {
      await Promise.all(
        state.nodes.filter((n) => n.pid !== firstPid).map((n) => importImages(n.pid, images, false)),
      );
      state.timings.total = Math.round((Date.now() - started) / 100) / 10;
      writeState(root, state);
      return state;
    }
    // The other nodes import their images while the first runs `kubeadm init`: they need
    // them only when they join.
    const others = Promise.all(
      state.nodes
        .filter((n) => n.pid !== firstPid)
        .map((n) => importImages(n.pid, images, n.role === 'worker')),
    );
    others.catch(() => {}); // awaited below; an init failure must not leave it unhandled
    say(`kubeadm init on ${first.hostname}`);
    // No preflight (no crictl; a namespace is not a machine), no CoreDNS (Debian has no source for it).
    await kubeadm(
      firstPid,
      ['init', '--config', first.kubeadmConfig, skip],
      join(root, bed.name, first.hostname),
    );
    await others;
    lap('init');
    const joinNode = (n: (typeof rendered.nodes)[number], extra: string) => {
      say(`kubeadm join${extra} on ${n.hostname}`);
      const pid = state.nodes.find((x) => x.name === n.hostname)!.pid;
      const dir = join(root, bed.name, n.hostname);
      return kubeadm(pid, ['join', '--config', n.kubeadmConfig, '--skip-phases=preflight'], dir);
    };
    // Control planes join one by one (each adds an etcd member); workers meanwhile, through
    // the load balancer, which only sends them to API servers answering /readyz.
    await Promise.all([
      (async () => {
        for (const n of rendered.nodes.filter((x) => !x.init && x.role === 'control-plane'))
          await joinNode(n, ' --control-plane');
      })(),
      ...rendered.nodes.filter((x) => x.role === 'worker').map((n) => joinNode(n, '')),
    ]);
    lap('join');
    // The first API server's restart (kubernetes#97294) runs while the nodes go Ready: the load
    // balancer sends requests to the other two meanwhile.
    const restarted = Date.now();
    await Promise.all([
      bed.controlPlanes > 1
        ? restartApiServer(state.nodes.find((n) => n.pid === firstPid)!, say).then(() => {
            // Not a phase of its own: it overlaps 'ready'.
            state.timings.apiserverRestart = Math.round((Date.now() - restarted) / 100) / 10;
          })
        : Promise.resolve(),
      waitReady(firstPid, state.nodes.length, 180_000),
    ]);
    lap('ready');
    state.timings.total = Math.round((Date.now() - started) / 100) / 10;
    writeState(root, state);
    return state;
  } catch (e) {
    const logs = keepLogs(root, bed.name);
    say(`up failed: ${(e as Error).message}; the nodes' logs are in ${logs}; taking the bed down`);
    await down({ name: bed.name, root }).catch(() => {});
    throw e;
  }
}

/** Copies every node's logs to `<root>/<bed>-logs/<node>/` (down removes the bed's directory). */
function keepLogs(root: string, name: string): string {
  const out = join(root, `${name}-logs`);
  rmSync(out, { recursive: true, force: true });
  const dir = join(root, name);
  for (const node of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
    if (!node.isDirectory()) continue;
    for (const f of readdirSync(join(dir, node.name)).filter((x) => x.endsWith('.log'))) {
      mkdirSync(join(out, node.name), { recursive: true });
      cpSync(join(dir, node.name, f), join(out, node.name, f));
    }
  }
  return out;
}

/** Runs kubeadm in the node; its whole output (stdout, stderr, how it ended) goes to kubeadm-<verb>.log. */
async function kubeadm(pid: number, args: string[], dir: string): Promise<void> {
  const log = join(dir, `kubeadm-${args[0]}.log`);
  try {
    const { stdout, stderr } = await execFileP(
      'nsenter',
      ['-t', String(pid), '-m', '-u', '-n', '--', 'kubeadm', ...args, '-v=1'],
      { maxBuffer: 64 * 2 ** 20 },
    );
    writeFileSync(log, `${stderr}\n${stdout}`);
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string; code?: number | string; signal?: string };
    const how = err.signal ? `killed by ${err.signal}` : `exit code ${err.code}`;
    writeFileSync(log, `${err.stderr ?? ''}\n${err.stdout ?? ''}\n${how}\n`);
    throw new Error(
      `kubeadm ${args[0]} failed, ${how} (${log}): ${(err.stderr ?? err.message).slice(-2000)}`,
    );
  }
}

/** Waits until `count` nodes report Ready (kubectl inside the first control plane). */
async function waitReady(pid: number, count: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      const out = await inNode(pid, 'kubectl', [
        '--kubeconfig',
        '/etc/kubernetes/admin.conf',
        'get',
        'nodes',
        '-o',
        'json',
      ]);
      const nodes = (
        JSON.parse(out) as { items: { status: { conditions: { type: string; status: string }[] } }[] }
      ).items;
      const ready = nodes.filter((n) =>
        n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      last = `${ready.length}/${count} Ready`;
      if (ready.length >= count) return;
    } catch (e) {
      last = (e as Error).message.slice(0, 300);
    }
    await sleep(1000);
  }
  throw new Error(`nodes not Ready after ${timeoutMs / 1000} s: ${last}`);
}

/** The hub: namespace, bridge with the gateway and API addresses, haproxy. */
async function hub(bed: BedLayout, root: string, haproxyCfg: string, state: BedState): Promise<void> {
  const len = bed.cidr.split('/')[1];
  await run('ip', ['netns', 'add', bed.hubNs]);
  const ipn = (...a: string[]) => run('ip', ['-n', bed.hubNs, ...a]);
  await ipn('link', 'set', 'lo', 'up');
  await ipn('link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0');
  await ipn('addr', 'add', `${bed.gateway}/${len}`, 'dev', 'br0');
  await ipn('addr', 'add', `${bed.endpoint}/${len}`, 'dev', 'br0');
  await ipn('link', 'set', 'br0', 'up');
  const cfg = join(root, bed.name, 'haproxy.cfg');
  writeFileSync(cfg, haproxyCfg.replace(/bind :(\d+)/g, `bind ${bed.endpoint}:$1`));
  const log = openSync(join(root, bed.name, 'haproxy.log'), 'a');
  const child = spawn('ip', ['netns', 'exec', bed.hubNs, 'haproxy', '-db', '-f', cfg], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  await sleep(300);
  if (!existsSync(`/proc/${child.pid}`))
    throw new Error(
      `haproxy did not start: ${readFileSync(join(root, bed.name, 'haproxy.log'), 'utf8').slice(-500)}`,
    );
  state.haproxyPid = child.pid ?? null;
  writeState(root, state);
}

/** Takes a bed down: processes by PID, namespaces, cgroups, files; restores the sysctls (or `sysctlHost`'s). */
export async function down(
  o: { name?: string; root?: string; sysctlHost?: SysctlHost } = {},
): Promise<string[]> {
  const name = o.name ?? 'tb';
  const root = o.root ?? DEFAULT_ROOT;
  const done: string[] = [];
  const state = readState(root, name);
  const prefix = `itb-${name}-`;
  const nss = (await listNamespaces()).filter((n) => n.startsWith(prefix));
  const cgs = new Set<string>();
  for (const h of hierarchies())
    for (const d of (await run('ls', [h]).catch(() => '')).split('\n')) if (d.startsWith(prefix)) cgs.add(d);
  for (const ns of new Set([...(state?.nodes.map((n) => n.ns) ?? []), ...cgs])) {
    await killNode(ns);
    done.push(`killed ${ns}`);
  }
  await stopPid(state?.haproxyPid, 1000);
  for (const ns of nss) {
    const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => ''))
      .split('\n')
      .map(Number)
      .filter((p) => p > 0);
    await Promise.all(pids.map((p) => stopPid(p, 1000)));
  }
  // The last bed down gives the host its values back (sysctls.ts: beds hold them in common) —
  // once its kubelets are dead, and before its namespaces go: a bed without its hub namespace
  // counts as gone, and one starting in that window saved this bed's kubelet values as the
  // host's (a CI rehearsal, 2026-12-05: a bed going down as another came up).
  const { restored, holders } = releaseSysctls(name, state?.sysctls ?? {}, o.sysctlHost);
  if (restored.length) done.push(`restored ${restored.join(', ')}`);
  else if (holders.length) done.push(`sysctls left to the beds still up (${holders.join(', ')})`);
  for (const ns of nss) {
    await run('ip', ['netns', 'del', ns]).catch(() => {});
    done.push(`deleted netns ${ns}`);
  }
  rmSync(join(root, name), { recursive: true, force: true });
  return done;
}

export interface BedStatus {
  readonly name: string;
  readonly topology: string;
  readonly nodes: readonly (BedNode & { alive: boolean })[];
  readonly timings: Record<string, number>;
}

export function status(o: { name?: string; root?: string } = {}): BedStatus | null {
  const s = readState(o.root ?? DEFAULT_ROOT, o.name ?? 'tb');
  if (!s) return null;
  return {
    name: s.name,
    topology: s.topology,
    nodes: s.nodes.map((n) => ({ ...n, alive: existsSync(`/proc/${n.pid}`) })),
    timings: s.timings,
  };
}

/** Runs kubectl with the admin kubeconfig inside the bed's first control plane. */
export function kubectl(s: BedState, args: readonly string[]): Promise<string> {
  const cp = s.nodes.find((n) => n.role === 'control-plane');
  if (!cp) throw new Error('the bed has no control plane');
  return inNode(cp.pid, 'kubectl', ['--kubeconfig', '/etc/kubernetes/admin.conf', ...args]);
}
