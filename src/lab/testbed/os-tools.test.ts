/**
 * The bed's journalctl stand-in (os-tools.ts), run by sh with its log directory moved to a
 * temporary one: the last N lines of the unit's log, a clear refusal without a unit or a log.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { JOURNALCTL } from './os-tools.ts';

const dir = mkdtempSync(join(tmpdir(), 'ingot-bed-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const journalctl = (...args: string[]) =>
  spawnSync('sh', ['-c', JOURNALCTL.replaceAll('/var/log/', `${dir}/`), 'journalctl', ...args], {
    encoding: 'utf8',
  });

describe("the test bed's journalctl", () => {
  writeFileSync(
    join(dir, 'kubelet.log'),
    `${Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n')}\n`,
  );

  it('prints the last -n lines of the unit log, as `journalctl -u kubelet -n 25 --no-pager -o cat` asks', () => {
    const r = journalctl('-u', 'kubelet.service', '-n', '3', '--no-pager', '-o', 'cat');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'line 38\nline 39\nline 40\n');
  });

  it('refuses a unit with no log, and a call without -u, naming what is missing', () => {
    const none = journalctl('-u', 'etcd');
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no log for etcd/);
    const bare = journalctl('-n', '5');
    assert.equal(bare.status, 1);
    assert.match(bare.stderr, /only -u UNIT/);
  });
});
