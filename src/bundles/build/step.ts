/**
 * Running the build's commands: every command line and its output go to the build log, a
 * failure names the command and the log's last lines. Heavy commands run under `nice`.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs';

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
  /** Run under `nice -n 19` (the compile; the machine is shared). */
  readonly nice?: boolean;
}

export class Step {
  readonly log: string;
  constructor(log: string) {
    this.log = log;
  }

  note(line: string): void {
    appendFileSync(this.log, `${line}\n`);
  }

  /** Runs `cmd args` with stdout and stderr appended to the log; rejects naming the command. */
  run(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<void> {
    return this.#spawn(cmd, args, o, false).then(() => undefined);
  }

  /** Runs `cmd args` and returns its stdout (stderr to the log). */
  capture(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<string> {
    return this.#spawn(cmd, args, o, true);
  }

  #spawn(cmd: string, args: readonly string[], o: RunOptions, keep: boolean): Promise<string> {
    const [c, a] = o.nice ? ['nice', ['-n', '19', cmd, ...args]] : [cmd, [...args]];
    this.note(`$ ${[c, ...a].join(' ')}${o.cwd ? `   (in ${o.cwd})` : ''}`);
    const fd = openSync(this.log, 'a');
    const env: Record<string, string | undefined> = { ...process.env, LC_ALL: 'C', ...o.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    return new Promise((resolve, reject) => {
      const child = spawn(c, a, { cwd: o.cwd, env, stdio: ['ignore', keep ? 'pipe' : fd, fd] });
      const chunks: Buffer[] = [];
      child.stdout?.on('data', (d: Buffer) => chunks.push(d));
      child.on('error', (e) => {
        closeSync(fd);
        reject(
          new Error(
            `${cmd}: ${e.message}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (not installed?)' : ''}`,
          ),
        );
      });
      child.on('close', (code, signal) => {
        closeSync(fd);
        if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'));
        else
          reject(
            new Error(
              `${cmd} ${args.slice(0, 4).join(' ')}… failed (${signal ?? `exit ${code}`}); ${this.tail()}`,
            ),
          );
      });
    });
  }

  /** The log's last lines, for an error message. */
  tail(lines = 15): string {
    try {
      const all = readFileSync(this.log, 'utf8').trimEnd().split('\n');
      return `last lines of ${this.log}:\n${all.slice(-lines).join('\n')}`;
    } catch {
      return `see ${this.log}`;
    }
  }
}
