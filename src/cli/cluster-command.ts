/**
 * `ingot cluster plan|render`: plan a Cluster file onto machines and render everything the nodes
 * and the cluster need. Offline for now: machines come from an inventory file in the API's
 * machine shape (`--inventory`); planning against a region's ready machines comes with the
 * region's cluster API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse, stringify } from 'yaml';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';
import { loadClusterFiles, planCluster, renderClusterToDir } from '../cluster/index.ts';
import { envName, type SecretSource } from '../cluster/render/secrets.ts';

interface Flags {
  file: string;
  inventory?: string;
  region?: string;
  secrets?: string;
  output?: string;
}

function requireInventory(flags: Flags): string {
  if (flags.region) {
    throw new IngotError(
      ErrorCode.Config,
      'planning against a region is not available yet; export its machines (GET /v1/machines and /v1/subnets) into a file and pass --inventory FILE',
    );
  }
  if (!flags.inventory) {
    throw invalid(
      '--inventory',
      'is required: pass an inventory file (machines and subnets in the API shape, see examples/inventory.yaml)',
    );
  }
  return flags.inventory;
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
    .description('plan and render Kubernetes clusters from a Cluster file');

  cluster
    .command('plan')
    .description('pick machines, spread them over failure domains, check etcd quorum, assign addresses')
    .requiredOption('-f, --file <cluster.yaml>', 'the Cluster file')
    .option('--inventory <machines.yaml>', 'offline inventory: machines and subnets in the API shape')
    .option('--region <url>', 'plan against a region (not available yet)')
    .action((flags: Flags, cmd: Command) => {
      const { spec, inventory } = loadClusterFiles(flags.file, requireInventory(flags));
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
    .option('--region <url>', 'render against a region (not available yet)')
    .action(async (flags: Flags, cmd: Command) => {
      const dir = output(cmd);
      if (!dir || dir === 'table')
        throw invalid(
          '-o',
          'name the output directory: ingot cluster render -f cluster.yaml --inventory machines.yaml -o out/',
        );
      const { spec, inventory } = loadClusterFiles(flags.file, requireInventory(flags));
      const reused = existsSync(join(dir, 'pki', 'tokens.yaml'));
      const r = await renderClusterToDir(spec, inventory, dir, secretSource(flags.secrets));
      const soonest = [...r.pki.expiry].sort((a, b) => (a.notAfter < b.notAfter ? -1 : 1))[0];
      process.stdout.write(
        `rendered ${r.artifacts.length} files for ${r.plan.nodes.length} nodes into ${dir}\n` +
          `PKI ${reused ? 'reused from' : 'generated in'} ${join(dir, 'pki')} (keys mode 0600); first expiry: ${soonest.file} on ${soonest.notAfter}\n`,
      );
    });
}
