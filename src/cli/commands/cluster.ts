/**
 * `ingot cluster plan|render`: plan a Cluster file onto machines and render everything the nodes
 * and the cluster need. Machines come from an inventory file in the API's machine shape
 * (`--inventory`, offline) or from a region's ready machines and subnets (`--region`, using
 * the global --url/--token like every other command).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse, stringify } from 'yaml';
import { invalid } from '../../core/errors.ts';
import { planCluster, renderClusterToDir } from '../../cluster/index.ts';
import { type Inventory, parseInventory } from '../../cluster/inventory.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { ctx } from '../context.ts';
import { registerClusterLifecycle } from './cluster-lifecycle.ts';
import { registerClusterBackup } from './cluster-backup.ts';
import { registerClusterNodes } from './cluster-nodes.ts';
import { registerClusterScale } from './cluster-scale.ts';
import { registerClusterOperations } from './cluster-operations.ts';
import { envName, type SecretSource } from '../../cluster/render/secrets.ts';

interface Flags {
  file: string;
  inventory?: string;
  region?: boolean;
  secrets?: string;
  output?: string;
}

/** The machines to plan on: an inventory file, or a region's ready machines and subnets. */
async function loadInventory(flags: Flags, cmd: Command): Promise<Inventory> {
  if (flags.inventory && flags.region)
    throw invalid('--region', 'use either --inventory FILE or --region, not both');
  if (flags.inventory) {
    if (!existsSync(flags.inventory)) throw invalid('--inventory', `${flags.inventory} does not exist`);
    return parseInventory(readFileSync(flags.inventory, 'utf8'), flags.inventory);
  }
  if (!flags.region) {
    throw invalid(
      '--inventory',
      'is required without --region: pass an inventory file (machines and subnets in the API shape, see examples/inventory.yaml), or --region to plan on the ready machines of the region at --url/INGOT_URL',
    );
  }
  const { client } = ctx(cmd);
  const machines: unknown[] = [];
  let cursor: string | null = null;
  do {
    const qs = `state=ready&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: { items: unknown[]; next: string | null } = await client.get(`/api/v1/machines?${qs}`);
    machines.push(...page.items);
    cursor = page.next;
  } while (cursor);
  const subnets = await client.get<unknown[]>('/api/v1/subnets');
  return parseInventory(stringify({ machines, subnets }), `region ${client.target.url}`);
}

/** Secrets come from a YAML map file (`--secrets`) or from INGOT_SECRET_<NAME> variables. */
export function secretSource(file: string | undefined, env: NodeJS.ProcessEnv = process.env): SecretSource {
  let fromFile: Record<string, unknown> = {};
  if (file) {
    if (!existsSync(file)) throw invalid('--secrets', `${file} does not exist`);
    fromFile = (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  }
  return (name) => {
    const v = fromFile[name] ?? env[`INGOT_SECRET_${envName(name)}`];
    return v === undefined ? undefined : String(v);
  };
}

function output(cmd: Command): string {
  const o = cmd.optsWithGlobals() as { output?: string };
  return o.output ?? 'table';
}

export function registerClusterCommand(program: Command): void {
  const cluster = program
    .command('cluster')
    .description(
      'Kubernetes clusters from a Cluster file: plan and render offline, or create and run them in a region',
    );

  cluster
    .command('plan')
    .description('pick machines, spread them over failure domains, check etcd quorum, assign addresses')
    .requiredOption('-f, --file <cluster.yaml>', 'the Cluster file')
    .option('--inventory <machines.yaml>', 'offline inventory: machines and subnets in the API shape')
    .option('--region', 'plan on the ready machines of the region at --url / INGOT_URL')
    .action(async (flags: Flags, cmd: Command) => {
      const spec = parseClusterFile(readFileSync(flags.file, 'utf8'), flags.file);
      const inventory = await loadInventory(flags, cmd);
      const { plan, text } = planCluster(spec, inventory);
      const format = output(cmd);
      if (format === 'json') process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      else if (format === 'yaml') process.stdout.write(stringify(plan, { sortMapEntries: true }));
      else if (format === 'table') process.stdout.write(text);
      else throw invalid('--output', `"${format}" must be table, json or yaml`);
    });

  cluster
    .command('render')
    .description('render cloud-init, configs, manifests, router snippets and PKI into a directory')
    .requiredOption('-f, --file <cluster.yaml>', 'the Cluster file')
    .option('--inventory <machines.yaml>', 'offline inventory: machines and subnets in the API shape')
    .option('--secrets <secrets.yaml>', 'secret values by name (else INGOT_SECRET_<NAME> variables)')
    .option('--region', 'render for the ready machines of the region at --url / INGOT_URL')
    .action(async (flags: Flags, cmd: Command) => {
      const dir = output(cmd);
      if (!dir || dir === 'table')
        throw invalid(
          '-o',
          'name the output directory: ingot cluster render -f cluster.yaml --inventory machines.yaml -o out/',
        );
      const spec = parseClusterFile(readFileSync(flags.file, 'utf8'), flags.file);
      const inventory = await loadInventory(flags, cmd);
      const reused = existsSync(join(dir, 'pki', 'tokens.yaml'));
      const r = await renderClusterToDir(spec, inventory, dir, secretSource(flags.secrets));
      const soonest = [...r.pki.expiry].sort((a, b) => (a.notAfter < b.notAfter ? -1 : 1))[0];
      process.stdout.write(
        `rendered ${r.artifacts.length} files for ${r.plan.nodes.length} nodes into ${dir}\n` +
          `PKI ${reused ? 'reused from' : 'generated in'} ${join(dir, 'pki')} (keys mode 0600); first expiry: ${soonest.file} on ${soonest.notAfter}\n`,
      );
    });

  registerClusterLifecycle(cluster);
  registerClusterNodes(cluster);
  registerClusterBackup(cluster);
  registerClusterScale(cluster);
  registerClusterOperations(cluster);
}
