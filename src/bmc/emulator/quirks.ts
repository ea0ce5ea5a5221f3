/**
 * Vendor behaviours the virtual BMC can imitate, so the driver is tested against the BMCs it
 * will meet and not only against the DMTF's examples. Off unless asked for
 * (`startEmulator({ quirks })`, `ingot bmc emulate --quirks`).
 */
import type { Reply } from './routes.ts';

export const Quirk = {
  /**
   * HPE iLO: every `@odata.id` (and action target, next link, Location) ends in `/`, and a
   * request for a path without the slash is answered `301 Moved Permanently` to the slashed
   * one, whatever its method — a client must repeat a POST or PATCH there, body and all.
   */
  TrailingSlash: 'trailing-slash',
} as const;
export type Quirk = (typeof Quirk)[keyof typeof Quirk];
export const QUIRKS: readonly Quirk[] = Object.values(Quirk);

/** Keys whose values are links to resources or actions. */
const LINK_KEYS = new Set(['@odata.id', 'target', 'Members@odata.nextLink', '@Redfish.ActionInfo']);

/** `/redfish/v1/Systems/1` → `/redfish/v1/Systems/1/`; a query stays after the slash. */
export function slashed(link: string): string {
  const q = link.indexOf('?');
  const path = q < 0 ? link : link.slice(0, q);
  const rest = q < 0 ? '' : link.slice(q);
  return `${path.endsWith('/') ? path : `${path}/`}${rest}`;
}

function slashLinks(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(slashLinks);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v))
    out[k] =
      LINK_KEYS.has(k) && typeof x === 'string' && x.startsWith('/redfish') ? slashed(x) : slashLinks(x);
  return out;
}

/** The reply as a BMC with `quirks` sends it. */
export function withQuirks(quirks: ReadonlySet<Quirk>, reply: Reply): Reply {
  if (!quirks.has(Quirk.TrailingSlash)) return reply;
  const headers = reply.headers?.Location
    ? { ...reply.headers, Location: slashed(reply.headers.Location) }
    : reply.headers;
  return { ...reply, headers, body: slashLinks(reply.body) };
}

/** The redirect a BMC with `quirks` answers instead of serving `rawPath`, or null. */
export function quirkRedirect(quirks: ReadonlySet<Quirk>, rawPath: string, search: string): Reply | null {
  if (!quirks.has(Quirk.TrailingSlash) || !rawPath.startsWith('/redfish') || rawPath.endsWith('/'))
    return null;
  return { status: 301, headers: { Location: `${rawPath}/${search}` } };
}
