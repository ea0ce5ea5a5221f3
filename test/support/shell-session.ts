/**
 * One bash session fed one command at a time, as a user types them: variables, `export`s and
 * aliases carry from one command to the next. Each command's stdin is /dev/null (no prompt can
 * hang the test) and its stderr goes with its stdout; `run` resolves with the exit status and
 * the output once the command has finished.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

export interface Ran {
  readonly code: number;
  readonly output: string;
}

export class ShellSession {
  readonly #sh: ChildProcessWithoutNullStreams;
  #out = '';
  #n = 0;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    // Its own process group: close() ends the shell and whatever it still runs, by that group's id.
    this.#sh = spawn('bash', ['--noprofile', '--norc'], { cwd, env, detached: true });
    this.#sh.stdout.on('data', (d) => (this.#out += d));
    this.#sh.stderr.on('data', (d) => (this.#out += d));
    this.#sh.stdin.write('shopt -s expand_aliases\n');
  }

  /** Runs COMMAND; rejects when it has not finished within TIMEOUTMS (the session is then unusable). */
  run(command: string, timeoutMs: number): Promise<Ran> {
    const n = ++this.#n;
    const start = this.#out.length;
    const marker = new RegExp(`__INGOT_RC_${n}__ (\\d+)\\n`);
    this.#sh.stdin.write(`{ ${command}\n} </dev/null 2>&1; echo "__INGOT_RC_${n}__ $?"\n`);
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const poll = setInterval(() => {
        const m = marker.exec(this.#out.slice(start));
        if (m) {
          clearInterval(poll);
          resolve({ code: Number(m[1]), output: this.#out.slice(start, start + m.index) });
        } else if (this.#sh.exitCode !== null || Date.now() > deadline) {
          clearInterval(poll);
          reject(
            new Error(
              `${command}: ${this.#sh.exitCode !== null ? 'the shell exited' : `still running after ${timeoutMs / 1000} s`}\n${this.#out.slice(start)}`,
            ),
          );
        }
      }, 200);
    });
  }

  close(): void {
    this.#sh.stdin.end();
    if (this.#sh.exitCode === null && this.#sh.pid)
      try {
        process.kill(-this.#sh.pid, 'SIGKILL');
      } catch {
        // already gone
      }
  }
}
