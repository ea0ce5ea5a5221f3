/** Where a lab machine's serial console is logged, found through the labs' state files. */
import { existsSync, openSync, readdirSync, readSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readState } from './state.ts';

export function findConsoleLog(dataDir: string, machineId: string): string | null {
  const labs = join(dataDir, 'labs');
  if (!existsSync(labs)) return null;
  for (const name of readdirSync(labs)) {
    const m = readState(join(labs, name))?.machines.find((x) => x.machineId === machineId);
    if (m) return m.consoleLog;
  }
  return null;
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
