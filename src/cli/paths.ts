/**
 * Path options are resolved to absolute paths once, where the CLI parses them: what a command
 * hands to a child process (the lab's rack and BMC processes) or to code that changes directory
 * (image builds in a chroot) then means the same file as on the user's command line. A relative
 * `--data .ingot` given in the repository directory stays that directory wherever it is used.
 */
import { resolve } from 'node:path';
import { invalid } from '../core/errors.ts';

/** The default data dir, relative to where the command runs (README: `./.ingot`). */
export const DEFAULT_DATA_DIR = './.ingot';
const MAX_PATH = 4096;

/** PATH resolved against CWD; refuses an empty path, a NUL byte or one longer than 4096 bytes. */
export function absolutePath(flag: string, path: string, cwd: string = process.cwd()): string {
  if (path === '') throw invalid(flag, 'must not be empty');
  if (path.includes('\0')) throw invalid(flag, 'must not contain a NUL byte');
  if (Buffer.byteLength(path) > MAX_PATH) throw invalid(flag, `must be at most ${MAX_PATH} bytes`);
  return resolve(cwd, path);
}

/** The data dir option's default: INGOT_DATA, else ./.ingot (made absolute with the other paths). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.INGOT_DATA ?? DEFAULT_DATA_DIR;
}

/** Options (commander's keys → flags) that name directories or files a command passes on. */
export const PATH_OPTIONS: Readonly<Record<string, string>> = {
  data: '--data',
  secretKey: '--secret-key',
  artifacts: '--artifacts',
  tftpRoot: '--tftp-root',
  out: '--out',
  tlsCert: '--tls-cert',
  tlsKey: '--tls-key',
};

/** The options of one command with every PATH_OPTIONS value (given or default) made absolute. */
export function resolvePathOptions(
  opts: Record<string, unknown>,
  cwd: string = process.cwd(),
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, flag] of Object.entries(PATH_OPTIONS)) {
    const v = opts[key];
    if (typeof v === 'string') out[key] = absolutePath(flag, v, cwd);
  }
  return out;
}
