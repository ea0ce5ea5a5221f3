/** A machine as the CLI reads it from the region, and how a command names one. */
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Client } from '../client.ts';

export interface Machine {
  id: string;
  hostname: string;
  state: string;
  stateReason: string;
  stateEnteredAt: string;
  powerState: string;
  bmc: { address: string; username: string } | null;
  nics: { mac: string; boot: boolean; speedMbps?: number }[];
  disks: { name: string; sizeBytes: number; model?: string }[];
  cpu: { cores: number; model?: string } | null;
  memoryBytes: number | null;
  tags: string[];
  zone: string;
  rack: string;
  pool: string;
  owner: string;
  allowedActions: string[];
  /** The cluster the machine is a member of, and its role there. */
  cluster?: { cluster: string; role: string } | null;
}

/** Accepts a machine id (`m-…`), a hostname or a MAC. */
export async function resolveId(client: Client, ref: string): Promise<string> {
  if (/^m-[0-9a-z]{26}$/.test(ref)) return ref;
  const page = await client.get<{ items: Machine[] }>(
    `/api/v1/machines?q=${encodeURIComponent(ref)}&limit=50`,
  );
  const hit = page.items.find(
    (m) => m.hostname === ref.toLowerCase() || m.nics.some((n) => n.mac === ref.toLowerCase()),
  );
  if (!hit)
    throw new IngotError(
      ErrorCode.MachineNotFound,
      `no machine named ${ref}; list them with \`ingot machine ls\``,
    );
  return hit.id;
}
