/**
 * Machine serial consoles logged on this host: `<data>/consoles/<machine id>.log`. Lab machines
 * (src/lab) log theirs there from their first power-on; the API serves the tail
 * (GET /api/v1/machines/{id}/console). Real machines have none until serial-over-LAN lands.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function consoleLogPath(dataDir: string, machineId: string): string {
  return join(dataDir, 'consoles', `${machineId}.log`);
}

/** The machine's console log, or null when nothing logged its console on this host. */
export function findConsoleLog(dataDir: string, machineId: string): string | null {
  const p = consoleLogPath(dataDir, machineId);
  return existsSync(p) ? p : null;
}

/** The last `bytes` of a file (the whole file if smaller), as text. */
export function readTail(path: string, bytes: number): { text: string; size: number } {
  const size = statSync(path).size;
  const len = Math.min(size, bytes);
  const buf = Buffer.alloc(len);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, len, size - len);
  } finally {
    closeSync(fd);
  }
  return { text: buf.toString('utf8'), size };
}
