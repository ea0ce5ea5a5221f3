/**
 * Options over their defaults, where an option given as `undefined` keeps its default. A spread
 * (`{ tickMs: 15_000, ...o }`) lets an explicit `undefined` win, and options are often passed
 * through that way (`tickMs: o.backupTickMs`): the backup service's interval became
 * `setInterval(…, undefined)`, one millisecond, in every region (fixed 2026-12-05).
 */
export function withDefaults<T extends object>(
  defaults: T,
  given: { readonly [K in keyof T]?: T[K] } | undefined,
): T {
  const out = { ...defaults };
  // The defaults' keys only: the result is exactly T, whatever else `given` carries (a caller
  // spreads its other options beside it).
  if (given)
    for (const k of Object.keys(defaults) as (keyof T)[]) {
      const v = given[k];
      if (v !== undefined) out[k] = v as T[keyof T];
    }
  return out;
}
