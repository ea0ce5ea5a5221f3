/**
 * Running commands in the image's root directory while it is being built: /proc, /sys, /dev
 * (and the package cache) are mounted for the duration of `withChroot` and always unmounted
 * after, even when a step throws. A build directory left by a killed build is cleaned by
 * `cleanStaleBuild` (unmount everything below it, then delete without crossing filesystems).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, IngotError } from '../../core/errors.ts';

export interface RunOptions {
  env?: Record<string, string>;
  /** Appended to the build log; the last lines go into the error on failure. */
  log?: string;
  input?: string;
}

/** Runs a command, streaming its output to the build log; throws with the output's tail on failure. */
export function runLogged(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    if (o.log) appendFileSync(o.log, `\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args as string[], {
      env: { ...process.env, ...o.env },
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let tail = '';
    const keep = (b: Buffer, isOut: boolean) => {
      const s = b.toString();
      if (isOut && out.length < 8 * 2 ** 20) out += s;
      tail = (tail + s).slice(-4000);
      if (o.log) appendFileSync(o.log, s);
    };
    child.stdout?.on('data', (b: Buffer) => keep(b, true));
    child.stderr?.on('data', (b: Buffer) => keep(b, false));
    if (o.input !== undefined) child.stdin?.end(o.input);
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new IngotError(
          ErrorCode.Config,
          e.code === 'ENOENT' ? `${cmd} is not installed (apt-get install ${cmd})` : `${cmd}: ${e.message}`,
        ),
      ),
    );
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else
        reject(
          new IngotError(
            ErrorCode.Config,
            `${cmd} ${args.slice(0, 6).join(' ')} failed (${signal ?? `exit ${code}`})${o.log ? `; full log: ${o.log}` : ''}:\n${tail.trim().split('\n').slice(-15).join('\n')}`,
          ),
        );
    });
  });
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
export function mountsBelow(dir: string): string[] {
  const prefix = dir.replace(/\/+$/, '');
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4].replace(/\\040/g, ' '))
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`));
  return points.sort((a, b) => b.length - a.length);
}

export async function unmountBelow(dir: string): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    const points = mountsBelow(dir);
    if (!points.length) return;
    for (const p of points) {
      await runLogged('umount', [p]).catch(() => runLogged('umount', ['-l', p]).catch(() => {}));
    }
  }
  const left = mountsBelow(dir);
  if (left.length)
    throw new IngotError(ErrorCode.Internal, `could not unmount ${left.join(', ')}; unmount them by hand`);
}

export interface Chroot {
  readonly root: string;
  /** Runs `args` inside the chroot with a non-interactive apt/debconf environment. */
  run(args: readonly string[], env?: Record<string, string>): Promise<string>;
}

/**
 * Mounts what package scripts need, runs `fn`, unmounts. `aptCache` (a host directory) is
 * bind-mounted on /var/cache/apt/archives so downloaded packages outlive the build.
 */
export async function withChroot<T>(
  root: string,
  o: { log: string; aptCache?: string; env?: Record<string, string> },
  fn: (c: Chroot) => Promise<T>,
): Promise<T> {
  const env = {
    DEBIAN_FRONTEND: 'noninteractive',
    DEBCONF_NONINTERACTIVE_SEEN: 'true',
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    ...o.env,
  };
  try {
    await runLogged('mount', ['-t', 'proc', 'proc', join(root, 'proc')], { log: o.log });
    await runLogged('mount', ['-t', 'sysfs', 'sysfs', join(root, 'sys')], { log: o.log });
    await runLogged('mount', ['--bind', '/dev', join(root, 'dev')], { log: o.log });
    await runLogged('mount', ['--bind', '/dev/pts', join(root, 'dev/pts')], { log: o.log });
    if (o.aptCache) {
      mkdirSync(o.aptCache, { recursive: true });
      mkdirSync(join(root, 'var/cache/apt/archives'), { recursive: true });
      await runLogged('mount', ['--bind', o.aptCache, join(root, 'var/cache/apt/archives')], { log: o.log });
    }
    return await fn({
      root,
      run: (args, extra) => runLogged('chroot', [root, ...args], { env: { ...env, ...extra }, log: o.log }),
    });
  } finally {
    await unmountBelow(root);
  }
}
