/**
 * Tests only: a NodeShell over control planes simulated in a directory — each node a root
 * (`<dir>/<node>/etc/kubernetes/…`, `<dir>/<node>/var/lib/etcd`) where the restore's commands run
 * for real (`sh`, `mv`, `rm`, `sha256sum` with the paths moved under the node's root), so a
 * command run twice does what it would on a node. `etcdctl` is played: `endpoint health`
 * answers while the etcd manifest is in the static pod path (the kubelet runs it) and notes the
 * data the member serves; `snapshot restore` writes the new data directory. Every command is
 * recorded; `killAfter(n)` lets n calls through: the next and every later one never answers,
 * and `dead` settles — the region died (its calls in flight on the nodes still end); `bury()`
 * lets them fail at last, so the dead region's engine can be stopped.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeShell } from './shell.ts';

const run = promisify(execFile);

export const simManifest = (node: string, ip: string) => `apiVersion: v1
kind: Pod
metadata: { name: etcd-${node}, namespace: kube-system }
spec:
  containers:
    - name: etcd
      command:
        - etcd
        - --data-dir=/var/lib/etcd
        - --initial-advertise-peer-urls=https://${ip}:2380
        - --name=${node}
`;

/** The simulated nodes' files, shared by every SimShell over them (a new region sees the same nodes). */
export class SimNodes {
  readonly dir: string;
  /** Violations seen: a restore into a node whose etcd had served restored data. */
  readonly violations: string[] = [];
  /** Per node: the data its etcd served when last asked. */
  readonly served = new Map<string, string>();
  /** Per node: how many `snapshot restore` ran. */
  readonly restores = new Map<string, number>();

  /**
   * `nodes` are control planes with a stacked etcd member; `o.etcdNodes` (external etcd) run a
   * member only, and then `nodes` run the API server, controller manager and scheduler only.
   */
  constructor(dir: string, nodes: readonly string[], o: { etcdNodes?: readonly string[] } = {}) {
    this.dir = dir;
    const members = o.etcdNodes ?? nodes;
    [...new Set([...nodes, ...members])].forEach((n, i) => {
      const m = this.path(n, '/etc/kubernetes/manifests');
      mkdirSync(m, { recursive: true });
      if (nodes.includes(n))
        for (const p of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
          writeFileSync(join(m, `${p}.yaml`), `kind: Pod # ${p}\n`);
      if (!members.includes(n)) return;
      writeFileSync(join(m, 'etcd.yaml'), simManifest(n, `10.0.0.${i + 1}`));
      mkdirSync(this.path(n, '/var/lib/etcd/member'), { recursive: true });
      writeFileSync(this.path(n, '/var/lib/etcd/member/db'), `old data of ${n}`);
    });
  }

  /** A node's path under its root. */
  path(node: string, p: string): string {
    return join(this.dir, node, p);
  }

  /** Every node path in a command moved under the node's root. */
  map(node: string, s: string): string {
    const root = join(this.dir, node);
    return s.replace(/(^|[\s=:'"])(\/(?:etc\/kubernetes|var\/lib))/g, `$1${root}$2`);
  }

  read(node: string, p: string): string | null {
    const f = this.path(node, p);
    return existsSync(f) ? readFileSync(f, 'utf8') : null;
  }
}

export class SimShell implements NodeShell {
  readonly log: string[] = [];
  readonly #nodes: SimNodes;
  #left = Number.POSITIVE_INFINITY;
  /** A command that fails on purpose: (node, command line) → true fails it. */
  fail: (node: string, cmd: string) => boolean = () => false;

  constructor(nodes: SimNodes) {
    this.#nodes = nodes;
  }

  #bury: () => void = () => {};
  readonly #buried = new Promise<void>((r) => {
    this.#bury = r;
  });

  /** The dead region's calls fail at last (so its stuck steps end and it can be stopped). */
  bury(): void {
    this.#bury();
  }

  /** Allows `n` more calls; the next ones throw (the region died). */
  killAfter(n: number): void {
    this.#left = n;
  }

  /** Whether a call was refused: the region is dead, nothing it does after counts. */
  killed = false;
  #died: () => void = () => {};
  /** Settles when the region dies: its calls from then on never answer, as a process gone. */
  readonly dead = new Promise<void>((r) => {
    this.#died = r;
  });

  async #call(node: string, line: string): Promise<void> {
    if (this.#left <= 0) {
      this.killed = true;
      this.#died();
      await this.#buried;
      throw new Error(`${node}: ${line.slice(0, 80)}: the region is dead`);
    }
    this.#left--;
    this.log.push(`${node}: ${line}`);
    if (this.fail(node, line)) throw new Error(`${line.split(' ')[0]} failed on ${node}`);
  }

  async exec(node: string, argv: readonly string[]): Promise<string> {
    const line = argv.join(' ');
    await this.#call(node, line);
    const n = this.#nodes;
    if (argv[0] === 'env' && argv[2] === 'etcdctl') {
      if (argv.includes('health')) {
        if (!existsSync(n.path(node, '/etc/kubernetes/manifests/etcd.yaml')))
          throw new Error('connection refused');
        const db = n.read(node, '/var/lib/etcd/member/db');
        if (db === null) throw new Error('etcd crashed: no data directory');
        n.served.set(node, db);
        return 'healthy';
      }
      if (argv[3] === 'snapshot' && argv[4] === 'restore') {
        if (existsSync(n.path(node, '/etc/kubernetes/manifests/etcd.yaml')))
          throw new Error('restore while etcd runs');
        if (n.served.get(node)?.startsWith('restored'))
          n.violations.push(`${node}: restored again after it served restored data`);
        const dir = n.map(node, argv.find((a) => a.startsWith('--data-dir='))!.slice('--data-dir='.length));
        const snap = readFileSync(n.map(node, argv[5]), 'utf8');
        if (existsSync(dir)) throw new Error(`${dir} exists`);
        mkdirSync(join(dir, 'member'), { recursive: true });
        writeFileSync(join(dir, 'member', 'db'), `restored ${snap} on ${node}`);
        n.restores.set(node, (n.restores.get(node) ?? 0) + 1);
        return '';
      }
      throw new Error(`unplayed etcdctl ${line}`);
    }
    const [cmd, ...args] = argv.map((a) => n.map(node, a));
    try {
      return (await run(cmd, args)).stdout;
    } catch (e) {
      throw new Error(`${line.slice(0, 200)}: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
    }
  }

  async readFile(node: string, path: string): Promise<Buffer> {
    await this.#call(node, `cat ${path}`);
    return readFileSync(this.#nodes.map(node, path));
  }

  async writeFile(node: string, path: string, data: Buffer): Promise<void> {
    await this.#call(node, `write ${path}`);
    writeFileSync(this.#nodes.map(node, path), data, { mode: 0o600 });
  }
}
