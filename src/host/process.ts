/**
 * Process helpers for this host (the lab, image builds, VM slots): run a command, check and stop
 * PIDs we started.
 */
import { execFile as execFileCb } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ErrorCode, IngotError } from '../core/errors.ts';

const execFile = promisify(execFileCb);

/** Runs `cmd args`; throws an IngotError carrying stderr on failure. */
export async function run(cmd: string, args: readonly string[]): Promise<string> {
  try {
    return (await execFile(cmd, args as string[])).stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string | number };
    const why = err.code === 'ENOENT' ? `${cmd} is not installed` : err.stderr?.trim() || err.message;
    throw new IngotError(ErrorCode.Config, `${cmd} ${args.join(' ')} failed: ${why}`);
  }
}

/** A live process (not a zombie). */
export function alive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The process's command line, or '' if it is gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** TERM, then KILL after `graceMs`. Only ever called with PIDs we started (the lab records them in its state). */
export async function stopPid(pid: number | null | undefined, graceMs = 3000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid!, 'SIGTERM');
  } catch {
    return;
  }
  const end = Date.now() + graceMs;
  while (alive(pid) && Date.now() < end) await sleep(50);
  if (alive(pid)) {
    try {
      process.kill(pid!, 'SIGKILL');
    } catch {
      // gone between the check and the kill
    }
  }
}
