/**
 * The lab-only seam that lets a region deploy test-bed nodes (docs/cluster.md): an AgentPort
 * for machines that are bed nodes, standing in for the ephemeral OS's agent — and for nothing
 * else. A bed node has no disk to write and no firmware to boot: its "ephemeral OS" is the
 * namespace itself (hello and the hardware tests answer at once, the inventory is this host's),
 * and `write-image` is the OS write done the way a bed node holds its disks: files in the
 * node's overlay upper layers, read when the deploy's power cycle boots the node again.
 *
 * What the OS write puts there is what a real deploy puts on the disk: the region's rendered
 * cloud-init user-data's files (adapted to a namespace as the bed's own render adapts them:
 * render.ts adaptKubeadmConfig, node.ts adaptContainerd, the preflight checks a namespace
 * cannot pass ignored, no HelmChart add-ons), the node
 * agent as the kubernetes-node image installs it (src/agent/node/files.ts), the rack's
 * certificate in the OS's CA bundle, and the seed with a fresh OS token (only its hash is
 * stored, as the rack does at write-image hand-out). Everything after the OS write is real:
 * the deploy's BMC steps switch the node (power.ts), the node's init phones home to the rack
 * and runs the real node agent, and `os-booted`, `bootstrap` and every other task go to the
 * region's store-backed port (`real`).
 *
 * `wipe` (a release) removes what the deploy and Kubernetes wrote, and the OS token; an OS
 * write removes the same first (a redeploy's disk keeps nothing of the OS it held).
 *
 * A `bootstrap` asked of a control plane after its deploy (a control-plane join with fresh
 * credentials: an OS replacement's, a control-plane scale's, the remediation's spare) runs the
 * kubeadm config the region wrote to the node just before, not the deploy's: that file is
 * adapted on the node's disk the same way first, then the task goes to the node agent.
 */
import { cpus, totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { nodeAgentFiles } from '../../agent/node/files.ts';
import { KUBEADM_DIR } from '../../cluster/render/security.ts';
import { AgentTask, type InventoryResult } from '../../core/agent-protocol.ts';
import type { Machine } from '../../core/machine.ts';
import type { AgentPort, AgentResult } from '../../engine/agent-port.ts';
import { hashBootToken, newBootToken } from '../../netboot/http/tokens.ts';
import type { Store } from '../../store/store.ts';
import { readState } from './bed.ts';
import { adaptContainerd, NODE_SEED } from './node.ts';
import { adaptKubeadmConfig } from './render.ts';

export interface BedDeployAgentOptions {
  readonly store: () => Store;
  /** The bed's root directory and name (its state file says where each node's layers are). */
  readonly root: string;
  readonly bed: string;
  /** The rack's HTTPS URL as the nodes reach it (`ingot rack` in the bed's hub namespace). */
  readonly rackUrl: string;
  /** The rack's certificate (PEM), which a deployed OS trusts. */
  readonly rackCertPem: string;
  /** The region's own port: os-booted, the node agent's tasks. */
  readonly real: AgentPort;
}

/** The node's overlay layer for a path inside it, or null for a path outside /etc, /usr, /var. */
export function layerPath(nodeDir: string, path: string): string | null {
  const m = /^\/(etc|usr|var)\/(.+)$/.exec(path);
  return m && !m[2].split('/').includes('..') ? join(nodeDir, `${m[1]}-up`, m[2]) : null;
}

interface WriteFile {
  path: string;
  content?: string;
  encoding?: string;
  permissions?: string;
}

/**
 * The preflight checks a namespace node fails though kubeadm works in it (the bed itself skips
 * the preflight phase, render.ts): no kernel config or modules to verify, this host's
 * swap and sizes, the kubelet not a systemd service, images imported rather than pulled.
 * (A config file may not say `all`.)
 */
export const BED_PREFLIGHT_IGNORED = [
  'FileExisting-conntrack',
  'FileExisting-ebtables',
  'FileExisting-ethtool',
  'FileExisting-socat',
  'FileExisting-tc',
  'SystemVerification',
  'Swap',
  'ImagePull',
  'NumCPU',
  'Mem',
  'Service-Kubelet',
  'Service-Docker',
  'IsDockerSystemdCheck',
  'FileContent--proc-sys-net-bridge-bridge-nf-call-iptables',
];

/** Whether a kubeadm config is adapted to a bed node already (bedKubeadmConfig). */
export function bedAdapted(yaml: string): boolean {
  return parseAllDocuments(yaml).some((d) => {
    const x = d.toJS() as { kind?: string; nodeRegistration?: { ignorePreflightErrors?: string[] } };
    return (
      (x?.kind === 'InitConfiguration' || x?.kind === 'JoinConfiguration') &&
      !!x.nodeRegistration?.ignorePreflightErrors?.includes('SystemVerification')
    );
  });
}

/** A rendered kubeadm config adapted to a bed node: the bed's adaptations, and the preflight checks a namespace cannot pass ignored. */
export function bedKubeadmConfig(yaml: string): string {
  const docs = parseAllDocuments(adaptKubeadmConfig(yaml)).map((d) => d.toJS() as Record<string, unknown>);
  for (const d of docs)
    if (d.kind === 'InitConfiguration' || d.kind === 'JoinConfiguration')
      d.nodeRegistration = {
        ...(d.nodeRegistration as object),
        ignorePreflightErrors: BED_PREFLIGHT_IGNORED,
      };
  return docs.map((d) => stringify(d)).join('---\n');
}

/**
 * A cluster manifest of HelmChart add-ons (the CNI chart): helm-controller defines that kind
 * when it runs, and its image cannot run offline, so the bed leaves those add-ons out (its
 * nodes network through Debian's CNI bridge plugin, as the bed's own bring-up does) — else the
 * bootstrap would retry the apply for half an hour.
 */
function helmChartManifest(f: WriteFile): boolean {
  const text = f.encoding === 'b64' ? Buffer.from(f.content ?? '', 'base64').toString() : (f.content ?? '');
  return f.path.startsWith('/etc/kubernetes/') && /^kind: HelmChart$/m.test(text);
}

export class BedDeployAgent implements AgentPort {
  readonly o: BedDeployAgentOptions;

  constructor(o: BedDeployAgentOptions) {
    this.o = o;
  }

  #node(machine: Machine) {
    const s = readState(this.o.root, this.o.bed);
    const n = s?.nodes.find((x) => x.name === machine.hostname);
    if (!s || !n) throw new Error(`test bed ${this.o.bed} has no node ${machine.hostname}`);
    return { dir: join(this.o.root, this.o.bed, n.name), bundle: s.bundle };
  }

  async task(
    machine: Machine,
    jobId: string,
    task: AgentTask,
    params?: Record<string, unknown>,
  ): Promise<AgentResult> {
    switch (task) {
      case AgentTask.Hello:
      case AgentTask.Tests:
        return { status: 'done' };
      case AgentTask.Inventory:
        return { status: 'done', result: inventory(machine) };
      case AgentTask.WriteImage:
        return this.#writeOs(machine, params);
      case AgentTask.Wipe:
        return this.#wipe(machine);
      case AgentTask.Bootstrap:
        // Asked once with its script; asked again (to read how it went) with none.
        if (params?.role === 'control-plane' && params.script) this.#adaptKubeadmConfig(machine);
        return this.o.real.task(machine, jobId, task, params);
      default:
        return this.o.real.task(machine, jobId, task, params);
    }
  }

  async #writeOs(machine: Machine, params: Record<string, unknown> | undefined): Promise<AgentResult> {
    const { dir, bundle } = this.#node(machine);
    const put = (path: string, content: string | Buffer, mode: number) => {
      const file = layerPath(dir, path);
      if (!file) throw new Error(`${path}: a bed node holds files under /etc, /usr and /var only`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content, { mode });
    };
    const secret = params?.userDataSecret;
    if (typeof secret !== 'string') return { status: 'failed', reason: 'the deploy has no user-data' };
    // A disk written again (a redeploy) keeps nothing of the OS it held: what Kubernetes wrote
    // there goes, as a release's wipe removes it, before the new OS's files are put. (A first
    // deploy finds none, and its disk is left as the prepared bed made it.)
    if (existsSync(join(dir, 'etc-up', 'kubernetes', 'kubelet.conf'))) wipeKubernetes(dir);
    const ud = parseYaml(await this.o.store().getSecret(secret)) as { write_files?: WriteFile[] };
    try {
      for (const f of ud.write_files ?? []) {
        if (helmChartManifest(f)) continue;
        let content: string | Buffer =
          f.encoding === 'b64' ? Buffer.from(f.content ?? '', 'base64') : (f.content ?? '');
        if (f.path.endsWith('/kubeadm.yaml')) content = bedKubeadmConfig(content.toString());
        if (f.path === '/etc/containerd/config.toml')
          content = adaptContainerd(content.toString(), join(bundle, 'cni', 'bin'));
        put(f.path, content, Number.parseInt(f.permissions ?? '0644', 8));
      }
      for (const [path, f] of Object.entries(nodeAgentFiles())) put(path, f.content, f.mode);
      const hostCas = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
      put(
        '/etc/ssl/certs/ca-certificates.crt',
        `${hostCas.trimEnd()}\n${this.o.rackCertPem.trim()}\n`,
        0o644,
      );
      const token = newBootToken();
      await this.o.store().setMachineOsToken(machine.id, hashBootToken(token));
      // As write-image writes it (src/agent/guest/tasks/write-image.sh).
      const u = this.o.rackUrl;
      put(
        NODE_SEED,
        `datasource_list: [ NoCloud, None ]\ndatasource:\n  NoCloud:\n    seedfrom: ${u}/metadata/${token}/\nphone_home:\n  url: ${u}/agent/v1/os-booted/${token}\n  post: [ instance_id, hostname, fqdn ]\n  tries: 20\n`,
        0o600,
      );
    } catch (e) {
      return { status: 'failed', reason: `the bed's OS write failed: ${(e as Error).message}` };
    }
    return { status: 'done' };
  }

  /** The kubeadm config on the node's disk adapted to a namespace, unless it is already. */
  #adaptKubeadmConfig(machine: Machine): void {
    const file = layerPath(this.#node(machine).dir, `${KUBEADM_DIR}/kubeadm.yaml`);
    if (!file || !existsSync(file)) return;
    const yaml = readFileSync(file, 'utf8');
    if (!bedAdapted(yaml)) writeFileSync(file, bedKubeadmConfig(yaml), { mode: 0o600 });
  }

  async #wipe(machine: Machine): Promise<AgentResult> {
    const { dir } = this.#node(machine);
    await this.o.store().setMachineOsToken(machine.id, null);
    wipeKubernetes(dir);
    return { status: 'done', result: { wiped: ['/etc/kubernetes', '/var/lib/kubelet', '/var/lib/etcd'] } };
  }
}

/** Removes what a deploy and Kubernetes wrote on a bed node's disks (its overlay upper layers). */
function wipeKubernetes(dir: string): void {
  for (const p of ['etc-up/kubernetes', 'etc-up/cloud', 'var-up/lib/etcd', 'var-up/lib/ingot', 'kubelet'])
    rmSync(join(dir, p), { recursive: true, force: true });
  mkdirSync(join(dir, 'kubelet'), { recursive: true });
}

/** This host as the node's hardware (a namespace has the host's CPUs and memory). */
function inventory(machine: Machine): InventoryResult {
  const cpu = cpus();
  return {
    cpu: { model: cpu[0]?.model ?? 'unknown', cores: cpu.length, threads: cpu.length },
    memoryBytes: totalmem(),
    disks: [
      { name: 'overlay', sizeBytes: 100e9, model: 'test-bed overlay', serial: machine.id, rotational: false },
    ],
    nics: machine.nics.map((n) => ({ ...n, driver: 'veth', speedMbps: 10_000 })),
  };
}
