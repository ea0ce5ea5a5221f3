/**
 * Kernel modules for the boot image, from the extracted `linux-image-*` package: the ones the
 * recipe names (virtio, common server NICs and storage controllers, the filesystems the agent
 * mounts) plus what they depend on, read from each module's own `.modinfo` (`depends=`,
 * `softdep=`) since the package ships no modules.dep (depmod runs in its postinst). Missing names
 * are skipped (built in, or not built for this kernel).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface ModuleSet {
  readonly version: string;
  /** Paths relative to lib/modules/<version>/, sorted. */
  readonly files: string[];
  /** Asked-for names found neither as a module nor built in. */
  readonly missing: string[];
}

const norm = (n: string): string => n.replace(/-/g, '_');

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.ko(\.(xz|zst|gz))?$/.test(e.name)) out.push(p);
  }
}

/** `depends=` and `softdep=pre:` names from a module file's .modinfo strings. */
export function moduleDeps(ko: Buffer): string[] {
  const text = ko.toString('latin1');
  const deps: string[] = [];
  for (const m of text.matchAll(/\0depends=([^\0]*)\0/g)) deps.push(...m[1].split(',').filter(Boolean));
  for (const m of text.matchAll(/\0softdep=([^\0]*)\0/g)) {
    const pre = /pre:\s*([^:]*?)(?:\s+post:|$)/.exec(m[1]);
    if (pre) deps.push(...pre[1].split(/\s+/).filter(Boolean));
  }
  return deps.map(norm);
}

/** `wanted` and their dependencies, from the kernel tree at `root` (…/lib/modules/<version>). */
export function selectModules(root: string, version: string, wanted: readonly string[]): ModuleSet {
  const files: string[] = [];
  walk(join(root, 'kernel'), files);
  const byName = new Map<string, string>();
  for (const f of files) byName.set(norm(f.replace(/^.*\//, '').replace(/\.ko(\.\w+)?$/, '')), f);
  const builtin = existsSync(join(root, 'modules.builtin'))
    ? new Set(
        readFileSync(join(root, 'modules.builtin'), 'utf8')
          .split('\n')
          .map((l) => norm(l.replace(/^.*\//, '').replace(/\.ko$/, ''))),
      )
    : new Set<string>();
  const chosen = new Set<string>();
  const missing: string[] = [];
  const queue = wanted.map(norm);
  while (queue.length) {
    const name = queue.shift()!;
    if (chosen.has(name)) continue;
    const f = byName.get(name);
    if (!f) {
      if (!builtin.has(name) && wanted.map(norm).includes(name)) missing.push(name);
      continue;
    }
    chosen.add(name);
    queue.push(...moduleDeps(readFileSync(f)));
  }
  return {
    version,
    files: [...chosen].map((n) => relative(root, byName.get(n)!)).sort(),
    missing: missing.sort(),
  };
}
