/**
 * The node agent's phase reporting (src/agent/node/tasks/bootstrap.sh), in isolation and many
 * times over: its watcher reports phases every 2 s while the script runs and is killed when the
 * script ends, and the rendered scripts write through tee (BOOTSTRAP_OUTPUT). Here each report
 * takes 0.3 s (a loaded rack), and the script says its last phases in a burst and ends while the
 * watcher is reporting: every phase must still be reported, in order, none lost (CI, 2026-12-03:
 * a worker's `kubeadm-join-done` never reached the timeline; the agent before the fix failed
 * this in 3 runs of 3). Eight runs side by side (~5 s); test/node-agent.test.ts runs the whole
 * agent against the rack.
 */
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BOOTSTRAP_OUTPUT } from '../src/cluster/render/bootstrap.ts';
import { BOOTSTRAP_PHASE_PREFIX } from '../src/core/node-agent-protocol.ts';

const execFile = promisify(execFileCb);
const TASK = new URL('../src/agent/node/tasks/bootstrap.sh', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'ingot-phases-'));
after(() => rmSync(root, { recursive: true, force: true }));

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

async function runOnce(i: number): Promise<string[]> {
  const run = join(root, String(i));
  mkdirSync(run);
  const script = [
    ...BOOTSTRAP_OUTPUT(join(run, 'tee.log')),
    `echo "${BOOTSTRAP_PHASE_PREFIX}a"`,
    'sleep 1.5',
    'for i in $(seq 1 300); do echo "kubeadm output line $i" >&2; done',
    ...NAMES.slice(1).map((p) => `echo "${BOOTSTRAP_PHASE_PREFIX}${p}"`),
    // Ends while the watcher (first round at 2 s) is in the middle of reporting the burst.
    `sleep 0.$((5 + ${'$'}RANDOM % 5))`,
  ].join('\n');
  // The agent's shell (dash, as on Debian) with the rack calls stood in for: a report is a line
  // in a file and takes 0.3 s.
  const harness = [
    `RUN=${run}`,
    'progress() { sleep 0.3; echo "$1" >>"$RUN/reported"; }',
    'die() { echo "DIE $*" >>"$RUN/reported"; exit 1; }',
    "say() { :; }; node_facts() { echo '{}'; }",
    'T_ROLE=worker',
    `T_SCRIPT=$(cat <<'INGOT_EOF'\n${script}\nINGOT_EOF\n)`,
    `. ${TASK}`,
    '(do_bootstrap) >"$RUN/log" 2>&1',
  ].join('\n');
  await execFile('sh', ['-c', harness], { timeout: 30_000 });
  return readFileSync(join(run, 'reported'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('phase '))
    .map((l) => l.slice('phase '.length));
}

describe('the node agent’s phase reports', () => {
  it('reports every phase in order when the script ends in the middle of a report (8 runs)', async () => {
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => runOnce(i)));
    for (const [i, reported] of runs.entries()) {
      // A phase whose report was cut by the kill is sent again: once or twice, never missing.
      const unique = reported.filter((p, k) => p !== reported[k - 1]);
      assert.deepEqual(unique, NAMES, `run ${i} reported ${reported.join(' ')}`);
    }
  });
});
