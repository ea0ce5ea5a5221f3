/**
 * Running the Debian tools bundles are read with (tar, skopeo). A missing tool is a
 * configuration error naming its package; a failing one hands back its stderr.
 */
import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import { ErrorCode, IngotError } from '../core/errors.ts';

const execFile = promisify(execFileCb);

/** The Debian package of each tool, for the "not installed" message. */
const PACKAGES: Record<string, string> = { tar: 'tar', skopeo: 'skopeo' };

export class ToolFailed extends Error {
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super(message);
    this.name = 'ToolFailed';
    this.stderr = stderr;
  }
}

/**
 * Runs `cmd args` and returns stdout. Throws IngotError(Config) when the tool is missing and
 * ToolFailed (with stderr) when it exits non-zero, so callers can say which file was bad.
 */
export async function runTool(
  cmd: string,
  args: readonly string[],
  o: { signal?: AbortSignal; timeoutMs?: number; maxBuffer?: number; env?: Record<string, string> } = {},
): Promise<string> {
  try {
    const r = await execFile(cmd, args as string[], {
      signal: o.signal,
      timeout: o.timeoutMs ?? 15 * 60_000,
      maxBuffer: o.maxBuffer ?? 16 * 2 ** 20,
      encoding: 'utf8',
      env: { ...process.env, ...o.env, LC_ALL: 'C' },
    });
    return r.stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string | number };
    if (err.code === 'ENOENT')
      throw new IngotError(
        ErrorCode.Config,
        `reading bundles needs ${cmd} on the region's host: apt-get install ${PACKAGES[cmd] ?? cmd}`,
      );
    if (o.signal?.aborted) throw err;
    const stderr = (err.stderr ?? '').trim();
    throw new ToolFailed(`${cmd} failed: ${lastLine(stderr) || err.message}`, stderr);
  }
}

/** The last non-empty line of a tool's stderr, without skopeo's `time=… level=fatal msg=` prefix. */
export function lastLine(stderr: string): string {
  const line =
    stderr
      .split('\n')
      .filter((l) => l.trim())
      .pop() ?? '';
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  return (m ? m[1].replace(/\\"/g, '"') : line).slice(0, 500);
}
