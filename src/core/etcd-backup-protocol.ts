/**
 * The node agent's etcd tasks (agent-protocol.ts names them): `etcd-snapshot` takes a snapshot
 * of a control plane's local member and uploads it to the rack, `node-exec` runs one script and
 * returns its stdout (a restore's steps, through src/engine/cluster/agent-shell.ts). Their
 * parameters, the file each task moves through the rack, and their results as checked where the
 * region reads them. Pure: no I/O.
 */
import { ErrorCode, IngotError } from './errors.ts';
import { isObject } from './agent-protocol.ts';
import { isSha256 } from './image.ts';

/** The largest snapshot the rack takes by default: etcd's largest backend quota (8 GiB). */
export const MAX_SNAPSHOT_BYTES = 8 * 2 ** 30;
/** The largest stdout a node-exec returns (base64 in the report, under its 4 MiB). */
export const MAX_EXEC_STDOUT = 2 ** 20;
/** The header the agent sends its SHA-256 of an upload in; the rack checks the bytes against it. */
export const SHA256_HEADER = 'x-ingot-sha256';

export interface EtcdSnapshotParams {
  /** Where the rack stores the upload, under its artifacts dir (`etcd-snapshots/<cluster>/<id>.db`). */
  artifact: string;
  /** Largest upload the rack accepts, bytes. */
  maxBytes: number;
}

export interface NodeExecParams {
  /** The script, run by `sh` as root; its stdout is the result. */
  script: string;
  /** Optional: a path on the node the task's file (`artifact`) is downloaded to before the script. */
  fetch?: string;
  artifact?: string;
}

export interface EtcdSnapshotResult {
  sha256: string;
  bytes: number;
  /** `etcdctl snapshot status`: the store's revision, key count and hash. */
  revision: number;
  totalKeys: number;
  hash: number;
}

const nat = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** An etcd-snapshot result as the region may trust it; throws naming the field. */
export function checkEtcdSnapshotResult(v: unknown): EtcdSnapshotResult {
  const bad = (field: string, what: string) =>
    new IngotError(ErrorCode.AgentError, `the agent's etcd-snapshot result is malformed: ${field}: ${what}`, {
      details: { field },
    });
  if (!isObject(v)) throw bad('result', 'an object');
  if (typeof v.sha256 !== 'string' || !isSha256(v.sha256)) throw bad('sha256', '64 hex digits');
  for (const f of ['bytes', 'revision', 'totalKeys', 'hash'] as const)
    if (!nat(v[f])) throw bad(f, 'a whole number ≥ 0');
  return {
    sha256: v.sha256,
    bytes: v.bytes as number,
    revision: v.revision as number,
    totalKeys: v.totalKeys as number,
    hash: v.hash as number,
  };
}

/** A node-exec's stdout from its result (`{stdout: base64}`). */
export function execStdout(v: unknown): string {
  if (!isObject(v) || typeof v.stdout !== 'string')
    throw new IngotError(
      ErrorCode.AgentError,
      'the agent’s node-exec result is malformed: stdout: base64 text',
    );
  return new TextDecoder().decode(Uint8Array.from(atob(v.stdout), (c) => c.charCodeAt(0)));
}
