/** `ingot machine events <machine> [-f]`: the timeline, and with -f the live stream. */
import type { Command } from 'commander';
import type { Client } from '../client.ts';
import { ctx } from '../context.ts';
import { printData } from '../output.ts';
import { resolveId } from './machine-ref.ts';

export interface Event {
  id: number;
  at: string;
  type: string;
  level: string;
  actor: string;
  message: string;
  machineId: string | null;
}

export const eventLine = (e: Event) =>
  `${e.at}  ${e.level.padEnd(7)} ${e.type.padEnd(22)} ${e.message}  [${e.actor}]\n`;

/**
 * The latest `limit` events of a timeline, oldest first (what `tail` shows: a long-lived
 * machine's first events are not what its user is after); says on stderr when earlier ones
 * were left out.
 */
export async function latestEvents(client: Client, path: string, limit: number): Promise<Event[]> {
  const events = await client.get<Event[]>(`${path}?newest=true&limit=${limit}`);
  if (events.length === limit) process.stderr.write(`(the latest ${limit} events; --limit N for more)\n`);
  return events;
}

export function registerMachineEvents(machine: Command): void {
  machine
    .command('events <machine>')
    .description('the machine’s timeline; -f follows it live')
    .option('-f, --follow', 'keep streaming new events')
    .option('--limit <n>', 'how many of the latest events', (v) => Number(v), 200)
    .action(async (ref, o, cmd) => {
      const { client, format } = ctx(cmd);
      const id = await resolveId(client, ref);
      const events = await latestEvents(client, `/api/v1/machines/${id}/events`, o.limit);
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
