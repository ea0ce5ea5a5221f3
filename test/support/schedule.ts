/**
 * The order `npm test` runs the test files in (scripts/test.ts): on this 2-core host the files
 * that boot QEMU VMs take turns (test/support/qemu-tests.ts), and their chain is the longest
 * path of the run. So they start first, one at a time, beside the rest, the slowest of the rest
 * first (longest-processing-time order), at most one Kubernetes test bed beside them while
 * light files are left; once nothing else is left to run, two QEMU files run at once. A file
 * marked to run alone (`ALONE_MARK`) has no test bed beside it. Pure: the runner gives the
 * state, this says what to start next.
 */

export type TestFileKind = 'qemu' | 'bed' | 'plain';

export interface TestFile {
  readonly path: string;
  readonly kind: TestFileKind;
  /** Seconds a previous run took (test/durations.json), or an estimate by kind. */
  readonly weight: number;
  /** A bed or QEMU file that runs with no (other) test bed beside it (`ALONE_MARK` in its source). */
  readonly alone?: boolean;
}

/**
 * What a bed or QEMU file says in its source to run with no other test bed beside it: the
 * 3-control-plane bed (three etcd members, three API servers) beside another bed starved that
 * one's joining kubelet past its TLS bootstrap twice in CI rehearsals (2026-12-04); the lab VM's
 * `kubeadm init` under TCG, with that bed beside it, went silent for 2 min in CI (2026-12-04)
 * and ran 33 min in a rehearsal. A QEMU file so marked queues before the other QEMU files: it
 * starts first, while no bed runs yet, with the light files beside it.
 */
export const ALONE_MARK = 'schedule: no other test bed beside this one';
export const runsAlone = (source: string): boolean => source.includes(ALONE_MARK);

/** What a file is, from its source: it boots QEMU VMs, starts a Kubernetes test bed, or neither. */
export function kindOf(source: string): TestFileKind {
  if (/\bholdQemuTests\(/.test(source)) return 'qemu';
  if (/\bstartBed\(|\bbedName\(/.test(source)) return 'bed';
  return 'plain';
}

const ESTIMATE: Record<TestFileKind, number> = { qemu: 300, bed: 150, plain: 5 };

export function weigh(
  path: string,
  kind: TestFileKind,
  durations: Readonly<Record<string, number>>,
  alone = false,
): TestFile {
  return { path, kind, weight: durations[path] ?? ESTIMATE[kind], ...(alone ? { alone } : {}) };
}

/**
 * Queue order: QEMU files that run alone, the other QEMU files (slowest first), then the rest,
 * slowest first; ties by path.
 */
export function order(files: readonly TestFile[]): TestFile[] {
  const rank = (f: TestFile) => (f.kind === 'qemu' ? (f.alone ? 0 : 1) : 2);
  return [...files].sort((a, b) => rank(a) - rank(b) || b.weight - a.weight || a.path.localeCompare(b.path));
}

export interface SchedulerState {
  /** Not started yet, in queue order. */
  readonly queued: readonly TestFile[];
  /** Running now. */
  readonly running: readonly TestFile[];
  /** Files at once. */
  readonly slots: number;
}

/**
 * The next file to start, or null to wait. One QEMU file at a time while other files are queued
 * or running; two once only QEMU files are left (two TCG VMs on two cores, nothing beside them).
 * One test-bed file at a time while plain files are still queued or a QEMU file runs: two beds
 * beside a QEMU file and its image build starved a joining kubelet past kubeadm's wait (CI,
 * 2026-12-03), and the lab VM's own kubeadm init past its 10 min (a CI rehearsal, 2026-12-04:
 * the beds took two once the plain files had started, while lab-cluster ran); the plain files
 * fill the third slot meanwhile, and once they are all started and no VM runs the beds take two.
 * No bed starts while a QEMU file that runs alone is queued or running, and such a file waits
 * for the running beds.
 */
export function next(s: SchedulerState): TestFile | null {
  if (s.running.length >= s.slots) return null;
  const count = (kind: TestFileKind) => s.running.filter((f) => f.kind === kind).length;
  const othersLeft = s.queued.some((f) => f.kind !== 'qemu') || s.running.some((f) => f.kind !== 'qemu');
  const qemuCap = othersLeft ? 1 : 2;
  const bedCap = s.queued.some((f) => f.kind === 'plain') || count('qemu') > 0 ? 1 : 2;
  // A file that runs alone: it waits for the running beds, and no bed starts beside it (nor
  // before a QEMU one, which would otherwise wait behind the beds that keep starting).
  const aloneRunning = s.running.some((f) => f.alone);
  const aloneVmQueued = s.queued.some((f) => f.kind === 'qemu' && f.alone);
  for (const f of s.queued) {
    if (f.kind === 'qemu' && (count('qemu') >= qemuCap || (f.alone && count('bed') > 0))) continue;
    if (
      f.kind === 'bed' &&
      (count('bed') >= bedCap || aloneRunning || aloneVmQueued || (f.alone && count('bed') > 0))
    )
      continue;
    return f;
  }
  return null;
}
