/**
 * `ingot cluster create|ls|show|events|kubeconfig|delete|retry`: clusters as living objects in a
 * region (the API's /clusters). `create --wait` follows the cluster's timeline step by step —
 * each member's deploy and bootstrap — until it runs or fails with the node's own message.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import { Client } from '../client.ts';
import { resolveTarget } from '../config.ts';
import { ctx } from '../context.ts';
import { ago, printData, table } from '../output.ts';
import { type Event, eventLine, latestEvents } from './machine-events.ts';

interface Member {
  hostname: string;
  role: string;
  address: string;
  state?: string;
  stateReason?: string;
}
interface ClusterView {
  id: string;
  name: string;
  state: string;
  stateReason: string;
  stateEnteredAt: string;
  distribution: string;
  version: string;
  endpoint: string;
  members: Member[];
  conditions: {
    checkedAt: string;
    apiReachable: boolean;
    apiError: string | null;
    etcd: { healthy: number; members: number; quorum: boolean } | null;
    nodes: { ready: number; total: number } | null;
    certificatesExpireAt: string | null;
  } | null;
  hasKubeconfig: boolean;
  allowedActions: string[];
}
interface JobView {
  id: string;
  kind: string;
  status: string;
  steps: { name: string; startedAt: string | null; endedAt: string | null; error: string | null }[];
}

const path = (name: string) => `/api/v1/clusters/${encodeURIComponent(name)}`;
const FAILED = /^failed_/;

function conditionsText(c: ClusterView['conditions']): string {
  if (!c) return 'not read yet';
  if (!c.apiReachable) return `API not answering (${c.apiError ?? 'no reason'})`;
  const parts = ['API reachable'];
  if (c.nodes) parts.push(`nodes Ready ${c.nodes.ready}/${c.nodes.total}`);
  if (c.etcd) parts.push(`etcd ${c.etcd.healthy}/${c.etcd.members}${c.etcd.quorum ? '' : ' (no quorum)'}`);
  if (c.certificatesExpireAt) parts.push(`certificates expire ${c.certificatesExpireAt.slice(0, 10)}`);
  return parts.join(', ');
}

/** Prints the cluster's new events until it leaves `until` states' complement: running, deleted, or a failure. */
export async function follow(
  client: Client,
  name: string,
  o: { timeoutMs: number; until: readonly string[]; after?: number },
): Promise<ClusterView> {
  const deadline = Date.now() + o.timeoutMs;
  let after = o.after ?? 0;
  for (;;) {
    const events = await client.get<Event[]>(`${path(name)}/events?after=${after}&limit=1000`);
    for (const e of events) process.stderr.write(eventLine(e));
    after = events.at(-1)?.id ?? after;
    const { cluster } = await client.get<{ cluster: ClusterView }>(path(name));
    if (o.until.includes(cluster.state)) return cluster;
    if (FAILED.test(cluster.state))
      throw new IngotError(
        ErrorCode.StepFailed,
        `cluster ${name} is ${cluster.state}: ${cluster.stateReason}`,
        {
          details: { cluster: name, state: cluster.state },
        },
      );
    if (Date.now() > deadline)
      throw new IngotError(
        ErrorCode.Timeout,
        `gave up waiting after ${Math.round(o.timeoutMs / 1000)} s; the cluster's job goes on: \`ingot cluster events ${name}\` shows its progress`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The newest event id of the cluster, so --wait prints only what happens from now on. */
export async function lastEventId(client: Client, name: string): Promise<number> {
  const [last] = await client.get<Event[]>(`${path(name)}/events?newest=true&limit=1`);
  return last?.id ?? 0;
}

export function registerClusterLifecycle(cluster: Command): void {
  cluster
    .command('create')
    .description('create a cluster in the region: allocate ready machines, deploy them, bootstrap Kubernetes')
    .requiredOption('-f, --file <cluster.yaml>', 'the Cluster file')
    .option('--image <name>', 'the OS image the nodes are deployed with (default: the only ready OS image)')
    .option('--wait', 'follow the create step by step until the cluster runs; exit 7 if it fails')
    .option('--timeout <s>', 'with --wait: give up after this many seconds', (v) => Number(v), 7200)
    .action(async (o: { file: string; image?: string; wait?: boolean; timeout: number }, cmd: Command) => {
      const { client, format } = ctx(cmd);
      if (!existsSync(o.file)) throw invalid('--file', `${o.file} does not exist`);
      const r = await client.post<{ cluster: ClusterView; job: JobView }>('/api/v1/clusters', {
        cluster: readFileSync(o.file, 'utf8'),
        ...(o.image ? { image: o.image } : {}),
      });
      const c = r.cluster;
      if (!o.wait) {
        if (printData(r, format)) return;
        process.stdout.write(
          `cluster ${c.name} ${c.state}: ${c.members.length} machines allocated (${c.members.map((m) => `${m.hostname} ${m.role}`).join(', ')}); job ${r.job.id}\n` +
            `follow it with \`ingot cluster events ${c.name} -f\`\n`,
        );
        return;
      }
      const done = await follow(client, c.name, { timeoutMs: o.timeout * 1000, until: ['running'] });
      if (printData(done, format)) return;
      process.stdout.write(`cluster ${done.name} running: ${conditionsText(done.conditions)}\n`);
    });

  cluster
    .command('ls')
    .description('list the region’s clusters')
    .option('--all', 'include deleted clusters')
    .action(async (o: { all?: boolean }, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const list = await client.get<ClusterView[]>(`/api/v1/clusters${o.all ? '?all=true' : ''}`);
      if (printData(list, format)) return;
      process.stdout.write(
        table(
          ['NAME', 'STATE', 'DISTRIBUTION', 'VERSION', 'NODES', 'READY', 'ENDPOINT', 'SINCE'],
          list.map((c) => [
            c.name,
            c.state,
            c.distribution,
            c.version,
            c.members.length,
            c.conditions?.nodes ? `${c.conditions.nodes.ready}/${c.conditions.nodes.total}` : '-',
            c.endpoint,
            ago(c.stateEnteredAt),
          ]),
        ),
      );
    });

  cluster
    .command('show <name>')
    .description('a cluster: state and why, conditions, each node with its machine’s state, the current job')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const r = await client.get<{ cluster: ClusterView; job: JobView | null }>(path(name));
      if (printData(r, format)) return;
      const c = r.cluster;
      const out = [
        `name:        ${c.name} (${c.id})`,
        `state:       ${c.state} — ${c.stateReason}`,
        `kubernetes:  ${c.distribution} ${c.version} at ${c.endpoint}`,
        `conditions:  ${conditionsText(c.conditions)}`,
        `kubeconfig:  ${c.hasKubeconfig ? `stored (\`ingot cluster kubeconfig ${c.name}\`, admins only)` : 'not yet'}`,
        `actions:     ${c.allowedActions.join(', ') || 'none while its job runs'}`,
        '',
        table(
          ['NODE', 'ROLE', 'ADDRESS', 'MACHINE', 'WHY'],
          c.members.map((m) => [m.hostname, m.role, m.address, m.state, m.stateReason]),
        ).trimEnd(),
      ];
      if (r.job)
        out.push(
          '',
          `job ${r.job.id} (${r.job.kind}, ${r.job.status}): ${r.job.steps
            .map((s) => `${s.name}${s.endedAt ? (s.error ? ' ✗' : ' ✓') : s.startedAt ? ' …' : ''}`)
            .join(' → ')}`,
        );
      process.stdout.write(`${out.join('\n')}\n`);
    });

  cluster
    .command('events <name>')
    .description('the cluster’s timeline; -f follows it live')
    .option('-f, --follow', 'keep printing new events')
    .option('--limit <n>', 'how many of the latest events', (v) => Number(v), 200)
    .action(async (name: string, o: { follow?: boolean; limit: number }, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const events = await latestEvents(client, `${path(name)}/events`, o.limit);
      if (!o.follow && printData(events, format)) return;
      const emit = (e: Event) =>
        process.stdout.write(format === 'table' ? eventLine(e) : `${JSON.stringify(e)}\n`);
      for (const e of events) emit(e);
      if (!o.follow) return;
      let after = events.at(-1)?.id ?? 0;
      let stop = false;
      process.on('SIGINT', () => {
        stop = true;
      });
      while (!stop) {
        await new Promise((r) => setTimeout(r, 1000));
        for (const e of await client.get<Event[]>(`${path(name)}/events?after=${after}&limit=1000`)) {
          emit(e);
          after = e.id;
        }
      }
    });

  cluster
    .command('kubeconfig <name>')
    .description(
      'write the cluster’s admin kubeconfig to a file (mode 0600; default ./NAME.kubeconfig, or -o PATH); `-o -` prints it',
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      // -o names where the kubeconfig goes here (as it names the directory of `render`), not a format.
      const globals = cmd.optsWithGlobals() as { url?: string; token?: string; output?: string };
      const out = globals.output;
      const client = new Client(resolveTarget(globals));
      const { kubeconfig } = await client.get<{ kubeconfig: string }>(`${path(name)}/kubeconfig`);
      if (out === '-') {
        process.stdout.write(kubeconfig);
        return;
      }
      const file = out && !['table', 'json', 'yaml'].includes(out) ? out : `${name}.kubeconfig`;
      // Created 0600, and a file that existed is narrowed to 0600 before the secret goes in.
      writeFileSync(file, '', { mode: 0o600 });
      chmodSync(file, 0o600);
      writeFileSync(file, kubeconfig, { mode: 0o600 });
      process.stdout.write(`wrote the admin kubeconfig of ${name} to ${file} (mode 0600)\n`);
    });

  cluster
    .command('delete <name>')
    .description('drain the cluster, then release and wipe every machine of it')
    .option('--wipe <mode>', 'quick or secure', 'quick')
    .option('--wait', 'follow the delete until the cluster is gone; exit 7 if it fails')
    .option('--timeout <s>', 'with --wait: give up after this many seconds', (v) => Number(v), 7200)
    .action(async (name: string, o: { wipe: string; wait?: boolean; timeout: number }, cmd: Command) => {
      const { client, format } = ctx(cmd);
      if (o.wipe !== 'quick' && o.wipe !== 'secure')
        throw invalid('--wipe', `"${o.wipe}" must be quick or secure`);
      const after = o.wait ? await lastEventId(client, name) : 0;
      const r = await client.request<{ cluster: ClusterView }>('DELETE', `${path(name)}?wipe=${o.wipe}`);
      if (!o.wait) {
        if (printData(r, format)) return;
        process.stdout.write(
          `cluster ${name} ${r.cluster.state}: its ${r.cluster.members.length} machines are drained, released and wiped (${o.wipe})\n`,
        );
        return;
      }
      await follow(client, name, { timeoutMs: o.timeout * 1000, until: ['deleted'], after });
      process.stdout.write(`cluster ${name} deleted; its machines are back in the ready pool\n`);
    });

  cluster
    .command('retry <name>')
    .description(
      'resume a failed create, delete, scale or operation at the step (an operation: the node) that failed',
    )
    .option('--wait', 'follow it until it ends; exit 7 if it fails')
    .option('--timeout <s>', 'with --wait: give up after this many seconds', (v) => Number(v), 7200)
    .action(async (name: string, o: { wait?: boolean; timeout: number }, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const after = o.wait ? await lastEventId(client, name) : 0;
      const r = await client.post<{ cluster: ClusterView }>(`${path(name)}/actions/retry`);
      if (!o.wait) {
        if (printData(r, format)) return;
        process.stdout.write(`cluster ${name} ${r.cluster.state}\n`);
        return;
      }
      const c = await follow(client, name, {
        timeoutMs: o.timeout * 1000,
        until: ['running', 'deleted'],
        after,
      });
      process.stdout.write(`cluster ${name} ${c.state}\n`);
    });
}
