/**
 * At most two VMs (lab machines, image boot checks, the agent's direct boots) run at once on this host, across processes (2 cores under TCG: 2 VMs
 * boot in 7.2 s each, 4 take 24.8 s each). A slot is a directory made atomically with mkdir,
 * holding the owner's PID; a slot whose owner is gone is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { alive } from './process.ts';

const DIR = process.env.INGOT_VM_SLOTS_DIR ?? '/run/lock';

export const MAX_VMS = Number(process.env.INGOT_MAX_VMS ?? 2);

function tryTake(kind: string, i: number, token: string): boolean {
  const slot = join(DIR, `ingot-${kind}-slot-${i}`);
  try {
    mkdirSync(slot);
  } catch {
    let owner = 0;
    try {
      owner = Number(readFileSync(join(slot, 'owner'), 'utf8').split(' ')[0]);
    } catch {
      // being created right now, or left without an owner file: leave it to its maker
      return false;
    }
    if (alive(owner)) return false;
    rmSync(slot, { recursive: true, force: true });
    try {
      mkdirSync(slot);
    } catch {
      return false;
    }
  }
  writeFileSync(join(slot, 'owner'), `${process.pid} ${token}\n`);
  return true;
}

/** Waits for a free VM slot; returns its release function. */
export function acquireVmSlot(what: string, timeoutMs = 600_000, signal?: AbortSignal): Promise<() => void> {
  return acquireHostSlot('vm', MAX_VMS, what, timeoutMs, signal);
}

/**
 * Waits for one of `max` slots of `kind` on this host (across processes); returns its release
 * function. VM slots use kind `vm`; the QEMU-heavy test files take kind `qemu-tests`, max 1.
 */
export async function acquireHostSlot(
  kind: string,
  max: number,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<() => void> {
  const token = `${what}-${Math.random().toString(36).slice(2)}`;
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (let i = 0; i < max; i++) {
      if (tryTake(kind, i, token)) {
        const slot = join(DIR, `ingot-${kind}-slot-${i}`);
        return () => {
          try {
            if (readFileSync(join(slot, 'owner'), 'utf8').includes(token))
              rmSync(slot, { recursive: true, force: true });
          } catch {
            // already gone
          }
        };
      }
    }
    signal?.throwIfAborted();
    if (Date.now() > end)
      throw new IngotError(
        ErrorCode.Timeout,
        `no ${kind} slot free after ${timeoutMs / 1000} s: ${max} are taken on this host` +
          (kind === 'vm' ? '; stop a lab VM (ingot lab down)' : ''),
      );
    await sleep(200);
  }
}
