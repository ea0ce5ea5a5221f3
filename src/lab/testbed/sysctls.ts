/**
 * Host-wide sysctls a kubelet rewrites when it starts (setupKernelTunables), even from inside
 * a network namespace, and the inotify limits a rendered bootstrap's `sysctl --system` raises
 * (src/cluster/render/host.ts). Several beds may run on one host at once (CI runs two), so the
 * host's values are held in common: the first bed up saves them (the host's own, before any
 * kubelet of a bed), each bed registers itself, and the last one down restores them. A bed that
 * restored them while another ran would leave that one's kubelets under the host's values and
 * find them rewritten by that bed's next kubelet start.
 *
 * The registry is a directory on the host's /run (gone at reboot, as the values are): `saved`
 * (the host's values, JSON) and one file per bed holding them, under a lock directory. A
 * holder whose bed is gone (its hub namespace missing a minute after it registered: a bed
 * killed without its `down`) no longer counts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KUBELET_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'fs.inotify.max_user_instances',
  'fs.inotify.max_user_watches',
] as const;

export interface SysctlHost {
  /** Where the values are (`/proc/sys`). */
  readonly proc: string;
  /** The registry of the beds holding them. */
  readonly registry: string;
  /** Whether the bed's hub namespace still exists (a holder without one is stale). */
  readonly bedAlive: (bed: string) => boolean;
}

export const HOST: SysctlHost = {
  proc: '/proc/sys',
  registry: '/run/ingot-testbed/sysctls',
  bedAlive: (bed) => existsSync(`/run/netns/itb-${bed}-hub`),
};

/** How long a holder counts without its bed's namespace (the bed is still coming up). */
const GRACE_MS = 60_000;

const file = (h: SysctlHost, name: string) => join(h.proc, name.replace(/\./g, '/'));

/** The values as they are now. */
export function saveSysctls(h: SysctlHost = HOST): Record<string, string> {
  return Object.fromEntries(KUBELET_SYSCTLS.map((n) => [n, readFileSync(file(h, n), 'utf8').trim()]));
}

/** Writes back every saved value that differs; returns the names it restored. */
export function restoreSysctls(saved: Record<string, string>, h: SysctlHost = HOST): string[] {
  const restored: string[] = [];
  for (const [n, v] of Object.entries(saved)) {
    if (!(KUBELET_SYSCTLS as readonly string[]).includes(n)) continue;
    if (readFileSync(file(h, n), 'utf8').trim() === v) continue;
    writeFileSync(file(h, n), v);
    restored.push(n);
  }
  return restored;
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Runs `fn` holding the registry's lock (a directory: mkdir is atomic); a lock older than 10 s is a dead holder's. */
function locked<T>(h: SysctlHost, fn: () => T): T {
  mkdirSync(join(h.registry, 'beds'), { recursive: true });
  const lock = join(h.registry, 'lock');
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (i > 1000) throw new Error(`the test beds' sysctl registry ${h.registry} stayed locked`);
      pause(20);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The beds holding the values now (stale holders dropped). */
function liveHolders(h: SysctlHost): string[] {
  const dir = join(h.registry, 'beds');
  const live: string[] = [];
  for (const bed of existsSync(dir) ? readdirSync(dir) : []) {
    const since = Number(readFileSync(join(dir, bed), 'utf8')) || 0;
    if (h.bedAlive(bed) || Date.now() - since < GRACE_MS) live.push(bed);
    else rmSync(join(dir, bed), { force: true });
  }
  return live;
}

/**
 * Registers `bed` as holding the host's values and returns them: saved now if no other bed
 * holds them, else the ones the first bed saved.
 */
export function holdSysctls(bed: string, h: SysctlHost = HOST): Record<string, string> {
  return locked(h, () => {
    const saved = join(h.registry, 'saved');
    const others = liveHolders(h).filter((b) => b !== bed);
    if (others.length === 0 || !existsSync(saved)) writeFileSync(saved, JSON.stringify(saveSysctls(h)));
    writeFileSync(join(h.registry, 'beds', bed), String(Date.now()));
    return JSON.parse(readFileSync(saved, 'utf8')) as Record<string, string>;
  });
}

/**
 * `bed` lets go of the values: the last bed restores the host's (`fallback`: what this bed saved
 * itself, for a registry lost meanwhile). Returns the names restored, and the beds still
 * holding them (none: the host has its values back).
 */
export function releaseSysctls(
  bed: string,
  fallback: Record<string, string>,
  h: SysctlHost = HOST,
): { restored: string[]; holders: string[] } {
  return locked(h, () => {
    rmSync(join(h.registry, 'beds', bed), { force: true });
    const holders = liveHolders(h);
    if (holders.length) return { restored: [], holders };
    const saved = join(h.registry, 'saved');
    const values = existsSync(saved)
      ? (JSON.parse(readFileSync(saved, 'utf8')) as Record<string, string>)
      : fallback;
    rmSync(saved, { force: true });
    return { restored: restoreSysctls(values, h), holders };
  });
}

/**
 * The host's own values: the ones the first bed saved while beds hold them, else the current
 * ones. A test compares the host with these after its bed is down and no bed holds them.
 */
export function hostSysctls(h: SysctlHost = HOST): { values: Record<string, string>; holders: string[] } {
  // A host where no bed can run (not root: the registry cannot be made) has no holders.
  if (!existsSync(h.registry)) {
    try {
      mkdirSync(h.registry, { recursive: true });
    } catch {
      return { values: saveSysctls(h), holders: [] };
    }
  }
  return locked(h, () => {
    const holders = liveHolders(h);
    const saved = join(h.registry, 'saved');
    const values =
      holders.length && existsSync(saved)
        ? (JSON.parse(readFileSync(saved, 'utf8')) as Record<string, string>)
        : saveSysctls(h);
    return { values, holders };
  });
}
