/**
 * GET|HEAD /artifacts/<path> and /ipxe/<binary>. Each finished (or aborted) transfer goes on
 * the machine's timeline with bytes and duration, so an operator sees a kernel fetch that
 * stopped halfway. Range requests of the same file are recorded too (OS image streaming).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BootEvent } from '../urls.ts';
import { contentType, sendArtifact, type ArtifactDir } from './artifacts.ts';
import type { BootContext } from './context.ts';
import { sendText } from './context.ts';
import { machineForRequest, sourceIp } from './identify.ts';

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
    return sendText(res, 400, 'malformed path\n');
  }
  const [a, machine] = await Promise.all([
    dir.open(name),
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
    return sendText(res, 404, `no artifact ${url.pathname}\n`);
  }
  const sent = sendArtifact(req, res, a, contentType(name), dir);
  if (req.method === 'HEAD' || sent.status === 304) return;
  res.once('close', () => {
    const complete = res.writableFinished;
    const ms = Math.round(performance.now() - t0);
    ctx.events.push({
      type: BootEvent.Artifact,
      level: complete && sent.status < 400 ? 'info' : 'warning',
      actor: 'rack',
      machineId: machine?.id ?? null,
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
