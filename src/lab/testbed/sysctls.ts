/**
 * Host-wide sysctls a kubelet rewrites when it starts (setupKernelTunables), even from inside
 * a network namespace, and the inotify limits a rendered bootstrap's `sysctl --system` raises
 * (src/cluster/render/host.ts): the bed saves them before its first node starts and restores
 * them when it goes down.
 */
import { readFileSync, writeFileSync } from 'node:fs';

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

const file = (name: string) => `/proc/sys/${name.replace(/\./g, '/')}`;

export function saveSysctls(): Record<string, string> {
  return Object.fromEntries(KUBELET_SYSCTLS.map((n) => [n, readFileSync(file(n), 'utf8').trim()]));
}

/** Writes back every saved value that differs; returns the names it restored. */
export function restoreSysctls(saved: Record<string, string>): string[] {
  const restored: string[] = [];
  for (const [n, v] of Object.entries(saved)) {
    if (!(KUBELET_SYSCTLS as readonly string[]).includes(n)) continue;
    if (readFileSync(file(n), 'utf8').trim() === v) continue;
    writeFileSync(file(n), v);
    restored.push(n);
  }
  return restored;
}
