/**
 * The NodeShell (src/kube/etcd/shell.ts) of a deployed cluster: each command is a `node-exec`
 * task of the member's node agent (its stdout the result), a file written to a node is staged in
 * the artifacts dir and fetched by the agent with that task. So the restore procedure of
 * src/kube/etcd/restore.ts runs unchanged on real machines.
 *
 * Tasks carry the operation's id as their job id (`<op>.<n>`): outside the job table, the rack
 * hands them out only while fresh (agent-tasks-sql.ts), and one the agent does not take up in
 * `pickupMs`, or is silent on for `silenceMs`, is ended as failed here, never run late.
 */
import { rm, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AgentTask, shellQuote } from '../../core/agent-protocol.ts';
import type { Cluster } from '../../core/cluster.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { execStdout } from '../../core/etcd-backup-protocol.ts';
import { redactSecrets } from '../../core/redact.ts';
import type { AgentTaskRow, Store } from '../../store/store.ts';
import type { NodeShell } from '../../kube/etcd/shell.ts';

export interface TaskWaitOptions {
  /** A task no agent took up this long fails. @default 120 s */
  pickupMs?: number;
  /** A started task the agent says nothing about this long fails. @default 90 s */
  silenceMs?: number;
  /** How often the task row is read. @default 500 ms */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The member `node` (a hostname) of the cluster, or a NotFound naming its members. */
export function memberOf(c: Cluster, node: string): { machineId: string; hostname: string } {
  const m = c.members.find((x) => x.hostname === node);
  if (!m)
    throw new IngotError(
      ErrorCode.NotFound,
      `node ${node} is not a member of cluster ${c.name}: its members are ${c.members.map((x) => x.hostname).join(', ')}`,
    );
  return m;
}

/**
 * Asks `machineId`'s node agent for a task and waits for its end: the result when done, an
 * INGOT_STEP_FAILED with the agent's reason otherwise.
 */
export async function runNodeTask(
  store: Store,
  t: { machineId: string; jobId: string; name: AgentTask; params: Record<string, unknown>; what: string },
  o: TaskWaitOptions = {},
): Promise<unknown> {
  const pickupMs = o.pickupMs ?? 120_000;
  const silenceMs = o.silenceMs ?? 90_000;
  const row = await store.ensureAgentTask({
    machineId: t.machineId,
    jobId: t.jobId,
    name: t.name,
    params: t.params,
  });
  const fail = async (r: AgentTaskRow, reason: string): Promise<never> => {
    await store.updateAgentTask(r.id, { status: 'failed', reason }, []).catch(() => null);
    throw new IngotError(ErrorCode.StepFailed, `${t.what}: ${reason}`);
  };
  for (;;) {
    const r = (await store.getAgentTask(row.id))!;
    if (r.status === 'done') return r.result;
    if (r.status === 'failed')
      throw new IngotError(ErrorCode.StepFailed, `${t.what}: ${r.reason ?? 'failed'}`);
    const now = Date.now();
    if (r.status === 'pending' && now - r.createdAt > pickupMs)
      await fail(
        r,
        `no node agent took the ${t.name} task up in ${pickupMs / 1000} s (is ingot-node-agent running?)`,
      );
    const last = r.heartbeatAt ?? r.startedAt;
    if (r.status === 'running' && last && now - last > silenceMs)
      await fail(
        r,
        `the node agent went silent for ${silenceMs / 1000} s (last: ${r.lastMessage ?? 'nothing'})`,
      );
    await sleep(o.pollMs ?? 500);
  }
}

/**
 * A command as a failure names it: a certificate key's and a bootstrap token's value left out
 * (a control-plane join's credentials are made with them: remediate-control-plane.ts).
 */
export const redactCommand = (line: string): string => redactSecrets(line);

/** NodeShell over the node agents of `cluster`'s members; `op` names the operation (its tasks' job ids). */
export class AgentNodeShell implements NodeShell {
  readonly #store: Store;
  #cluster: Cluster;
  readonly #op: string;
  readonly #artifacts: string;
  readonly #wait: TaskWaitOptions;
  #seq = 0;

  constructor(o: {
    store: Store;
    cluster: Cluster;
    op: string;
    artifactsDir: string;
    wait?: TaskWaitOptions;
  }) {
    this.#store = o.store;
    this.#cluster = o.cluster;
    this.#op = o.op;
    this.#artifacts = o.artifactsDir;
    this.#wait = o.wait ?? {};
  }

  /** The member `node`; one that joined since (a remediation's spare) is found in the cluster read again. */
  async #member(node: string): Promise<{ machineId: string; hostname: string }> {
    if (!this.#cluster.members.some((x) => x.hostname === node))
      this.#cluster = await this.#store.getCluster(this.#cluster.id);
    return memberOf(this.#cluster, node);
  }

  async #exec(node: string, script: string, fetch?: { path: string; artifact: string }): Promise<string> {
    const m = await this.#member(node);
    const n = ++this.#seq;
    const result = await runNodeTask(
      this.#store,
      {
        machineId: m.machineId,
        jobId: `${this.#op}.${n}`,
        name: AgentTask.NodeExec,
        params: { script, ...(fetch ? { fetch: fetch.path, artifact: fetch.artifact } : {}) },
        what: `${node}: ${redactCommand(script.split('\n')[0]).slice(0, 120)}`,
      },
      this.#wait,
    );
    return execStdout(result);
  }

  exec(node: string, argv: readonly string[]): Promise<string> {
    return this.#exec(node, argv.map(shellQuote).join(' '));
  }

  async readFile(node: string, path: string): Promise<Buffer> {
    return Buffer.from(await this.#exec(node, `cat ${shellQuote(path)}`), 'utf8');
  }

  /** Stages the bytes under `etcd-snapshots/.staging/` (0600), the agent fetches them, the stage goes. */
  async writeFile(node: string, path: string, data: Buffer): Promise<void> {
    const artifact = `etcd-snapshots/.staging/${this.#op}.${this.#seq + 1}`;
    const file = join(this.#artifacts, artifact);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, data, { mode: 0o600 });
    try {
      await this.#exec(node, `chmod 600 ${shellQuote(path)}`, { path, artifact });
    } finally {
      await rm(file, { force: true });
    }
  }
}
