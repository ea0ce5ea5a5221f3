/**
 * Fetching a bundle from a URL, in one function so that a guard on where the region may
 * fetch from (SSRF: loopback, link-local, the region's own addresses) wraps every bundle
 * download in one place. Same rules as OS image URL imports (src/images/registry.ts): only
 * http and https, redirects followed.
 */
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { ErrorCode, IngotError, invalid } from '../core/errors.ts';

/** Checks `url` (throws a validation error naming `url`) and returns it parsed. */
export function checkSourceUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('url', `"${url.slice(0, 200)}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw invalid(
      'url',
      `only http and https URLs can be imported (got ${u.protocol}); upload a local file or directory instead`,
    );
  return u;
}

/** Opens the URL's body as a stream; a non-2xx answer is a validation error naming the URL. */
export async function openUrlSource(u: URL, signal: AbortSignal): Promise<AsyncIterable<Buffer>> {
  const res = await fetch(u, { signal, redirect: 'follow' });
  if (!res.ok || !res.body)
    throw new IngotError(ErrorCode.Validation, `url: ${u.href} answered HTTP ${res.status}`, {
      details: { field: 'url', status: res.status },
    });
  return Readable.fromWeb(res.body as ReadableStream<Uint8Array>);
}
