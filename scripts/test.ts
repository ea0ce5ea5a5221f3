/**
 * `npm test`'s runner: every `src/**` and `test/**` test file, each in its own `node --test`,
 * three at a time, in the order test/support/schedule.ts gives (the QEMU chain first, one
 * file at a time, the slowest of the rest first). Each file's output is printed in one block
 * when it ends, with its wall time; the end lists the slowest files and the totals. Exits 1 if
 * any file failed. `node scripts/test.ts FILE…` runs only those files.
 *
 * Environment: INGOT_TEST_SLOTS (default 3) files at once; INGOT_TEST_FILE_TIMEOUT_S (default
 * 2400) before a file's process group is killed as hung; INGOT_TEST_DURATIONS_OUT: write each
 * file's seconds there (what test/durations.json is made from).
 */
import { spawn } from 'node:child_process';
import { existsSync, globSync, readFileSync, writeFileSync } from 'node:fs';
import { kindOf, next, order, type TestFile, weigh } from '../test/support/schedule.ts';

const ROOT = new URL('..', import.meta.url).pathname;
process.chdir(ROOT);

const SLOTS = Number(process.env.INGOT_TEST_SLOTS ?? 3);
const FILE_TIMEOUT_S = Number(process.env.INGOT_TEST_FILE_TIMEOUT_S ?? 2400);
const DURATIONS = 'test/durations.json';

const paths =
  process.argv.length > 2
    ? process.argv.slice(2)
    : [...globSync('src/**/*.test.ts'), ...globSync('test/**/*.test.ts')].sort();
const durations: Record<string, number> = existsSync(DURATIONS)
  ? JSON.parse(readFileSync(DURATIONS, 'utf8'))
  : {};
let queued = order(
  paths.map((p) => {
    const source = readFileSync(p, 'utf8');
    return weigh(p, kindOf(source), durations, source);
  }),
);
const running: TestFile[] = [];

interface Done {
  file: TestFile;
  seconds: number;
  code: number | null;
  counts: Record<string, number>;
  out: string;
}
const done: Done[] = [];
const start = Date.now();
const since = () => `${((Date.now() - start) / 1000).toFixed(0)} s`;

/** The spec reporter's summary lines: `ℹ tests 12`, `ℹ pass 11`… */
function countsOf(out: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of out.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm))
    counts[m[1]] = Number(m[2]);
  return counts;
}

/**
 * What the spec reporter says under `✖ failing tests:` (each failed test with its error), or
 * the last lines of the output when a file died without it (a crash, the hung-file kill).
 */
function failureExcerpt(out: string, maxChars = 6000): string {
  const at = out.lastIndexOf('✖ failing tests:');
  const text = at >= 0 ? out.slice(at) : out.split('\n').slice(-40).join('\n');
  return text.length > maxChars ? `${text.slice(0, maxChars)}\n…` : text.trimEnd();
}

function run(file: TestFile): Promise<void> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    process.stdout.write(`▷ ${since()}: ${file.path} (${file.kind}) started\n`);
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', file.path], {
      // The runner keeps QEMU files apart itself; their own lock lets the tail's two run at once.
      env: { ...process.env, INGOT_QEMU_TEST_SLOTS: '2', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const hung = setTimeout(() => {
      out += `\n✖ ${file.path} ran longer than ${FILE_TIMEOUT_S} s: its process group was killed\n`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, FILE_TIMEOUT_S * 1000);
    child.on('close', (code) => {
      clearTimeout(hung);
      const seconds = (Date.now() - t0) / 1000;
      const counts = countsOf(out);
      done.push({ file, seconds, code, counts, out });
      const mark = code === 0 ? '✔' : '✖';
      process.stdout.write(
        `\n━━ ${mark} ${file.path}: ${seconds.toFixed(1)} s, exit ${code} (at ${since()})\n${out.trimEnd()}\n`,
      );
      resolve();
    });
  });
}

await new Promise<void>((allDone) => {
  const pump = () => {
    for (;;) {
      const f = next({ queued, running, slots: SLOTS });
      if (!f) break;
      queued = queued.filter((q) => q !== f);
      running.push(f);
      void run(f).then(() => {
        running.splice(running.indexOf(f), 1);
        if (queued.length === 0 && running.length === 0) allDone();
        else pump();
      });
    }
  };
  if (queued.length === 0) allDone();
  else pump();
});

const total: Record<string, number> = {};
for (const d of done) for (const [k, v] of Object.entries(d.counts)) total[k] = (total[k] ?? 0) + v;
const failed = done.filter((d) => d.code !== 0);
process.stdout.write('\n━━ slowest files\n');
for (const d of [...done].sort((a, b) => b.seconds - a.seconds).slice(0, 15))
  process.stdout.write(`${d.seconds.toFixed(0).padStart(6)} s  ${d.file.path}\n`);
process.stdout.write(
  `\n━━ ${done.length} files in ${since()}: ${Object.entries(total)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}\n`,
);
if (process.env.INGOT_TEST_DURATIONS_OUT) {
  const out = Object.fromEntries(
    [...done]
      .sort((a, b) => a.file.path.localeCompare(b.file.path))
      .map((d) => [d.file.path, Math.round(d.seconds)]),
  );
  writeFileSync(process.env.INGOT_TEST_DURATIONS_OUT, `${JSON.stringify(out, null, 2)}\n`);
}
if (failed.length) {
  // CI shows only the tail of the log: repeat each failure's first lines here, at the end.
  for (const d of failed) {
    process.stdout.write(`\n━━ failures in ${d.file.path}\n${failureExcerpt(d.out)}\n`);
  }
  process.stdout.write(`━━ failed: ${failed.map((d) => d.file.path).join(', ')}\n`);
  process.exit(1);
}
