import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { TCG_CPU, vmBaseArgs } from './qemu.ts';

const QEMU = '/usr/bin/qemu-system-x86_64';

/** QEMU's own answer (QMP on stdio, no machine, no guest): the full expansion of each model. */
function expand(
  models: readonly { name: string; props?: Record<string, boolean> }[],
): Promise<Record<string, boolean>[]> {
  const cmds = [
    { execute: 'qmp_capabilities' },
    ...models.map((model) => ({ execute: 'query-cpu-model-expansion', arguments: { type: 'full', model } })),
    { execute: 'quit' },
  ];
  return new Promise((resolve, reject) => {
    const p = execFile(
      QEMU,
      ['-nodefaults', '-machine', 'none', '-accel', 'tcg', '-display', 'none', '-qmp', 'stdio'],
      { timeout: 20_000 },
      (err, stdout) => {
        if (err) return reject(err);
        const answers = stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { return?: { model?: { props: Record<string, boolean> } } })
          .filter((a) => a.return?.model)
          .map((a) => a.return!.model!.props);
        resolve(answers);
      },
    );
    p.stdin?.end(`${cmds.map((c) => JSON.stringify(c)).join('\n')}\n`);
  });
}

describe('the CPU of TCG guests', { skip: existsSync(QEMU) ? false : 'needs qemu-system-x86' }, () => {
  it('asks only for features that this QEMU emulates under TCG, and the guest gets each of them', async () => {
    const [name, ...flags] = TCG_CPU.split(',');
    const props = Object.fromEntries(flags.map((f) => [f.slice(1), f.startsWith('+')]));
    const [max, ours] = await expand([{ name: 'max' }, { name, props }]);
    for (const [f, on] of Object.entries(props)) {
      assert.equal(ours[f], on, `${f} is ${on ? 'on' : 'off'} in ${TCG_CPU}`);
      if (on) assert.equal(max[f], true, `QEMU's TCG emulates ${f} (it is in -cpu max)`);
    }
    // What the guest's OpenSSL and zstd look for.
    for (const f of ['ssse3', 'sse4.1', 'sse4.2', 'aes', 'pclmulqdq']) assert.equal(ours[f], true, f);
  });

  it('is given to TCG guests only, and no VM gets QEMU default devices', () => {
    const tcg = vmBaseArgs('tcg', 512);
    assert.equal(tcg[tcg.indexOf('-cpu') + 1], TCG_CPU);
    assert.ok(!vmBaseArgs('kvm', 512).includes('-cpu'), 'KVM keeps QEMU default CPU');
    for (const a of ['tcg', 'kvm'] as const) assert.ok(vmBaseArgs(a, 512).includes('-nodefaults'));
  });
});
