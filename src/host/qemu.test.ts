import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { TCG_CPU, vmBaseArgs } from './qemu.ts';

const QEMU = '/usr/bin/qemu-system-x86_64';

/**
 * QMP commands sent to QEMU on stdio, the answers that carry a `return`. With `-S` the machine
 * is built but its CPU never runs a guest instruction: this reads what a VM would get.
 */
function qmp(args: readonly string[], commands: readonly object[]): Promise<unknown[]> {
  const lines = [{ execute: 'qmp_capabilities' }, ...commands, { execute: 'quit' }];
  return new Promise((resolve, reject) => {
    const p = execFile(QEMU, [...args, '-qmp', 'stdio'], { timeout: 30_000 }, (err, stdout) => {
      if (err) return reject(new Error(`${err.message}\n${stdout}`));
      const answers = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { return?: unknown })
        .filter((a) => a.return !== undefined)
        .map((a) => a.return);
      resolve(answers.slice(1, 1 + commands.length));
    });
    p.stdin?.end(`${lines.map((c) => JSON.stringify(c)).join('\n')}\n`);
  });
}

type Expansion = { model: { props: Record<string, boolean> } };

describe('what QEMU gives our VMs', { skip: existsSync(QEMU) ? false : 'needs qemu-system-x86' }, () => {
  it("gives TCG guests QEMU's emulated qemu64 without SVM, and KVM guests QEMU's default CPU", async () => {
    const [name, ...flags] = TCG_CPU.split(',');
    const props = Object.fromEntries(flags.map((f) => [f.slice(1), f.startsWith('+')]));
    const [max, ours] = (await qmp(
      ['-nodefaults', '-machine', 'none', '-accel', 'tcg', '-display', 'none'],
      [
        { execute: 'query-cpu-model-expansion', arguments: { type: 'full', model: { name: 'max' } } },
        { execute: 'query-cpu-model-expansion', arguments: { type: 'full', model: { name, props } } },
      ],
    )) as Expansion[];
    assert.equal(ours.model.props.svm, false, 'no SVM: the guest loads no kvm_amd');
    for (const [f, on] of Object.entries(props))
      if (on) assert.equal(max.model.props[f], true, `QEMU's TCG emulates ${f} (it is in -cpu max)`);
    // zstd's BMI2 decoder fails under QEMU 7.2's TCG (docs/lab.md): the image write would fail.
    assert.notEqual(ours.model.props.bmi2, true, 'no BMI2');
    const tcg = vmBaseArgs('tcg', 128);
    assert.equal(tcg[tcg.indexOf('-cpu') + 1], TCG_CPU);
    assert.ok(!vmBaseArgs('kvm', 128).includes('-cpu'));
  });

  it('gives a BIOS (pc) VM no floppy drive, and a UEFI (q35) VM starts with the same arguments', async () => {
    const base = vmBaseArgs('tcg', 128).filter((a) => a !== '-nographic');
    const floppies = async (machine: string) => {
      const [tree] = (await qmp(
        [...base, '-machine', machine, '-display', 'none', '-S'],
        [{ execute: 'human-monitor-command', arguments: { 'command-line': 'info qtree' } }],
      )) as string[];
      return (tree.match(/dev: floppy,/g) ?? []).length;
    };
    assert.equal(await floppies('pc'), 0, 'no floppy on the pc machine');
    assert.equal(await floppies('q35'), 0, 'q35 starts, with no floppy');
    // The check can see one: QEMU's pc machine has a floppy drive by default.
    const [tree] = (await qmp(
      ['-accel', 'tcg', '-m', '128', '-machine', 'pc', '-display', 'none', '-S'],
      [{ execute: 'human-monitor-command', arguments: { 'command-line': 'info qtree' } }],
    )) as string[];
    assert.match(tree, /dev: floppy,/);
  });
});
