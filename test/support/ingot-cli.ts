/** `ingot` as a child process, as a user runs it: exit code, stdout and stderr, no input. */
import { spawn } from 'node:child_process';

const BIN = new URL('../../bin/ingot', import.meta.url).pathname;

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `ingot ARGS` with this process's environment plus ENV (e.g. a test region's `cliEnv`). */
export function runIngot(
  args: string[],
  o: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { cwd: o.cwd, env: { ...process.env, ...o.env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end();
  });
}
