/**
 * One test-bed node: a network namespace (veth on the hub's bridge), and inside it a mount + UTS
 * namespace held by the node's init shell, with /etc, /var and /usr overlaid (upper layers in the
 * node's directory), a fresh /run, a sysfs of its own network namespace with the host's cgroup
 * hierarchies moved back in, and its own containerd (Debian's, with runc) and kubelet from the
 * bundle. Every process of the node lives below the node's cgroup (`/itb-<bed>-<node>` in each
 * hierarchy: the init shell in `…/ingot`, pods in the kubelet's `--cgroup-root`), so stopping a
 * node is killing the PIDs listed there — shims and containers included.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bridgeConflist } from '../../cluster/render/host.ts';
import { run } from '../../host/process.ts';
import { CRICTL_SHIM } from '../../bundles/crictl-shim.ts';
import { JOURNALCTL, MODPROBE, SYSTEMCTL } from './os-tools.ts';
import type { RenderedNode } from './render.ts';

export interface NodePlan {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  readonly prefixLen: number;
  readonly gateway: string;
  readonly podCidr: string;
  /** Other nodes' pod subnets and where they live. */
  readonly routes: readonly { cidr: string; via: string }[];
  readonly dir: string;
  readonly bundle: string;
  /** Every node's name and address, for /etc/hosts. */
  readonly hosts: readonly { name: string; ip: string }[];
}

const CGROUP = '/sys/fs/cgroup';

/** The cgroup v1 hierarchies (directories, not the cpu → cpu,cpuacct links) and v2's `unified`. */
export function hierarchies(): string[] {
  return readdirSync(CGROUP, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(CGROUP, e.name));
}

/** Creates `<h>/<ns>/ingot` in every hierarchy (cpuset copied from the parent). */
function makeCgroups(ns: string): void {
  for (const h of hierarchies()) {
    for (const d of [join(h, ns), join(h, ns, 'ingot')]) {
      mkdirSync(d, { recursive: true });
      if (h.endsWith('/cpuset'))
        for (const f of ['cpuset.cpus', 'cpuset.mems'])
          writeFileSync(join(d, f), readFileSync(join(dirname(d), f), 'utf8').trim() || '\n');
    }
  }
}

/** Every PID in the node's cgroups (all hierarchies, all depths). */
export function cgroupPids(ns: string): number[] {
  const pids = new Set<number>();
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    try {
      for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
    } catch {
      // gone meanwhile
    }
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
  };
  for (const h of hierarchies()) walk(join(h, ns));
  return [...pids];
}

/** Kills every process of the node (SIGKILL, by PID, until none is left) and removes its cgroups. */
export async function killNode(ns: string): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const pids = cgroupPids(ns);
    if (pids.length === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
  const rmTree = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(d, e.name));
    try {
      rmdirSync(d);
    } catch {
      // a process still exiting: the next down removes it
    }
  };
  for (const h of hierarchies()) rmTree(join(h, ns));
}

/** The containerd config: Ingot's rendered one, adapted to a node without systemd on this host. */
export function adaptContainerd(rendered: string, cniBin: string): string {
  return `${rendered
    .replace('SystemdCgroup = true', 'SystemdCgroup = false')
    .replace(
      /(\s*)sandbox_image = (.*)\n/,
      // This host withholds CAP_SYS_RESOURCE: runc fails to lower oom_score_adj without it.
      '$1sandbox_image = $2\n$1restrict_oom_score_adj = true\n',
    )
    .trimEnd()}

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "${cniBin}"
  conf_dir = "/etc/cni/net.d"
`;
}

/** Where a deploy writes the node agent's seed (src/lab/testbed/deploy-agent.ts, as write-image does). */
export const NODE_SEED = '/etc/cloud/cloud.cfg.d/95-ingot-agent.cfg';

/**
 * What a deployed OS does at boot that the bed's init stands in for (cloud-init's phone_home and
 * the node agent's systemd unit), once a deploy wrote the seed: phone home to the rack with the
 * OS token, then run the node agent, which dials out for its tasks.
 */
function deployedOsBoot(n: NodePlan): string {
  return `if [ -f ${NODE_SEED} ]; then
  url=$(sed -n 's#^ *url: *\\(http[^ ]*/agent/v1/os-booted/[A-Za-z0-9_-]*\\) *$#\\1#p' ${NODE_SEED} | head -n 1)
  # The URL holds the OS token: curl reads it from stdin, not from its command line.
  (for i in $(seq 1 40); do printf 'url = "%s"\\n' "$url" | curl -fsS -K - -X POST -d hostname=${n.name} -o /dev/null && break; sleep 3; done) >>${n.dir}/phone-home.log 2>&1 &
  [ -x /usr/local/sbin/ingot-node-agent ] && /usr/local/sbin/ingot-node-agent >>${n.dir}/node-agent.log 2>&1 &
fi`;
}

/**
 * The node's init shell: mounts, then containerd, then the kubelet whenever kubeadm has
 * written its config (as kubeadm's systemd drop-in would, restarting it when it exits).
 */
function initScript(n: NodePlan): string {
  const d = n.dir;
  const ov = (m: string) =>
    `mkdir -p ${d}/${m}-up ${d}/${m}-wk && mount -t overlay overlay -o lowerdir=/${m},upperdir=${d}/${m}-up,workdir=${d}/${m}-wk /${m}`;
  return `#!/bin/sh
set -eu
for h in /sys/fs/cgroup/*/; do [ -d "\${h}${n.ns}/ingot" ] && echo $$ > "\${h}${n.ns}/ingot/cgroup.procs"; done
hostname ${n.name}
mount --make-rprivate /
${ov('etc')}
${ov('var')}
${ov('usr')}
mkdir -p ${d}/cg ${d}/containerd ${d}/kubelet /var/lib/containerd /var/lib/kubelet
mount --rbind /sys/fs/cgroup ${d}/cg
mount -t sysfs sysfs /sys
mount --move ${d}/cg /sys/fs/cgroup
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/lock
mount --bind ${d}/containerd /var/lib/containerd
mount --bind ${d}/kubelet /var/lib/kubelet
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# containerd, started again whenever it exits (as its unit's Restart= would; the bed's systemctl restarts it by PID)
(while :; do containerd --config /etc/containerd/config.toml >>${d}/containerd.log 2>&1 & echo $! >/run/containerd.pid; wait $! || true; sleep 1; done) &
${deployedOsBoot(n)}
while :; do
  if [ -f /var/lib/kubelet/config.yaml ]; then
    KUBELET_KUBEADM_ARGS=""
    [ -f /var/lib/kubelet/kubeadm-flags.env ] && . /var/lib/kubelet/kubeadm-flags.env
    # shellcheck disable=SC2086
    kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf \\
      --config=/var/lib/kubelet/config.yaml --cgroup-root=/${n.ns} $KUBELET_KUBEADM_ARGS >>/var/log/kubelet.log 2>&1 &
    echo $! >/run/kubelet.pid
    wait $! || true
  fi
  sleep 1
done
`;
}

/** The host's /usr/lib/sysctl.d files, as the node's /usr upper-layer paths that hide them. */
function hostSysctlFiles(): string[] {
  const dir = '/usr/lib/sysctl.d';
  return existsSync(dir) ? readdirSync(dir).map((f) => `usr-up/lib/sysctl.d/${f}`) : [];
}

/** Writes a file into the node's /etc upper layer (seen at `path` inside the node). */
function etcFile(n: NodePlan, path: string, content: string, mode = 0o644): void {
  if (!path.startsWith('/etc/')) throw new Error(`${path}: not under /etc`);
  const file = join(n.dir, 'etc-up', path.slice('/etc/'.length));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, { mode });
}

/** Sets up the node's network namespace, files and cgroups, and starts its init. Returns the init's PID. */
export async function startNode(
  n: NodePlan,
  hubNs: string,
  r: RenderedNode,
  containerd: string,
): Promise<number> {
  mkdirSync(n.dir, { recursive: true });
  await run('ip', ['netns', 'add', n.ns]);
  await run('ip', [
    '-n',
    hubNs,
    'link',
    'add',
    `v-${n.name}`,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    n.ns,
  ]);
  await run('ip', ['-n', hubNs, 'link', 'set', `v-${n.name}`, 'master', 'br0', 'up']);
  const ipn = (...a: string[]) => run('ip', ['-n', n.ns, ...a]);
  await ipn('link', 'set', 'lo', 'up');
  await ipn('addr', 'add', `${n.ip}/${n.prefixLen}`, 'dev', 'eth0');
  await ipn('link', 'set', 'eth0', 'up');
  await ipn('route', 'add', 'default', 'via', n.gateway);
  for (const rt of n.routes) await ipn('route', 'add', rt.cidr, 'via', rt.via);
  await run('ip', ['netns', 'exec', n.ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);

  for (const f of r.files) etcFile(n, f.path, f.content, f.mode);
  etcFile(n, '/etc/containerd/config.toml', adaptContainerd(containerd, join(n.bundle, 'cni', 'bin')));
  etcFile(n, '/etc/cni/net.d/10-testbed.conflist', bridgeConflist('testbed', n.podCidr));
  const hosts = readFileSync('/etc/hosts', 'utf8');
  etcFile(n, '/etc/hosts', `${hosts.trimEnd()}\n${n.hosts.map((h) => `${h.ip} ${h.name}`).join('\n')}\n`);
  etcFile(n, '/etc/hostname', `${n.name}\n`);
  // The binaries from the bundle, in the node's /usr/local/bin.
  const bin = join(n.dir, 'usr-up', 'local', 'bin');
  mkdirSync(bin, { recursive: true });
  for (const b of ['kubeadm', 'kubelet', 'kubectl'])
    await run('cp', [join(n.bundle, 'kubernetes', 'server', 'bin', b), join(bin, b)]);
  const sbin = join(n.dir, 'usr-up', 'local', 'sbin');
  mkdirSync(sbin, { recursive: true });
  writeFileSync(join(sbin, 'systemctl'), SYSTEMCTL, { mode: 0o755 });
  writeFileSync(join(sbin, 'modprobe'), MODPROBE, { mode: 0o755 });
  writeFileSync(join(sbin, 'journalctl'), JOURNALCTL, { mode: 0o755 });
  writeFileSync(join(sbin, 'crictl'), CRICTL_SHIM, { mode: 0o755 });
  // The host's own sysctl settings are not the node's: `sysctl --system` in a node applies
  // the node's files only (its /etc/sysctl.d and /usr/lib/sysctl.d hide the host's).
  for (const f of ['etc-up/sysctl.d/99-sysctl.conf', 'etc-up/sysctl.conf', ...hostSysctlFiles()]) {
    mkdirSync(dirname(join(n.dir, f)), { recursive: true });
    writeFileSync(join(n.dir, f), '');
  }
  writeFileSync(join(n.dir, 'init.sh'), initScript(n), { mode: 0o755 });
  return bootNode(n.ns, n.dir);
}

/**
 * Starts the node's init in its (existing) network namespace: a new mount + UTS namespace,
 * overlays over the node's upper layers, containerd, and the kubelet once kubeadm configured it.
 * A node killed by `killNode` comes back this way with its disks (upper layers) as they were,
 * as a machine does after a power cut. Returns the PID of the init's nsenter.
 */
export function bootNode(ns: string, dir: string): number {
  makeCgroups(ns);
  const log = openSync(join(dir, 'init.log'), 'a');
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${ns}`,
      '--',
      'unshare',
      '--mount',
      '--uts',
      '--propagation',
      'private',
      'sh',
      join(dir, 'init.sh'),
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
  if (!child.pid) throw new Error(`${ns}: the init did not start`);
  // nsenter execs unshare, which forks the shell: the node's init is the shell below it.
  return child.pid;
}

/** Runs `cmd` inside the node (its mount, UTS and network namespaces, through `pid`). */
export function inNode(pid: number, cmd: string, args: readonly string[]): Promise<string> {
  return run('nsenter', ['-t', String(pid), '-m', '-u', '-n', '--', cmd, ...args]);
}

/** The PID of the node's init shell: the `sh init.sh` in the node's ingot cgroup. */
export function initPid(ns: string): number | null {
  const procs = join(CGROUP, 'pids', ns, 'ingot', 'cgroup.procs');
  if (!existsSync(procs)) return null;
  for (const p of readFileSync(procs, 'utf8').split('\n').filter(Boolean)) {
    const cmd = (() => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (cmd.startsWith('sh\0') && cmd.includes('init.sh')) return Number(p);
  }
  return null;
}

/** Waits for the node's containerd to answer. */
export async function waitContainerd(pid: number, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await inNode(pid, 'ctr', ['--address', '/run/containerd/containerd.sock', 'version']);
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(250);
    }
  }
}
