/**
 * `down` lets go of the host's sysctls while its bed still counts as alive: before its hub
 * namespace goes. Deleting the namespaces first (as until 31a0fb9) opened a window in which a
 * bed coming up found no live holder and saved this bed's kubelet values as the host's (CI
 * rehearsal J, 2026-12-05). A second holder's liveness check, made inside the release, sees
 * whether the hub namespace was still there. Real namespace, stand-in /proc/sys and registry.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { down } from './bed.ts';
import { holdSysctls, KUBELET_SYSCTLS, type SysctlHost } from './sysctls.ts';

const root = process.getuid?.() === 0;

describe('a bed going down', { skip: root ? false : 'needs root (network namespaces)' }, () => {
  const name = `dt${randomBytes(3).toString('hex')}`;
  const hub = `itb-${name}-hub`;
  const dir = mkdtempSync(join(tmpdir(), 'ingot-down-'));
  after(() => {
    if (existsSync(`/run/netns/${hub}`)) execFileSync('ip', ['netns', 'del', hub]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('releases the sysctls before it deletes its hub namespace', async () => {
    let hubAtRelease: boolean | null = null;
    const h: SysctlHost = {
      proc: join(dir, 'proc'),
      registry: join(dir, 'registry'),
      bedAlive: (bed) => {
        if (bed === 'other') hubAtRelease = existsSync(`/run/netns/${hub}`);
        return true;
      },
    };
    for (const n of KUBELET_SYSCTLS) {
      const f = join(h.proc, n.replace(/\./g, '/'));
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, '0\n');
    }
    execFileSync('ip', ['netns', 'add', hub]);
    holdSysctls(name, h);
    holdSysctls('other', h);
    hubAtRelease = null;
    const done = await down({ name, root: join(dir, 'beds'), sysctlHost: h });
    assert.equal(hubAtRelease, true, 'the hub namespace was there when the bed let go of the sysctls');
    assert.equal(existsSync(`/run/netns/${hub}`), false, 'and is gone after');
    assert.deepEqual(readdirSync(join(h.registry, 'beds')), ['other']);
    assert.ok(done.includes('sysctls left to the beds still up (other)'), done.join('; '));
    assert.ok(done.includes(`deleted netns ${hub}`), done.join('; '));
  });
});
