import type { Command } from 'commander';
import { Client } from './client.ts';
import { resolveTarget } from './config.ts';
import { type Format, parseFormat } from './output.ts';

/** The client and output format from the global options (--url, --token, -o). */
export function ctx(cmd: Command, o2: { allowCsv?: boolean } = {}): { client: Client; format: Format } {
  const o = cmd.optsWithGlobals() as { url?: string; token?: string; fingerprint?: string; output?: string };
  return { client: new Client(resolveTarget(o)), format: parseFormat(o.output, o2.allowCsv) };
}

export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
