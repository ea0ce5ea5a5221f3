/**
 * The machine page's live reads: sensor readings from the machine's BMC and the tail of its
 * serial console. Both are polled by their panels.
 */
import { ApiError, type ApiClient } from '../api/client.ts';
import type { HealthAnswer } from './health.ts';
import type { SensorAnswer } from './sensors.ts';

export function readSensors(client: ApiClient, id: string, signal?: AbortSignal): Promise<SensorAnswer> {
  return client.request<SensorAnswer>(
    'GET',
    `/machines/${encodeURIComponent(id)}/sensors`,
    undefined,
    signal,
  );
}

/** The health poller's history of the machine (BMC polls, disks' SMART reports). */
export function readHealth(
  client: ApiClient,
  id: string,
  signal?: AbortSignal,
  hours = 24,
): Promise<HealthAnswer> {
  return client.request<HealthAnswer>(
    'GET',
    `/machines/${encodeURIComponent(id)}/health?hours=${hours}`,
    undefined,
    signal,
  );
}

/** The tail of a serial console log, or why there is none (the region answered 404). */
export type ConsoleTail =
  | { kind: 'log'; text: string /** Size of the whole log in bytes. */; size: number }
  | { kind: 'none'; reason: string };

/** Bytes of the log the page shows. */
export const CONSOLE_BYTES = 64 * 1024;

/**
 * GET /machines/{id}/console answers text/plain, which ApiClient.request (JSON) would mangle,
 * so this reads it with fetch and the client's base and token.
 */
export async function readConsole(
  client: ApiClient,
  id: string,
  signal?: AbortSignal,
  fetchImpl: typeof fetch = (...a) => fetch(...a),
): Promise<ConsoleTail> {
  let res: Response;
  try {
    res = await fetchImpl(
      `${client.base}/api/v1/machines/${encodeURIComponent(id)}/console?bytes=${CONSOLE_BYTES}`,
      { headers: { authorization: `Bearer ${client.token}` }, signal },
    );
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, { code: 'INGOT_UNREACHABLE', message: 'the region did not answer' });
  }
  const text = await res.text();
  if (res.ok) return { kind: 'log', text, size: Number(res.headers.get('x-console-size') ?? text.length) };
  let body: { code?: string; message?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = { message: text };
  }
  if (res.status === 404) return { kind: 'none', reason: body.message ?? '' };
  throw new ApiError(res.status, body);
}

const ESCAPES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are what it matches
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHM]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it matches
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** Serial output as text: ANSI escapes (colours, cursor moves) and carriage returns removed. */
export function cleanConsole(text: string): string {
  return (
    text
      .replace(ESCAPES, '')
      .replace(/\r+\n/g, '\n')
      // A bare CR rewrites the line (progress bars): keep what was written last.
      .replace(/^.*\r(?!\n)/gm, '')
      .replace(CONTROLS, '')
  );
}
