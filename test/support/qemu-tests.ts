/**
 * The test files that boot QEMU VMs take turns: on this 2-core host, one file's VMs and image
 * builds starve another's (a VM waiting minutes for a slot, timing checks missed). Held from a
 * file's `before` to its `after`; a holder that died is taken over (src/host/vm-slots.ts).
 * `npm test`'s runner (scripts/test.ts) schedules them itself and lets two run at the end of a
 * run, when nothing else is left (INGOT_QEMU_TEST_SLOTS=2).
 */
import { acquireHostSlot } from '../../src/host/vm-slots.ts';

export function holdQemuTests(file: string): Promise<() => void> {
  return acquireHostSlot('qemu-tests', Number(process.env.INGOT_QEMU_TEST_SLOTS ?? 1), file, 45 * 60_000);
}
