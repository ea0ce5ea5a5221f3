/**
 * The beds' common hold on the host's sysctls (sysctls.ts), on a stand-in /proc/sys and registry
 * in a temporary directory: the first bed saves the host's values, a second one gets those (not
 * the kubelet-rewritten ones), the first one down restores nothing while the second runs, the
 * last one down restores the host's; a holder whose bed is gone stops counting after the grace.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  holdSysctls,
  hostSysctls,
  KUBELET_SYSCTLS,
  releaseSysctls,
  type SysctlHost,
  saveSysctls,
} from './sysctls.ts';

const root = mkdtempSync(join(tmpdir(), 'ingot-sysctls-'));
after(() => rmSync(root, { recursive: true, force: true }));

const alive = new Set<string>();
const h: SysctlHost = {
  proc: join(root, 'proc'),
  registry: join(root, 'run', 'sysctls'),
  bedAlive: (bed) => alive.has(bed),
};
const set = (name: string, v: string) => {
  const f = join(h.proc, name.replace(/\./g, '/'));
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, `${v}\n`);
};
const host = Object.fromEntries(KUBELET_SYSCTLS.map((n, i) => [n, String(i)]));
for (const [n, v] of Object.entries(host)) set(n, v);
/** What a kubelet's start does to the host. */
const kubelet = () => {
  set('vm.overcommit_memory', '1');
  set('kernel.panic', '10');
};

describe("the test beds' hold on the host's sysctls", () => {
  it('saves the host values at the first bed, hands them to the next, restores them at the last bed down only', () => {
    alive.add('a').add('b');
    assert.deepEqual(holdSysctls('a', h), host);
    kubelet();
    assert.deepEqual(holdSysctls('b', h), host, "the second bed gets the host's values, not the kubelet's");
    assert.deepEqual(hostSysctls(h), { values: host, holders: ['a', 'b'] });
    alive.delete('a');
    assert.deepEqual(releaseSysctls('a', {}, h), { restored: [], holders: ['b'] });
    assert.equal(saveSysctls(h)['vm.overcommit_memory'], '1', "left to b's kubelets");
    alive.delete('b');
    const last = releaseSysctls('b', {}, h);
    assert.deepEqual(last.holders, []);
    assert.deepEqual(last.restored.sort(), ['kernel.panic', 'vm.overcommit_memory']);
    assert.deepEqual(saveSysctls(h), host);
    assert.deepEqual(hostSysctls(h), { values: host, holders: [] });
  });

  it("drops a holder whose bed is gone a minute after it registered (a bed killed without its down), and restores from the bed's own values if the registry lost them", () => {
    holdSysctls('c', h);
    writeFileSync(join(h.registry, 'beds', 'c'), String(Date.now() - 120_000));
    kubelet();
    alive.add('d');
    assert.deepEqual(
      holdSysctls('d', h)['vm.overcommit_memory'],
      '1',
      'c no longer counts: d saves what is there now',
    );
    alive.delete('d');
    rmSync(join(h.registry, 'saved'));
    assert.deepEqual(releaseSysctls('d', host, h).restored.sort(), ['kernel.panic', 'vm.overcommit_memory']);
    assert.deepEqual(saveSysctls(h), host);
    assert.equal(readFileSync(join(h.proc, 'kernel/panic'), 'utf8').trim(), host['kernel.panic']);
  });
});
