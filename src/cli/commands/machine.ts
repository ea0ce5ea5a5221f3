/**
 * `ingot machine`: enrol, list, show, change and delete machines. The lifecycle actions are
 * machine-actions.ts, the timeline machine-events.ts.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseBmcUrl } from '../../core/bmc-address.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { collect, ctx } from '../context.ts';
import { ago, bytes, printData, table } from '../output.ts';
import { registerMachineActions } from './machine-actions.ts';
import { registerMachineEvents } from './machine-events.ts';
import { type Machine, resolveId } from './machine-ref.ts';

export function registerMachine(program: Command): void {
  const machine = program.command('machine').alias('machines').description('enrol, list and drive machines');
  addCommand(machine);
  lsCommand(machine);
  showCommand(machine);
  setCommand(machine);
  rmCommand(machine);
  registerMachineActions(machine);
  registerMachineEvents(machine);
}

function readPassword(o: { bmcPasswordFile?: string; bmcPasswordStdin?: boolean }): string | undefined {
  if (o.bmcPasswordFile) return readFileSync(o.bmcPasswordFile, 'utf8').replace(/\r?\n$/, '');
  if (o.bmcPasswordStdin) return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  return process.env.INGOT_BMC_PASSWORD;
}

function printMachine(m: Machine): void {
  const rows: [string, string][] = [
    ['id', m.id],
    ['hostname', m.hostname],
    ['state', `${m.state} (${ago(m.stateEnteredAt)} ago): ${m.stateReason}`],
    ['power', m.powerState],
    ['bmc', m.bmc ? `${m.bmc.address} as ${m.bmc.username}` : '-'],
    ['nics', m.nics.map((n) => `${n.mac}${n.boot ? ' (boot)' : ''}`).join(', ')],
    ['cpu', m.cpu ? `${m.cpu.cores} cores${m.cpu.model ? ` ${m.cpu.model}` : ''}` : '-'],
    ['memory', bytes(m.memoryBytes)],
    ['disks', m.disks.map((d) => `${d.name} ${bytes(d.sizeBytes)}`).join(', ') || '-'],
    ['location', `zone ${m.zone}, rack ${m.rack}, pool ${m.pool}`],
    ['tags', m.tags.join(', ') || '-'],
    ['owner', m.owner || '-'],
    ['cluster', m.cluster ? `${m.cluster.cluster} (${m.cluster.role})` : '-'],
    ['actions', m.allowedActions.join(', ')],
  ];
  process.stdout.write(rows.map(([k, v]) => `${k.padEnd(9)} ${v}`).join('\n') + '\n');
}

function addCommand(machine: Command): void {
  machine
    .command('add')
    .description(
      'enrol a machine by its BMC and boot NIC (password from INGOT_BMC_PASSWORD, --bmc-password-file or --bmc-password-stdin)',
    )
    .requiredOption('--bmc <url>', 'BMC address: redfish+https://host, redfish+http://host:port, ipmi://host')
    .requiredOption('--bmc-user <name>', 'BMC user name')
    .option('--bmc-password-file <file>', 'read the BMC password from a file')
    .option('--bmc-password-stdin', 'read the BMC password from stdin')
    .requiredOption('--mac <mac>', 'NIC MAC; repeat for more NICs (the first is the boot NIC)', collect)
    .option('--hostname <name>', 'hostname (default: from the boot MAC)')
    .option('--arch <arch>', 'amd64 or arm64')
    .option('--tag <tag>', 'tag; repeat for more', collect)
    .option('--zone <zone>')
    .option('--rack <rack>')
    .option('--pool <pool>')
    .action(async (o, cmd) => {
      const { client, format } = ctx(cmd);
      // Before anything is sent: a password in the URL would be echoed wherever the address is.
      parseBmcUrl(o.bmc, '--bmc');
      const password = readPassword(o);
      if (!password)
        throw new IngotError(
          ErrorCode.Validation,
          '--bmc-password-file, --bmc-password-stdin or INGOT_BMC_PASSWORD is required (passwords never go on the command line)',
        );
      const m = await client.post<Machine>('/api/v1/machines', {
        hostname: o.hostname,
        arch: o.arch,
        bmc: { address: o.bmc, username: o.bmcUser, password },
        nics: (o.mac as string[]).map((mac, i) => ({ mac, boot: i === 0 })),
        tags: o.tag,
        zone: o.zone,
        rack: o.rack,
        pool: o.pool,
      });
      if (!printData(m, format)) process.stdout.write(`${m.id}\n`);
      process.stderr.write(
        `machine ${m.hostname} enrolled (${m.state}); next: ingot machine commission ${m.hostname}\n`,
      );
    });
}

function lsCommand(machine: Command): void {
  machine
    .command('ls')
    .description('list machines')
    .option('--state <states>', 'comma-separated states')
    .option('--tag <tags>', 'comma-separated tags (all must match)')
    .option('--zone <zone>')
    .option('--rack <rack>')
    .option('--pool <pool>')
    .option('--owner <owner>')
    .option('-q, --query <text>', 'hostname substring or MAC')
    .option('--limit <n>', 'page size', (v) => Number(v), 500)
    .option('--all', 'fetch every page')
    .action(async (o, cmd) => {
      const { client, format } = ctx(cmd);
      const qs = new URLSearchParams();
      for (const k of ['state', 'tag', 'zone', 'rack', 'pool', 'owner'] as const) if (o[k]) qs.set(k, o[k]);
      if (o.query) qs.set('q', o.query);
      qs.set('limit', String(o.limit));
      const items: Machine[] = [];
      let total = 0;
      let cursor: string | null = null;
      do {
        if (cursor) qs.set('cursor', cursor);
        const page: { items: Machine[]; next: string | null; total: number } = await client.get(
          `/api/v1/machines?${qs}`,
        );
        items.push(...page.items);
        total = page.total;
        cursor = o.all ? page.next : null;
      } while (cursor);
      if (printData({ items, total }, format)) return;
      process.stdout.write(
        table(
          ['ID', 'HOSTNAME', 'STATE', 'POWER', 'ZONE', 'RACK', 'POOL', 'CLUSTER', 'CPU', 'MEMORY', 'TAGS'],
          items.map((m) => [
            m.id,
            m.hostname,
            m.state,
            m.powerState,
            m.zone,
            m.rack,
            m.pool,
            m.cluster ? `${m.cluster.cluster}/${m.cluster.role}` : '',
            m.cpu?.cores,
            bytes(m.memoryBytes),
            m.tags.join(','),
          ]),
        ),
      );
      if (items.length < total)
        process.stderr.write(`${items.length} of ${total} machines shown; --all fetches every page\n`);
    });
}

function showCommand(machine: Command): void {
  machine
    .command('show <machine>')
    .description('show a machine (id or hostname)')
    .action(async (ref, _o, cmd) => {
      const { client, format } = ctx(cmd);
      const m = await client.get<Machine>(`/api/v1/machines/${await resolveId(client, ref)}`);
      if (!printData(m, format)) printMachine(m);
    });
}

function setCommand(machine: Command): void {
  machine
    .command('set <machine>')
    .description('change hostname, location, tags or BMC')
    .option('--hostname <name>')
    .option('--zone <zone>')
    .option('--rack <rack>')
    .option('--pool <pool>')
    .option('--tag <tag>', 'replace the tags; repeat for more', collect)
    .option('--bmc <url>')
    .option('--bmc-user <name>')
    .option('--bmc-password-file <file>')
    .option('--bmc-password-stdin')
    .action(async (ref, o, cmd) => {
      const { client, format } = ctx(cmd);
      const id = await resolveId(client, ref);
      const body: Record<string, unknown> = {
        hostname: o.hostname,
        zone: o.zone,
        rack: o.rack,
        pool: o.pool,
        tags: o.tag,
      };
      if (o.bmc) parseBmcUrl(o.bmc, '--bmc');
      if (o.bmc || o.bmcUser) {
        const cur = await client.get<Machine>(`/api/v1/machines/${id}`);
        body.bmc = {
          address: o.bmc ?? cur.bmc?.address,
          username: o.bmcUser ?? cur.bmc?.username,
          password: readPassword(o),
        };
      }
      const m = await client.patch<Machine>(`/api/v1/machines/${id}`, body);
      if (!printData(m, format)) printMachine(m);
    });
}

function rmCommand(machine: Command): void {
  machine
    .command('rm <machine>')
    .description('delete a machine (new, ready, broken, retired or failed)')
    .action(async (ref, _o, cmd) => {
      const { client } = ctx(cmd);
      await client.delete(`/api/v1/machines/${await resolveId(client, ref)}`);
      process.stderr.write(`machine ${ref} deleted\n`);
    });
}
