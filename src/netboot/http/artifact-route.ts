/**
 * GET|HEAD /artifacts/<path> and /ipxe/<binary>. Each finished (or aborted) transfer goes on
 * the machine's timeline with bytes and duration, so an operator sees a kernel fetch that
 * stopped halfway. Range requests of the same file are recorded too (OS image streaming).
 */
import { ErrorCode } from '../../core/errors.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BootEvent } from '../urls.ts';
import { type Artifact, type ArtifactDir, contentType, sendArtifact } from './artifacts.ts';
import type { BootContext } from './context.ts';
import { sendRefusal } from './context.ts';
import { authorizeMachine } from './authorize.ts';
import { machineForRequest, sourceIp } from './identify.ts';

const IMAGE_SERVICE = {
  name: 'image',
  deniedEvent: BootEvent.ImageDenied,
  tokenHint: 'send it in the X-Ingot-Token header (or Authorization: Bearer)',
};

export async function artifactRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: BootContext,
  dir: ArtifactDir,
  rel: string,
): Promise<void> {
  const t0 = performance.now();
  const ip = sourceIp(req);
  let name: string;
  try {
    name = decodeURIComponent(rel);
  } catch {
    return sendRefusal(res, ErrorCode.Validation, 'malformed path\n');
  }
  // Bundles live under the artifacts dir too, but only go to machines with a token (/bundles/);
  // OS images go to machines with their token too, the same rule as bundles and metadata.
  const top = dir === ctx.artifacts ? name.split('/').find((p) => p !== '' && p !== '.') : undefined;
  const hidden = top === 'bundles';
  if (top === 'images' && !(await authorizeMachine(req, res, url.pathname, null, ctx, IMAGE_SERVICE))) return;
  const [a, machine] = await Promise.all([
    hidden ? null : dir.open(name),
    machineForRequest(ctx.store, url, ip).catch(() => null),
  ]);
  if (!a) {
    ctx.log.warn({ path: url.pathname, ip }, 'artifact not found');
    ctx.events.push({
      type: BootEvent.Artifact,
      level: 'warning',
      actor: 'rack',
      machineId: machine?.id ?? null,
      message: `${url.pathname} from ${ip}: 404 (no such artifact under ${dir.root})`,
      data: { path: url.pathname, ip, status: 404 },
    });
    return sendRefusal(res, ErrorCode.NotFound, `no artifact ${url.pathname}\n`);
  }
  sendRecorded(req, res, url, ctx, dir, a, contentType(name), machine?.id ?? null, t0);
}

/**
 * Sends an opened artifact (Range, shared chunks) and, once the transfer ends or is cut, puts
 * it on the machine's timeline with bytes and duration.
 */
export function sendRecorded(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: BootContext,
  dir: ArtifactDir,
  a: Artifact,
  type: string,
  machineId: string | null,
  t0 = performance.now(),
): void {
  const ip = sourceIp(req);
  const sent = sendArtifact(req, res, a, type, dir);
  if (req.method === 'HEAD' || sent.status === 304) return;
  res.once('close', () => {
    const complete = res.writableFinished;
    const ms = Math.round(performance.now() - t0);
    ctx.events.push({
      type: BootEvent.Artifact,
      level: complete && sent.status < 400 ? 'info' : 'warning',
      actor: 'rack',
      machineId,
      message: `${url.pathname} to ${ip}: ${complete ? `${sent.status}, ${sent.bytes} bytes in ${ms} ms` : `aborted by the client after ${ms} ms`}`,
      data: {
        path: url.pathname,
        ip,
        status: sent.status,
        bytes: sent.bytes,
        size: a.size,
        ms,
        complete,
        ...(sent.range ? { range: sent.range } : {}),
      },
    });
  });
}
