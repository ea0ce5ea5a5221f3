/** `ingot machine <action> <machines...>` and `ingot machine power`: the lifecycle actions, on many machines at once. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { IngotError, invalid, toIngotError } from '../../core/errors.ts';
import { exitFor } from '../client.ts';
import { collect, ctx } from '../context.ts';
import { printData } from '../output.ts';
import { type Machine, resolveId } from './machine-ref.ts';
import { waitForJob } from './machine-wait.ts';

export function registerMachineActions(machine: Command): void {
  const act = (name: string, action: string, description: string) =>
    machine
      .command(`${name} <machines...>`)
      .description(description)
      .option('--wait', 'follow the workflow until it ends; exit 7 if it fails')
      .option('--timeout <s>', 'with --wait: give up after this many seconds', (v) => Number(v), 3600)
      .option('--comment <text>', 'why (goes on the timeline)')
      .option('--param <k=v>', 'workflow parameter (e.g. image=debian-12); repeat for more', collect)
      .action(async (refs: string[], o, cmd) => runAction(cmd, refs, action, o));

  act('commission', 'commission', 'network-boot, inventory and test; ends ready').option(
    '--tests <list>',
    'hardware tests to run, comma-separated: smart, disk-read, memory, cpu',
  );
  act('allocate', 'allocate', 'reserve a ready machine');
  act('deploy', 'deploy', 'write the OS and boot it; ends deployed')
    .option('--image <name>', 'OS image (ingot image ls); default: the region’s only ready OS image')
    .option('--user-data <file>', 'cloud-init user-data for the deployed OS (- for stdin)')
    .option(
      '--network-config <file>',
      'netplan v2 network-config (bond, VLANs, static address) for the deployed OS (- for stdin)',
    )
    .option('--ssh-key <file>', 'SSH public key file for the OS’s default user; repeat for more', collect)
    .option('--disk <name>', 'disk to write (default: the first)');
  act('redeploy', 'redeploy', 'write an OS image again onto a deployed machine and boot it; ends deployed')
    .option('--image <name>', 'OS image (ingot image ls); default: the region’s only ready OS image')
    .option('--user-data <file>', 'cloud-init user-data for the deployed OS (- for stdin)')
    .option('--network-config <file>', 'netplan v2 network-config for the deployed OS (- for stdin)');
  act('release', 'release', 'wipe disks and return to ready').option(
    '--wipe <mode>',
    'quick (signatures, first and last MiB) or secure (erase or zero-fill the whole disk)',
  );
  act('abort', 'abort', 'stop the running workflow');
  act('rescue', 'rescue', 'boot the ephemeral OS for repair');
  act('exit-rescue', 'exit-rescue', 'leave rescue');
  act('mark-broken', 'mark-broken', 'take out of service');
  act('mark-fixed', 'mark-fixed', 'return to service');
  act('retire', 'retire', 'retire for good');

  machine
    .command('power <op> <machines...>')
    .description('power on, off or cycle through the BMC')
    .option('--wait', 'wait until done')
    .option('--timeout <s>', 'with --wait: give up after this many seconds', (v) => Number(v), 600)
    .action(async (op: string, refs: string[], o, cmd) => {
      if (!['on', 'off', 'cycle'].includes(op)) throw invalid('power', `"${op}" is not on, off or cycle`);
      await runAction(cmd, refs, `power-${op}`, o);
    });
}

async function runAction(
  cmd: Command,
  refs: string[],
  action: string,
  o: {
    wait?: boolean;
    timeout: number;
    comment?: string;
    param?: string[];
    tests?: string;
    image?: string;
    userData?: string;
    networkConfig?: string;
    sshKey?: string[];
    disk?: string;
    wipe?: string;
  },
): Promise<void> {
  const { client, format } = ctx(cmd);
  const params: Record<string, unknown> = Object.fromEntries(
    (o.param ?? []).map((kv) => [kv.split('=')[0], kv.split('=').slice(1).join('=')]),
  );
  const file = (f: string, what: string) => {
    try {
      return readFileSync(f === '-' ? 0 : f, 'utf8');
    } catch (e) {
      throw invalid(what, `cannot read ${f}: ${(e as Error).message}`);
    }
  };
  if (o.tests) params.tests = o.tests;
  if (o.image) params.image = o.image;
  if (o.userData) params.userData = file(o.userData, '--user-data');
  if (o.networkConfig) params.networkConfig = file(o.networkConfig, '--network-config');
  if (o.sshKey?.length)
    params.sshKeys = o.sshKey.flatMap((f) => file(f, '--ssh-key').split('\n')).filter((k) => k.trim());
  if (o.disk) params.disk = o.disk;
  if (o.wipe) params.wipe = o.wipe;
  const results: {
    machine: string;
    ok: boolean;
    state?: string;
    job?: string | null;
    error?: string;
    exit?: number;
  }[] = [];
  const errors: IngotError[] = [];
  await Promise.all(
    refs.map(async (ref) => {
      try {
        const id = await resolveId(client, ref);
        const r = await client.post<{ machine: Machine; job: { id: string } | null }>(
          `/api/v1/machines/${id}/actions/${action}`,
          {
            comment: o.comment,
            params: Object.keys(params).length ? params : undefined,
          },
        );
        if (o.wait && r.job) {
          await waitForJob(client, r.job.id, {
            timeoutMs: o.timeout * 1000,
            quiet: format !== 'table',
            label: r.machine.hostname,
          });
        }
        const now = o.wait ? await client.get<Machine>(`/api/v1/machines/${id}`) : r.machine;
        results.push({ machine: r.machine.hostname, ok: true, state: now.state, job: r.job?.id ?? null });
      } catch (e) {
        const err = toIngotError(e);
        errors.push(err);
        results.push({ machine: ref, ok: false, error: err.message, exit: exitFor(err) });
      }
    }),
  );
  if (!printData(results, format)) {
    for (const r of results) {
      if (r.ok)
        process.stdout.write(`${r.machine}: ${action} ${o.wait ? 'done' : 'accepted'} (${r.state})\n`);
      else process.stderr.write(`ingot: ${refs.length > 1 ? `${r.machine}: ` : ''}${r.error}\n`);
    }
  }
  if (errors.length > 0) {
    // The first failure's code decides the exit code; each failure was printed above.
    throw new IngotError(errors[0].code, `${action} failed for ${errors.length} of ${refs.length} machines`, {
      details: { silent: refs.length === 1 || format !== 'table' },
    });
  }
}
