import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseBmcUrl } from '../../core/bmc-address.ts';
import { type Client, CliError, Exit } from '../client.ts';
import { collect, ctx } from '../context.ts';
import { ago, bytes, printData, table } from '../output.ts';
import { waitForJob } from './machine-wait.ts';

interface Machine {
  id: string;
  hostname: string;
  state: string;
  stateReason: string;
  stateEnteredAt: string;
  powerState: string;
  bmc: { address: string; username: string } | null;
  nics: { mac: string; boot: boolean; speedMbps?: number }[];
  disks: { name: string; sizeBytes: number; model?: string }[];
  cpu: { cores: number; model?: string } | null;
  memoryBytes: number | null;
  tags: string[];
  zone: string;
  rack: string;
  pool: string;
  owner: string;
  allowedActions: string[];
}
interface Event {
  id: number;
  at: string;
  type: string;
  level: string;
  actor: string;
  message: string;
  machineId: string | null;
}

/** Accepts a machine id (`m-…`) or a hostname. */
async function resolveId(client: Client, ref: string): Promise<string> {
  if (/^m-[0-9a-z]{26}$/.test(ref)) return ref;
  const page = await client.get<{ items: Machine[] }>(
    `/api/v1/machines?q=${encodeURIComponent(ref)}&limit=50`,
  );
  const hit = page.items.find(
    (m) => m.hostname === ref.toLowerCase() || m.nics.some((n) => n.mac === ref.toLowerCase()),
  );
  if (!hit)
    throw new CliError(
      `no machine named ${ref}; list them with \`ingot machine ls\``,
      Exit.NotFound,
      'INGOT_MACHINE_NOT_FOUND',
    );
  return hit.id;
}

function readPassword(o: { bmcPasswordFile?: string; bmcPasswordStdin?: boolean }): string | undefined {
  if (o.bmcPasswordFile) return readFileSync(o.bmcPasswordFile, 'utf8').replace(/\r?\n$/, '');
  if (o.bmcPasswordStdin) return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  return process.env.INGOT_BMC_PASSWORD;
}

const eventLine = (e: Event) =>
  `${e.at}  ${e.level.padEnd(7)} ${e.type.padEnd(22)} ${e.message}  [${e.actor}]\n`;

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
    ['actions', m.allowedActions.join(', ')],
  ];
  process.stdout.write(rows.map(([k, v]) => `${k.padEnd(9)} ${v}`).join('\n') + '\n');
}

export function registerMachine(program: Command): void {
  const machine = program.command('machine').alias('machines').description('enrol, list and drive machines');

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
        throw new CliError(
          '--bmc-password-file, --bmc-password-stdin or INGOT_BMC_PASSWORD is required (passwords never go on the command line)',
          Exit.Usage,
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
          ['ID', 'HOSTNAME', 'STATE', 'POWER', 'ZONE', 'RACK', 'POOL', 'CPU', 'MEMORY', 'TAGS'],
          items.map((m) => [
            m.id,
            m.hostname,
            m.state,
            m.powerState,
            m.zone,
            m.rack,
            m.pool,
            m.cpu?.cores,
            bytes(m.memoryBytes),
            m.tags.join(','),
          ]),
        ),
      );
      if (items.length < total)
        process.stderr.write(`${items.length} of ${total} machines shown; --all fetches every page\n`);
    });

  machine
    .command('show <machine>')
    .description('show a machine (id or hostname)')
    .action(async (ref, _o, cmd) => {
      const { client, format } = ctx(cmd);
      const m = await client.get<Machine>(`/api/v1/machines/${await resolveId(client, ref)}`);
      if (!printData(m, format)) printMachine(m);
    });

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

  machine
    .command('rm <machine>')
    .description('delete a machine (new, ready, broken, retired or failed)')
    .action(async (ref, _o, cmd) => {
      const { client } = ctx(cmd);
      await client.delete(`/api/v1/machines/${await resolveId(client, ref)}`);
      process.stderr.write(`machine ${ref} deleted\n`);
    });

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
    .option('--ssh-key <file>', 'SSH public key file for the OS’s default user; repeat for more', collect)
    .option('--disk <name>', 'disk to write (default: the first)');
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
      if (!['on', 'off', 'cycle'].includes(op))
        throw new CliError(`power: "${op}" is not on, off or cycle`, Exit.Usage);
      await runAction(cmd, refs, `power-${op}`, o);
    });

  machine
    .command('events <machine>')
    .description('the machine’s timeline; -f follows it live')
    .option('-f, --follow', 'keep streaming new events')
    .option('--limit <n>', 'how many past events', (v) => Number(v), 200)
    .action(async (ref, o, cmd) => {
      const { client, format } = ctx(cmd);
      const id = await resolveId(client, ref);
      const events = await client.get<Event[]>(`/api/v1/machines/${id}/events?limit=${o.limit}`);
      if (!o.follow && printData(events, format)) return;
      const emit = (e: Event) =>
        format === 'table'
          ? process.stdout.write(eventLine(e))
          : process.stdout.write(`${JSON.stringify(e)}\n`);
      for (const e of events) emit(e);
      if (!o.follow) return;
      const abort = new AbortController();
      process.on('SIGINT', () => abort.abort());
      const last = events.at(-1)?.id ?? 0;
      await client.stream(
        `/api/v1/events?machine=${id}&after=${last}`,
        (e) => emit(e as unknown as Event),
        abort.signal,
      );
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
      throw new CliError(`${what}: cannot read ${f}: ${(e as Error).message}`, Exit.Usage);
    }
  };
  if (o.tests) params.tests = o.tests;
  if (o.image) params.image = o.image;
  if (o.userData) params.userData = file(o.userData, '--user-data');
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
        const err = e as CliError;
        results.push({ machine: ref, ok: false, error: err.message, exit: err.exitCode ?? Exit.Error });
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
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new CliError(
      `${action} failed for ${failed.length} of ${refs.length} machines`,
      (failed[0].exit ?? Exit.Error) as Exit,
      'INGOT_CLI',
      {
        silent: refs.length === 1 || format !== 'table',
      },
    );
  }
}
