/**
 * Five-field cron schedules (minute hour day-of-month month day-of-week), evaluated in UTC:
 * `*`, numbers, ranges `a-b`, steps `*\/n` and `a-b/n`, lists `a,b`, month and weekday names
 * (`jan`, `mon`), 7 as Sunday. Day-of-month and day-of-week follow cron's rule: when both are
 * restricted, a day matching either runs.
 *
 * Written here rather than taken from npm (cron-parser, croner) because src/core is pure and
 * has no dependencies, and the schedule decision (which slot is due) belongs in core where it is
 * unit-tested; five fields in UTC are small enough to own.
 */
import { invalid } from './errors.ts';

export interface Cron {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  /** Whether day-of-month / day-of-week were `*` (cron's either-day rule needs to know). */
  readonly anyDay: boolean;
  readonly anyWeekday: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** The first name's number (months start at 1). */
  readonly nameBase?: number;
}

const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 7, names: WEEKDAYS, nameBase: 0 },
];

function parseField(text: string, rule: FieldRule, field: string, source: string): Set<number> {
  const out = new Set<number>();
  const bad = (why: string) =>
    invalid(field, `"${source}": the ${rule.name} field "${text}" ${why} (e.g. "0 */6 * * *")`);
  const value = (v: string): number => {
    const i = rule.names?.indexOf(v.toLowerCase()) ?? -1;
    if (i >= 0) return i + (rule.nameBase ?? 0);
    if (!/^\d{1,2}$/.test(v)) throw bad(`has "${v}", not a number`);
    const n = Number(v);
    if (n < rule.min || n > rule.max) throw bad(`has ${n}, outside ${rule.min}–${rule.max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === '') throw bad('is not a list of values, ranges and steps');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || !/^\d+$/.test(stepText ?? '1'))
      throw bad(`has the step "${stepText}", not a whole number ≥ 1`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = rule.min;
      hi = rule.name === 'day of week' ? 6 : rule.max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      lo = value(a);
      hi = value(b);
      if (lo > hi) throw bad(`has the range ${range}, which runs backwards`);
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : rule.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(rule.name === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

/** Parses a five-field schedule; a bad one throws `invalid(field, …)` naming the field and why. */
export function parseCron(source: string, field = 'schedule'): Cron {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === '')
    throw invalid(
      field,
      `"${source}" is not a 5-field cron schedule (minute hour day-of-month month day-of-week), e.g. "0 */6 * * *"`,
    );
  const [mi, h, d, mo, w] = parts.map((p, i) => parseField(p, FIELDS[i], field, source));
  return {
    source,
    minutes: mi,
    hours: h,
    days: d,
    months: mo,
    weekdays: w,
    anyDay: parts[2] === '*',
    anyWeekday: parts[4] === '*',
  };
}

function dayMatches(c: Cron, t: Date): boolean {
  const dom = c.days.has(t.getUTCDate());
  const dow = c.weekdays.has(t.getUTCDay());
  if (c.anyDay && c.anyWeekday) return true;
  if (c.anyDay) return dow;
  if (c.anyWeekday) return dom;
  return dom || dow;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * The first time (ms, on a whole minute) strictly after `after` that the schedule fires, or null
 * when none within `horizonDays` (a schedule like "0 0 31 2 *" never fires).
 */
export function nextRun(c: Cron, after: number, horizonDays = 366 * 4): number | null {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const end = after + horizonDays * DAY;
  while (t <= end) {
    const d = new Date(t);
    if (!c.months.has(d.getUTCMonth() + 1) || !dayMatches(c, d)) {
      // Skip to the next day's midnight.
      t = Math.floor(t / DAY) * DAY + DAY;
      continue;
    }
    if (!c.hours.has(d.getUTCHours())) {
      t = Math.floor(t / (60 * MINUTE)) * 60 * MINUTE + 60 * MINUTE;
      continue;
    }
    if (c.minutes.has(d.getUTCMinutes())) return t;
    t += MINUTE;
  }
  return null;
}

/**
 * The newest time the schedule fired in (`since`, `now`], or null: the slot a scheduler should
 * run now. Slots missed while no region ran collapse into the newest one (one snapshot, not a
 * burst of them).
 */
export function dueSlot(c: Cron, since: number, now: number): number | null {
  let slot: number | null = null;
  let t = nextRun(c, since);
  while (t !== null && t <= now) {
    slot = t;
    t = nextRun(c, t);
  }
  return slot;
}
