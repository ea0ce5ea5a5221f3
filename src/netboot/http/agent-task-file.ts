/**
 * A node task's file on the rack (src/core/etcd-backup-protocol.ts), HTTPS only like every agent
 * endpoint, for the node agent holding its machine's OS token and only while the task runs:
 *
 *   PUT /agent/v1/tasks/<id>/file   etcd-snapshot: the snapshot, streamed to the task's
 *                                   `artifact` under the artifacts dir; at most `maxBytes`
 *                                   (413), its SHA-256 checked against the `X-Ingot-Sha256`
 *                                   header (409 and nothing kept when they differ), written as
 *                                   `.part` and renamed, 0600 in 0700 directories.
 *   GET  /agent/v1/tasks/<id>/file  node-exec with `fetch`: the task's `artifact` (a snapshot
 *                                   to restore), streamed.
 *
 * Snapshots hold every Secret of a cluster: the artifacts route never serves `etcd-snapshots/`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AgentTask } from '../../core/agent-protocol.ts';
import { ErrorCode, IngotError, invalid } from '../../core/errors.ts';
import { SHA256_HEADER } from '../../core/etcd-backup-protocol.ts';
import { isSha256 } from '../../core/image.ts';
import { bootCaller } from './agent-auth.ts';
import type { Handler } from './context.ts';
import { sendError, sendJson } from './context.ts';

/** Where node tasks' files live under the artifacts dir. */
export const TASK_FILE_PREFIX = 'etcd-snapshots/';

/**
 * Whether an artifacts URL path (after `/artifacts/`, still encoded) names something under
 * `etcd-snapshots/`, however spelt (`%2D`, `./`, `//`): the artifacts route refuses those.
 */
export function isTaskFileUrl(rel: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return true;
  }
  const p = resolve('/', decoded);
  return p === `/${TASK_FILE_PREFIX.slice(0, -1)}` || p.startsWith(`/${TASK_FILE_PREFIX}`);
}

/** The task's artifact as a path inside `<artifacts>/etcd-snapshots/`, or null. */
function taskPath(root: string, artifact: unknown): string | null {
  if (typeof artifact !== 'string' || !artifact.startsWith(TASK_FILE_PREFIX) || artifact.includes('..'))
    return null;
  const p = resolve(root, artifact);
  return p.startsWith(resolve(root, TASK_FILE_PREFIX) + sep) ? p : null;
}

export const agentTaskFile: Handler = async (req, res, url, ctx) => {
  const caller = await bootCaller(req, res, ctx, { osToken: true });
  if (!caller) return;
  const id = decodeURIComponent(url.pathname.slice('/agent/v1/tasks/'.length, -'/file'.length));
  const task = await ctx.store.getAgentTask(id);
  const put = req.method === 'PUT';
  const name = put ? AgentTask.EtcdSnapshot : AgentTask.NodeExec;
  const path = task ? taskPath(ctx.artifacts.root, task.params.artifact) : null;
  if (
    caller.kind !== 'os' ||
    !task ||
    task.machineId !== caller.machine.id ||
    task.status !== 'running' ||
    task.name !== name ||
    !path
  )
    return sendError(
      res,
      new IngotError(ErrorCode.NotFound, `no running ${name} task ${id} with a file for this machine`),
    );
  if (!put) {
    const st = await stat(path).catch(() => null);
    if (!st?.isFile())
      return sendError(res, new IngotError(ErrorCode.NotFound, `task ${id}: its file is gone`));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
    await pipeline(createReadStream(path), res);
    return;
  }
  const want = String(req.headers[SHA256_HEADER] ?? '').toLowerCase();
  if (!isSha256(want))
    return sendError(res, invalid(SHA256_HEADER, 'send the file’s SHA-256 (64 hex digits) in this header'));
  const max = Number(task.params.maxBytes);
  const tooBig = () =>
    new IngotError(
      ErrorCode.PayloadTooLarge,
      `body: the snapshot is over the region's limit of ${max} bytes`,
    );
  if (Number(req.headers['content-length'] ?? 0) > max) {
    req.resume();
    return sendError(res, tooBig());
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const part = `${path}.part`;
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    await pipeline(
      req,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          bytes += chunk.length;
          if (bytes > max) throw tooBig();
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(part, { mode: 0o600 }),
    );
  } catch (e) {
    await rm(part, { force: true });
    if (e instanceof IngotError) return sendError(res, e);
    throw e;
  }
  const got = hash.digest('hex');
  if (got !== want) {
    await rm(part, { force: true });
    return sendError(
      res,
      new IngotError(
        ErrorCode.Conflict,
        `the upload's sha256 is ${got}, not ${want} as the header says: damaged in transit; take the snapshot again`,
      ),
    );
  }
  await rename(part, path);
  ctx.log.info({ task: id, machine: caller.machine.id, bytes }, 'node task file stored');
  sendJson(res, 200, { sha256: got, bytes, artifact: join(String(task.params.artifact)) });
};
