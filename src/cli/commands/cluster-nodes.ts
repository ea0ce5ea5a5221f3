/**
 * `ingot cluster drain|uncordon NAME NODE`: one node of a running cluster. The drain goes
 * through the Eviction API and honours PodDisruptionBudgets: when one still holds a pod at the
 * timeout it stops with exit code 4 (a conflict) and names the PDB; the node stays cordoned.
 */
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { ctx } from '../context.ts';
import { printData } from '../output.ts';

const nodePath = (name: string, node: string, verb: string) =>
  `/api/v1/clusters/${encodeURIComponent(name)}/nodes/${encodeURIComponent(node)}/${verb}`;

/** The region answers a drain when it is done; the CLI's HTTP client waits 300 s at most. */
const MAX_TIMEOUT_S = 280;

export function registerClusterNodes(cluster: Command): void {
  cluster
    .command('drain <name> <node>')
    .description(
      'cordon the node and evict its pods through the Eviction API, honouring PodDisruptionBudgets (exit 4 naming the PDB that holds it)',
    )
    .option(
      '--timeout <s>',
      `how long refused evictions are retried (at most ${MAX_TIMEOUT_S})`,
      (v) => Number(v),
      120,
    )
    .option('--force', 'also evict pods no controller owns (they are gone for good)')
    .action(async (name: string, node: string, o: { timeout: number; force?: boolean }, cmd: Command) => {
      if (!Number.isInteger(o.timeout) || o.timeout < 1 || o.timeout > MAX_TIMEOUT_S)
        throw invalid(
          '--timeout',
          `${o.timeout} must be a whole number of seconds from 1 to ${MAX_TIMEOUT_S}`,
        );
      const { client, format } = ctx(cmd);
      const r = await client.post<{ node: string; evicted: string[]; kept: string[] }>(
        nodePath(name, node, 'drain'),
        {
          timeoutSeconds: o.timeout,
          ...(o.force ? { force: true } : {}),
        },
      );
      if (printData(r, format)) return;
      process.stdout.write(
        `${node} drained and cordoned: ${r.evicted.length} pod(s) evicted${r.evicted.length ? ` (${r.evicted.join(', ')})` : ''}, ${r.kept.length} kept (DaemonSet, mirror, finished); \`ingot cluster uncordon ${name} ${node}\` when done\n`,
      );
    });

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
