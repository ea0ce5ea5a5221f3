/**
 * Reads the README's commands so tests run what a newcomer reads: the fenced `sh` blocks of one
 * `## ` section, one command per line, with trailing `# comments` dropped (a `#` inside quotes
 * or `$(…)` is kept). README and tests cannot drift.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The text of the README section under `## TITLE`, up to the next `## ` heading. */
export function readmeSection(
  title: string,
  readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'),
): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const rest = readme.slice(start + title.length + 5);
  const end = rest.search(/\n## /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** A command line without its trailing comment: the first `#` after whitespace, outside quotes and $(…). */
export function stripComment(line: string): string {
  let quote = '';
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '$' && line[i + 1] === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (c === '#' && depth === 0 && (i === 0 || /\s/.test(line[i - 1])))
      return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

/** The commands of every ```sh block in SECTION, in order. */
export function shellCommands(section: string): string[] {
  const out: string[] = [];
  for (const m of section.matchAll(/```sh\n([\s\S]*?)```/g))
    for (const line of m[1].split('\n')) {
      const cmd = stripComment(line).trim();
      if (cmd) out.push(cmd);
    }
  return out;
}
