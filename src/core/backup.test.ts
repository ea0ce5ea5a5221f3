import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Backup, dueBackupSlot, MISSED_SLOT_WINDOW_MS, retentionVictims } from './backup.ts';
import { dueSlot, nextRun, parseCron } from './cron.ts';
import { isIngotError } from './errors.ts';

const at = (s: string) => Date.parse(s);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

describe('cron schedules', () => {
  it('finds the next run of steps, lists, ranges and names, in UTC', () => {
    const every6h = parseCron('0 */6 * * *');
    assert.equal(iso(nextRun(every6h, at('2026-12-03T03:34:10Z'))), '2026-12-03T06:00:00.000Z');
    assert.equal(iso(nextRun(every6h, at('2026-12-03T06:00:00Z'))), '2026-12-03T12:00:00.000Z');
    const weekdays = parseCron('30 2 * * mon-fri');
    // 2026-12-05 is a Saturday: the next is Monday the 7th.
    assert.equal(iso(nextRun(weekdays, at('2026-12-04T03:00:00Z'))), '2026-12-07T02:30:00.000Z');
    const list = parseCron('5,35 1 1 jan,jul *');
    assert.equal(iso(nextRun(list, at('2026-12-03T00:00:00Z'))), '2027-01-01T01:05:00.000Z');
    assert.equal(iso(nextRun(list, at('2027-01-01T01:05:00Z'))), '2027-01-01T01:35:00.000Z');
    assert.equal(
      iso(nextRun(parseCron('0 0 * * 7'), at('2026-12-03T00:00:00Z'))),
      '2026-12-06T00:00:00.000Z',
    );
  });

  it('runs on either day when both day of month and day of week are restricted (cron’s rule)', () => {
    const c = parseCron('0 0 13 * fri');
    // Friday 2026-12-04 comes before the 13th.
    assert.equal(iso(nextRun(c, at('2026-12-03T12:00:00Z'))), '2026-12-04T00:00:00.000Z');
  });

  it('says a schedule that never fires has no next run', () => {
    assert.equal(nextRun(parseCron('0 0 31 2 *'), at('2026-12-03T00:00:00Z')), null);
  });

  it('refuses bad schedules naming the field and the part at fault', () => {
    for (const [s, why] of [
      ['0 */6 * *', /not a 5-field cron schedule/],
      ['61 * * * *', /minute field "61" has 61, outside 0–59/],
      ['0 25 * * *', /hour field/],
      ['0 0 * foo *', /month field "foo" has "foo", not a number/],
      ['*/0 * * * *', /step "0"/],
      ['0 5-1 * * *', /runs backwards/],
      ['0 0 1/2/3 * *', /not a list/],
    ] as const)
      assert.throws(
        () => parseCron(s, 'spec.backups.etcd.schedule'),
        (e) =>
          isIngotError(e, 'INGOT_VALIDATION') &&
          e.message.startsWith('spec.backups.etcd.schedule: ') &&
          why.test(e.message),
        s,
      );
  });

  it('collapses missed slots into the newest one', () => {
    const c = parseCron('0 * * * *');
    assert.equal(
      iso(dueSlot(c, at('2026-12-03T00:00:00Z'), at('2026-12-03T05:30:00Z'))),
      '2026-12-03T05:00:00.000Z',
    );
    assert.equal(dueSlot(c, at('2026-12-03T05:00:00Z'), at('2026-12-03T05:59:59Z')), null);
  });
});

const T = at('2026-12-03T00:00:00Z');
const DAY = 86_400_000;
function backup(id: string, daysAgo: number, state: Backup['state'] = 'done'): Backup {
  return {
    id,
    clusterId: 'c-1',
    trigger: 'schedule',
    slot: null,
    state,
    reason: '',
    createdAt: T - daysAgo * DAY,
    takenAt: state === 'done' ? T - daysAgo * DAY : null,
    node: 'cp1',
    sizeBytes: 1,
    sha256: 'a'.repeat(64),
    location: `etcd-snapshots/c/${id}.db`,
    revision: 1,
    totalKeys: 1,
  };
}

describe('backup retention and schedule slots', () => {
  it('keeps the newest N good backups and drops the others, oldest first', () => {
    const list = [
      backup('b1', 4),
      backup('b2', 3),
      backup('bf', 2.5, 'failed'),
      backup('b3', 2),
      backup('b4', 1),
    ];
    assert.deepEqual(
      retentionVictims(list, { keep: 2, maxAgeDays: 0 }, T).map((b) => b.id),
      ['b1', 'b2'],
    );
    assert.deepEqual(retentionVictims(list, { keep: 10, maxAgeDays: 0 }, T), []);
  });

  it('drops backups older than maxAgeDays but never the newest good one', () => {
    const list = [backup('b1', 40), backup('b2', 35), backup('b3', 31)];
    assert.deepEqual(
      retentionVictims(list, { keep: 28, maxAgeDays: 30 }, T).map((b) => b.id),
      ['b1', 'b2'],
    );
    const recent = [...list, backup('b4', 1)];
    assert.deepEqual(
      retentionVictims(recent, { keep: 28, maxAgeDays: 30 }, T).map((b) => b.id),
      ['b1', 'b2', 'b3'],
    );
  });

  it('is due for the newest slot since the last one, and not again for the same slot', () => {
    const c = parseCron('0 */6 * * *');
    const created = at('2026-12-02T01:00:00Z');
    const now = at('2026-12-03T13:10:00Z');
    const slot = dueBackupSlot(c, { lastSlot: null, clusterCreatedAt: created, now });
    assert.equal(iso(slot), '2026-12-03T12:00:00.000Z');
    assert.equal(dueBackupSlot(c, { lastSlot: slot, clusterCreatedAt: created, now }), null);
    assert.equal(
      iso(dueBackupSlot(c, { lastSlot: slot, clusterCreatedAt: created, now: at('2026-12-03T18:00:00Z') })),
      '2026-12-03T18:00:00.000Z',
    );
    // A cluster created after the last slot waits for the next one.
    assert.equal(
      dueBackupSlot(c, { lastSlot: null, clusterCreatedAt: at('2026-12-03T12:30:00Z'), now }),
      null,
    );
  });

  it('does not make up slots older than the missed-slot window', () => {
    const c = parseCron('0 0 1 * *');
    const now = at('2026-12-20T00:00:00Z');
    assert.ok(now - at('2026-12-01T00:00:00Z') > MISSED_SLOT_WINDOW_MS);
    assert.equal(dueBackupSlot(c, { lastSlot: at('2026-11-01T00:00:00Z'), clusterCreatedAt: 0, now }), null);
  });
});
