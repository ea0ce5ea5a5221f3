/**
 * Fetching a bundle from a URL, in one place, through the region's source policy
 * (src/images/source-policy.ts) — the one OS image URL imports obey too: only http and https;
 * loopback, link-local and the region host's own addresses refused unless an operator allows
 * them (`--allow-private-sources`), checked after DNS, at each redirect hop and on each
 * connection.
 */
import type { Readable } from 'node:stream';
import { parseSourceUrl, type SourcePolicy } from '../images/source-policy.ts';

/**
 * Checks `url` against the policy before anything is registered (a validation error naming
 * `url`: not http(s), or toward a refused address) and returns it parsed.
 */
export async function checkSourceUrl(url: string, sources: SourcePolicy): Promise<URL> {
  const u = parseSourceUrl(url, 'url', 'a local file or directory');
  await sources.checkUrl(u);
  return u;
}

/** Opens the URL's body as a stream; a refused address or a non-2xx answer is a validation error naming `url`. */
export function openUrlSource(u: URL, signal: AbortSignal, sources: SourcePolicy): Promise<Readable> {
  return sources.open(u, signal);
}
