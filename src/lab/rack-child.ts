/** Starts rack-main.ts inside the lab's provisioning namespace and waits until it serves. */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { RackChildConfig } from './rack-main.ts';

const MAIN = new URL('./rack-main.ts', import.meta.url).pathname;

export async function startRackChild(
  labDir: string,
  provNs: string,
  cfg: RackChildConfig,
  timeoutMs = 30_000,
): Promise<{ child: ChildProcess; http: string }> {
  const cfgFile = join(labDir, 'rack.json');
  writeFileSync(cfgFile, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
  const logFile = join(labDir, 'rack.log');
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('ip', ['netns', 'exec', provNs, process.execPath, MAIN, cfgFile], {
      stdio: ['ignore', 'pipe', log],
      detached: false,
    });
  } finally {
    closeSync(log);
  }
  const http = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new IngotError(
          ErrorCode.Timeout,
          `rack services did not start within ${timeoutMs} ms; see ${logFile}`,
        ),
      );
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /INGOT-RACK-READY (\{.*\})/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve((JSON.parse(m[1]) as { http: string }).http);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new IngotError(
          ErrorCode.Config,
          `rack services exited (code ${code}) before serving; see ${logFile}`,
        ),
      );
    });
  });
  child.stdout!.resume();
  return { child, http };
}
