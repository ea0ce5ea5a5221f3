/**
 * The node agent's systemd unit, checked by systemd itself (`systemd-analyze verify`) in a root
 * laid out as the deploy leaves a deployed OS: the agent's files where write-image puts them
 * (src/agent/node/files.ts) and the host's own system units (the targets it orders against).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { skipUnless } from '../../../test/support/needs.ts';
import { NODE_AGENT_PATH, NODE_AGENT_UNIT, nodeAgentFiles } from './files.ts';

describe('the node agent’s systemd unit', {
  skip: skipUnless({
    programs: ['systemd-analyze'],
    files: { systemd: '/usr/lib/systemd/system/sysinit.target' },
  }),
}, () => {
  const root = mkdtempSync(join(tmpdir(), 'ingot-node-unit-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  const verify = () =>
    spawnSync('systemd-analyze', ['verify', `--root=${root}`, NODE_AGENT_UNIT], { encoding: 'utf8' });

  it('passes systemd-analyze verify with no warning where the deploy installs it', () => {
    cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
    for (const [path, f] of Object.entries(nodeAgentFiles())) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), f.content);
      chmodSync(join(root, path), f.mode);
    }
    const r = verify();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings');
  });

  it('is refused when its program is missing (the check is real)', () => {
    rmSync(join(root, NODE_AGENT_PATH));
    const r = verify();
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is not executable/);
  });
});
