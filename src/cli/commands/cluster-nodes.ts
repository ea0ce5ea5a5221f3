/**
 * `ingot cluster drain|uncordon NAME NODE`: one node of a running cluster. The drain is a
 * durable operation (kind `drain`): it goes through the Eviction API and honours
 * PodDisruptionBudgets. The CLI follows it by default, a line per step on stderr ("cordoned",
 * "blocked by PDB ns/name"), and prints the pods evicted and kept at the end; a drain that
 * failed (a PDB still holding a pod at the timeout: named, the node left cordoned) exits 1 with
 * the reason. `--no-wait` answers once it is started.
 */
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { DRAIN_TIMEOUT_DEFAULT_S, DRAIN_TIMEOUT_MAX_S } from '../../core/node-drain.ts';
import { ctx } from '../context.ts';
import { printData } from '../output.ts';

const nodePath = (name: string, node: string, verb: string) =>
  `/api/v1/clusters/${encodeURIComponent(name)}/nodes/${encodeURIComponent(node)}/${verb}`;

interface DrainView {
  operation: string;
  state: string;
  reason: string;
  node: string;
  step: string | null;
  message: string | null;
  timeoutSeconds: number;
  evicted: string[];
  kept: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const list = (pods: string[]) => (pods.length ? ` (${pods.join(', ')})` : '');

export function registerClusterNodes(cluster: Command): void {
  cluster
    .command('drain <name> <node>')
    .description(
      'cordon the node and evict its pods through the Eviction API, honouring PodDisruptionBudgets: a durable operation, followed to its end (exit 1 naming the PDB that held it)',
    )
    .option(
      '--timeout <s>',
      `how long refused evictions are retried (1 to ${DRAIN_TIMEOUT_MAX_S})`,
      (v) => Number(v),
      DRAIN_TIMEOUT_DEFAULT_S,
    )
    .option('--force', 'also evict pods no controller owns (they are gone for good)')
    .option('--wait', 'follow the drain to its end (the default; exit 1 with the reason if it failed)')
    .option('--no-wait', 'answer once the drain is recorded and started')
    .action(
      async (
        name: string,
        node: string,
        o: { timeout: number; force?: boolean; wait?: boolean },
        cmd: Command,
      ) => {
        if (!Number.isInteger(o.timeout) || o.timeout < 1 || o.timeout > DRAIN_TIMEOUT_MAX_S)
          throw invalid(
            '--timeout',
            `${o.timeout} must be a whole number of seconds from 1 to ${DRAIN_TIMEOUT_MAX_S}`,
          );
        const { client, format } = ctx(cmd);
        let r = await client.post<DrainView>(nodePath(name, node, 'drain'), {
          timeoutSeconds: o.timeout,
          ...(o.force ? { force: true } : {}),
        });
        const say = (v: DrainView) => {
          if (format === 'table')
            process.stderr.write(`drain ${v.operation}: ${node} ${v.message ?? v.step ?? 'pending'}\n`);
        };
        // A region taking the drain over starts its clock again: the wait allows for one.
        const end = Date.now() + (2 * o.timeout + 300) * 1000;
        let last = `${r.step}|${r.message}`;
        if (o.wait !== false && r.state === 'running') say(r);
        while (o.wait !== false && (r.state === 'running' || r.state === 'paused')) {
          if (Date.now() > end)
            throw invalid(
              '--timeout',
              `drain ${r.operation} is still ${r.state} (${r.message ?? r.step ?? 'pending'}); follow it with \`ingot cluster operations ${name}\``,
            );
          await sleep(1000);
          r = await client.get<DrainView>(nodePath(name, node, 'drain'));
          const now = `${r.step}|${r.message}`;
          if (now !== last && r.state === 'running') say(r);
          last = now;
        }
        if (!printData(r, format))
          process.stdout.write(
            r.state === 'succeeded'
              ? `${node} drained and cordoned: ${r.evicted.length} pod(s) evicted${list(r.evicted)}, ${r.kept.length} kept${list(r.kept)} (DaemonSet, mirror, finished); \`ingot cluster uncordon ${name} ${node}\` when done\n`
              : r.state === 'running' || r.state === 'paused'
                ? `drain ${r.operation} of ${node} started (at most ${r.timeoutSeconds} s); \`ingot cluster operations ${name}\` follows it\n`
                : `drain ${r.operation} of ${node} ${r.state}: ${r.reason}\n`,
          );
        if (r.state !== 'succeeded' && r.state !== 'running' && r.state !== 'paused') process.exitCode = 1;
      },
    );

  cluster
    .command('uncordon <name> <node>')
    .description('make a drained node schedulable again')
    .action(async (name: string, node: string, _o: unknown, cmd: Command) => {
      const { client, format } = ctx(cmd);
      const r = await client.post<{ node: string; schedulable: boolean }>(
        nodePath(name, node, 'uncordon'),
        {},
      );
      if (printData(r, format)) return;
      process.stdout.write(`${node} is schedulable again\n`);
    });
}
