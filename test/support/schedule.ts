/**
 * The order `npm test` runs the test files in (scripts/test.ts): on this 2-core host the files
 * that boot QEMU VMs take turns (test/support/qemu-tests.ts), and their chain is the longest
 * path of the run. So they start first, one at a time, beside the rest, the slowest of the rest
 * first (longest-processing-time order), at most one Kubernetes test bed beside them, two
 * once the VMs are done; once nothing else is left to run, two QEMU files run at once. A bed
 * marked `ALONE_MARK` has no other bed beside it; a file marked `SOLO_MARK` runs first, with
 * nothing beside it. Pure: the runner gives the state, this says what to start next.
 */

export type TestFileKind = 'qemu' | 'bed' | 'plain';

export interface TestFile {
  readonly path: string;
  readonly kind: TestFileKind;
  /** Seconds a previous run took (test/durations.json), or an estimate by kind. */
  readonly weight: number;
  /** A test bed that runs with no other bed beside it (`ALONE_MARK` in its source). */
  readonly alone?: boolean;
  /** A file that runs with no other file beside it (`SOLO_MARK` in its source). */
  readonly solo?: boolean;
}

/**
 * What a bed file says in its source to run with no other bed beside it: the 3-control-plane
 * bed (three etcd members, three API servers) beside another bed starved that one's joining
 * kubelet past its TLS bootstrap twice in CI rehearsals (2026-12-04).
 */
export const ALONE_MARK = 'schedule: no other test bed beside this one';
export const runsAlone = (source: string): boolean => source.includes(ALONE_MARK);

/**
 * What a file says in its source to run with nothing beside it: the lab VM's `kubeadm init`
 * under TCG (2 vCPUs on this 2-core host) went silent for 2 min in CI beside the 3-control-plane
 * bed, and its create took 1,593 s beside the light files alone in a rehearsal (2026-12-04; 245 s
 * on a quiet machine). It queues first and starts while nothing runs yet.
 */
export const SOLO_MARK = 'schedule: no other test file beside this one';
export const runsSolo = (source: string): boolean => source.includes(SOLO_MARK);

/** What a file is, from its source: it boots QEMU VMs, starts a Kubernetes test bed, or neither. */
export function kindOf(source: string): TestFileKind {
  if (/\bholdQemuTests\(/.test(source)) return 'qemu';
  if (/\bstartBed\(|\bbedName\(/.test(source)) return 'bed';
  return 'plain';
}

const ESTIMATE: Record<TestFileKind, number> = { qemu: 300, bed: 150, plain: 5 };

/** A file's weight, and its marks (`source`: its text). */
export function weigh(
  path: string,
  kind: TestFileKind,
  durations: Readonly<Record<string, number>>,
  source = '',
): TestFile {
  return {
    path,
    kind,
    weight: durations[path] ?? ESTIMATE[kind],
    ...(runsAlone(source) ? { alone: true } : {}),
    ...(runsSolo(source) ? { solo: true } : {}),
  };
}

/**
 * Queue order: the files that run solo, the QEMU files (slowest first), then the rest, slowest
 * first; ties by path.
 */
export function order(files: readonly TestFile[]): TestFile[] {
  const rank = (f: TestFile) => (f.solo ? 0 : f.kind === 'qemu' ? 1 : 2);
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
 * One test-bed file at a time while a QEMU file runs or is queued: two beds beside a QEMU file
 * and its image build starved a joining kubelet past kubeadm's wait (CI, 2026-12-03), and the
 * lab VM's own kubeadm init past its 10 min (a CI rehearsal, 2026-12-04); the plain files fill
 * the third slot meanwhile. Once the QEMU chain is done the beds take two, the light files
 * left beside them: waiting for those too (as until 2026-12-05) kept one bed idle for the
 * ~190 s the last few dozen unit-test files took (rehearsal G's log, replayed: 2,552 → 2,460 s).
 * A solo file waits for every running file, and nothing starts while it waits or runs.
 */
export function next(s: SchedulerState): TestFile | null {
  if (s.running.length >= s.slots) return null;
  if (s.running.some((f) => f.solo)) return null;
  const solo = s.queued.find((f) => f.solo);
  if (solo) return s.running.length === 0 ? solo : null;
  const count = (kind: TestFileKind) => s.running.filter((f) => f.kind === kind).length;
  const othersLeft = s.queued.some((f) => f.kind !== 'qemu') || s.running.some((f) => f.kind !== 'qemu');
  const qemuCap = othersLeft ? 1 : 2;
  const bedCap = count('qemu') > 0 || s.queued.some((f) => f.kind === 'qemu') ? 1 : 2;
  // A bed that runs alone: it waits for the running beds, and none starts beside it.
  const aloneRunning = s.running.some((f) => f.kind === 'bed' && f.alone);
  for (const f of s.queued) {
    if (f.kind === 'qemu' && count('qemu') >= qemuCap) continue;
    if (f.kind === 'bed' && (count('bed') >= bedCap || aloneRunning || (f.alone && count('bed') > 0)))
      continue;
    return f;
  }
  return null;
}
