/**
 * GET|HEAD /bundles/<name>/<path>: a ready Kubernetes bundle's files for the machines that
 * install it. Same rules as the metadata: the machine's boot or OS token (X-Ingot-Token or
 * Authorization: Bearer) from an address leased to it; then the same sending as OS images
 * (Range, conditional requests, large files in shared chunks) and the transfer on the
 * machine's timeline. Only files the bundle's manifest lists are served, plus
 * `ingot-bundle.json` and `install.sh`, the install step rendered for this rack.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderBundleInstall } from '../../bundles/install-script.ts';
import {
  BUNDLE_HTTP_PREFIX,
  BUNDLE_INSTALL_SCRIPT,
  BUNDLE_MANIFEST_FILE,
  type Bundle,
  bundleFiles,
} from '../../core/bundle.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { BootEvent } from '../urls.ts';
import { sendRecorded } from './artifact-route.ts';
import { contentType } from './artifacts.ts';
import { authorizeMachine } from './authorize.ts';
import type { BootContext } from './context.ts';
import { sendRefusal, sendText } from './context.ts';

const SERVICE = {
  name: 'bundle',
  deniedEvent: BootEvent.BundleDenied,
  tokenHint: 'send it in the X-Ingot-Token header (or Authorization: Bearer)',
};

export async function bundleRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: BootContext,
): Promise<void> {
  const t0 = performance.now();
  let parts: string[];
  try {
    parts = url.pathname.slice(BUNDLE_HTTP_PREFIX.length).split('/').map(decodeURIComponent);
  } catch {
    return sendRefusal(res, ErrorCode.Validation, 'malformed path\n');
  }
  const [name, ...rest] = parts;
  const path = rest.join('/');
  if (!name || !path || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0')))
    return sendRefusal(
      res,
      ErrorCode.NotFound,
      `no bundle file ${url.pathname}; ask for /bundles/<name>/<file>\n`,
    );
  const ok = await authorizeMachine(req, res, url.pathname, null, ctx, SERVICE);
  if (!ok) return;
  let bundle: Bundle;
  try {
    bundle = await ctx.store.getBundle(name);
  } catch (e) {
    if (e instanceof IngotError && e.code === ErrorCode.NotFound)
      return sendRefusal(res, ErrorCode.NotFound, `no bundle ${name} on this region\n`);
    throw e;
  }
  if (bundle.status !== 'ready' || !bundle.manifest)
    return sendRefusal(res, ErrorCode.NotFound, `bundle ${name} is not ready (${bundle.status})\n`);
  if (path === BUNDLE_INSTALL_SCRIPT) {
    const script = renderBundleInstall({ ...bundle, manifest: bundle.manifest }, { rackUrl: ctx.secureUrl });
    return sendText(res, 200, script, 'text/x-shellscript; charset=utf-8');
  }
  const listed = path === BUNDLE_MANIFEST_FILE || bundleFiles(bundle.manifest).some((f) => f.path === path);
  const a = listed ? await ctx.artifacts.open(`${bundle.path}/${path}`) : null;
  if (!a) return sendRefusal(res, ErrorCode.NotFound, `bundle ${name} has no file ${path}\n`);
  sendRecorded(req, res, url, ctx, ctx.artifacts, a, contentType(path), ok.machine.id, t0);
}
