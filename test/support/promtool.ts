/**
 * Prometheus' own promtool over Ingot's hardware alert rules (src/health/alerts.yaml): run it,
 * and turn the region's disk gauges from two scrapes into promtool unit-test input series, so a
 * test proves which alerts real SMART reports fire (src/health/alerts.test.ts with smartctl
 * fixtures, test/agent-write.test.ts with a lab VM's own NVMe).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The rules file every alert test loads. */
export const ALERT_RULES = new URL('../../src/health/alerts.yaml', import.meta.url).pathname;

/** Runs promtool in `cwd`; its whole output in the error when it fails. */
export async function promtool(args: string[], cwd: string): Promise<string> {
  try {
    const r = await run('promtool', args, { cwd });
    return r.stdout;
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${x.stderr ?? ''}${x.stdout ?? ''}`);
  }
}

/** The disk series of a scrape: `name{labels}` → value. */
export function diskSeries(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n'))
    if (line.startsWith('ingot_disk_')) {
      const i = line.lastIndexOf(' ');
      out.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
  return out;
}

/** Two scrapes replayed for promtool: the first for 10 minutes, the second for 10, a sample a minute. */
export function replay(
  first: Map<string, number>,
  second: Map<string, number>,
): { series: string; values: string }[] {
  return [...second.keys()].map((s) => ({
    series: s,
    values: `${first.get(s) ?? second.get(s)}x10 ${second.get(s)}x10`,
  }));
}

/** Writes the rules and `tests` (JSON is YAML) into `dir` and runs `promtool test rules` on them. */
export async function testRules(dir: string, tests: unknown, file = 'chain.test.yaml'): Promise<string> {
  copyFileSync(ALERT_RULES, join(dir, 'alerts.yaml'));
  writeFileSync(join(dir, file), JSON.stringify(tests, null, 2));
  return promtool(['test', 'rules', file], dir);
}
