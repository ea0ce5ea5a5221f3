/** What every boot-HTTP handler shares. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode, IngotError } from '../../core/errors.ts';
import { httpStatusOf } from '../../core/http-status.ts';
import type { Store } from '../../store/store.ts';
import type { ArtifactDir } from './artifacts.ts';
import type { EventSink } from './events.ts';
import type { BootLogger } from './logger.ts';

export interface EphemeralImage {
  /** Paths under the artifacts directory. */
  readonly kernel: string;
  readonly initrd: string;
  /** Appended to the kernel command line. */
  readonly extraArgs?: string;
}

export interface BootContext {
  readonly store: Store;
  readonly events: EventSink;
  readonly log: BootLogger;
  /**
   * How firmware reaches this server, e.g. `http://10.77.0.1:8081` (no trailing slash): iPXE
   * scripts, iPXE binaries, the boot image's kernel and initrd.
   */
  readonly publicUrl: string;
  /**
   * How the agent and the deployed OS reach it for everything carrying a token or a secret
   * (agent endpoints, OS images, metadata, bundles): `https://10.77.0.1:8443`, or publicUrl
   * when the rack serves no HTTPS.
   */
  readonly secureUrl: string;
  /** Where the ephemeral OS phones home (`ingot.url=`). */
  readonly agentUrl: string;
  /**
   * The rack certificate's public-key pin (`sha256//BASE64`), handed to the agent on the kernel
   * line (`ingot.pin=`) for curl's --pinnedpubkey; null without HTTPS.
   */
  readonly pin: string | null;
  /** The rack's certificate (PEM), served at /tls/rack.crt; null without HTTPS. */
  readonly certPem: string | null;
  readonly artifacts: ArtifactDir;
  readonly ipxe: ArtifactDir;
  readonly ephemeral: EphemeralImage | null;
  readonly tokenTtlMs: number;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: BootContext,
) => Promise<void>;

/**
 * A refusal in plain text (firmware, iPXE and curl read these, not JSON): its status from
 * core's one code → status table, so the rack and the API answer a code alike.
 */
export function sendRefusal(res: ServerResponse, code: ErrorCode, text: string): void {
  sendText(res, httpStatusOf(code), text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  type = 'text/plain; charset=utf-8',
): void {
  res
    .writeHead(status, { 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(text)) })
    .end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, `${JSON.stringify(body)}\n`, 'application/json');
}

/** An IngotError as the API sends it: `{code, message, details}` with its code's status. */
export function sendError(res: ServerResponse, e: IngotError): void {
  sendJson(res, httpStatusOf(e.code), e.toJSON());
}

/** Reads a small body; null when over `limit` bytes. */
export async function readSmallBody(req: IncomingMessage, limit = 64 * 1024): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) return null;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
