/** Renders every example Cluster file into a temp dir; shared by the cluster tests (not a test itself). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type Artifact, loadClusterFiles, type Plan, renderClusterToDir } from '../src/cluster/index.ts';

export const EXAMPLES = join(import.meta.dirname, '..', 'examples');
export const INVENTORY = join(EXAMPLES, 'inventory.yaml');

export function exampleFiles(): string[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml') && f !== 'inventory.yaml' && !f.startsWith('secrets'))
    .sort()
    .map((f) => join(EXAMPLES, f));
}

export function exampleSecrets(): (name: string) => string | undefined {
  const s = parse(readFileSync(join(EXAMPLES, 'secrets.example.yaml'), 'utf8')) as Record<string, string>;
  return (name) => s[name];
}

export interface Rendered {
  readonly example: string;
  readonly dir: string;
  readonly plan: Plan;
  readonly artifacts: readonly Artifact[];
}

/** Every example rendered under `root` (the caller removes it: test/support/scratch.ts). */
export async function renderExamples(root: string): Promise<Rendered[]> {
  const out: Rendered[] = [];
  for (const file of exampleFiles()) {
    const { spec, inventory } = loadClusterFiles(file, INVENTORY);
    const dir = join(root, spec.metadata.name);
    const r = await renderClusterToDir(spec, inventory, dir, exampleSecrets());
    out.push({ example: file, dir, plan: r.plan, artifacts: r.artifacts });
  }
  return out;
}

/** Files cloud-init writes on a node, from its user-data (YAML 1.1, as cloud-init reads it). */
export function writeFilesOf(userData: string): { path: string; content: string }[] {
  const doc = parse(userData, { version: '1.1' }) as { write_files: { path: string; content: string }[] };
  return doc.write_files;
}
