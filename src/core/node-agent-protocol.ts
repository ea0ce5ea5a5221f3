/**
 * The node agent's side of the agent protocol (src/agent/node/, docs/node-os.md): which tasks a
 * deployed kubernetes-node OS's agent runs, its check-in, and the bootstrap result as it sends
 * it — checked here once, where the rack receives it. The tasks, parameters and report bodies
 * both agents share are in agent-protocol.ts.
 */
// Only functions use agent-protocol.ts's values (it re-exports some of these): no import cycle
// at load time.
import { isObject, prune } from './agent-protocol.ts';
import { ErrorCode, IngotError, invalid } from './errors.ts';
import { type DiskHealth, DiskHealthSource } from './health.ts';
import { parseSmartctl } from './smartctl.ts';

/**
 * Where a node agent journals its heartbeats about a task (each with its HTTP code, curl's
 * timings and error, the node's load; src/agent/node/tasks/heartbeat.sh): on the node's disk, so
 * it outlives a silence, the agent and a reboot.
 */
export const NODE_HEARTBEAT_JOURNAL = '/var/lib/ingot-node-agent/heartbeats.log';

// --- the node agent's task parameters and results --------------------------------------------

/** A node's part in a cluster's bootstrap, as the bootstrap task receives it. */
export const BOOTSTRAP_ROLES = ['init', 'control-plane', 'worker'] as const;
export type BootstrapRole = (typeof BOOTSTRAP_ROLES)[number];

export interface BootstrapParams {
  role: BootstrapRole;
  /**
   * The node's rendered bootstrap script (src/cluster/render): bash, run once; it prints
   * `ingot-phase: <name>` lines as it passes each phase.
   */
  script: string;
}

export interface BootstrapResult {
  /** The phases the script passed, in order. */
  phases: string[];
  /** The cluster's admin kubeconfig: only the init node returns it; the region stores it sealed. */
  adminKubeconfig?: string;
}

/** A join token as the engine reads it (the rack stored it sealed). */
export interface JoinTokenResult {
  token: string;
}

/** kubeadm's bootstrap token: `[a-z0-9]{6}.[a-z0-9]{16}`. */
export const BOOTSTRAP_TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

/** A join-token result as the engine may trust it; throws naming the field, never the value. */
export function checkJoinTokenResult(v: unknown): JoinTokenResult {
  if (!isObject(v) || typeof v.token !== 'string' || !BOOTSTRAP_TOKEN.test(v.token))
    throw new IngotError(ErrorCode.AgentError, 'join-token result.token: must be a kubeadm bootstrap token');
  return { token: v.token };
}

/** The prefix of a bootstrap script's phase lines. */
export const BOOTSTRAP_PHASE_PREFIX = 'ingot-phase: ';

/** A bootstrap task's result as the engine may trust it; throws naming the field. */
export function checkBootstrapResult(v: unknown, role: BootstrapRole): BootstrapResult {
  if (!isObject(v) || !Array.isArray(v.phases) || !v.phases.every((p) => typeof p === 'string'))
    throw new IngotError(ErrorCode.AgentError, 'bootstrap result.phases: must be a list of phase names');
  if (v.adminKubeconfig !== undefined && typeof v.adminKubeconfig !== 'string')
    throw new IngotError(ErrorCode.AgentError, 'bootstrap result.adminKubeconfig: must be text');
  if (role === 'init' && (typeof v.adminKubeconfig !== 'string' || v.adminKubeconfig.length === 0))
    throw new IngotError(
      ErrorCode.AgentError,
      'bootstrap result.adminKubeconfig: the init node must return the admin kubeconfig',
    );
  return {
    phases: v.phases as string[],
    ...(typeof v.adminKubeconfig === 'string' ? { adminKubeconfig: v.adminKubeconfig } : {}),
  };
}

// --- check-in ---------------------------------------------------------------------------------

/** A deployed OS's node agent started and checked in (POST /agent/v1/node-hello, OS token). */
export const NODE_HELLO_EVENT = 'agent.node-hello';

/** What the node agent says when it starts: its version and the node's runtime. */
export const NODE_HELLO_FIELDS = [
  'agent',
  'kernel',
  'cgroup',
  'kubelet',
  'containerd',
  'containerdRunning',
  // The last failed heartbeat of its journal (src/agent/node/tasks/heartbeat.sh), if any: a
  // restarted agent's side of a silence.
  'lastBeatFailed',
] as const;

/** The node hello's known fields: strings cut to 200 characters, booleans as they are. */
export function nodeHelloFields(body: unknown): Record<string, string | boolean> {
  const o = isObject(body) ? body : {};
  const out: Record<string, string | boolean> = {};
  for (const k of NODE_HELLO_FIELDS) {
    const v = o[k];
    if (typeof v === 'string') out[k] = v.slice(0, k === 'lastBeatFailed' ? 500 : 200);
    else if (typeof v === 'boolean') out[k] = v;
  }
  return out;
}

/** What the node agent found about the node's runtime (cheap facts). */
export interface NodeFacts {
  kubelet?: string;
  containerd?: string;
  containerdRunning: boolean;
}

/** A bootstrap's result as the engine reads it, with the node's facts when the agent sent them. */
export interface BootstrapReport extends BootstrapResult {
  node?: NodeFacts;
}

/** The field a stored bootstrap result holds the sealed admin kubeconfig's secret id in. */
export const ADMIN_KUBECONFIG_SECRET = 'adminKubeconfigSecret';
/** The field a stored join-token result holds the sealed token's secret id in. */
export const JOIN_TOKEN_SECRET = 'tokenSecret';
/** Largest admin kubeconfig the agent may send (base64), characters. */
export const MAX_ADMIN_KUBECONFIG = 256 * 1024;
const PHASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A bootstrap result as the node agent sends it, checked where the rack receives it: phase
 * names, the node's facts, and for the `init` role only the admin kubeconfig as the base64 of
 * /etc/kubernetes/admin.conf — returned decoded, as the engine reads it (`BootstrapResult`).
 * A malformed one throws naming the field, never the value.
 */
export function checkBootstrapReport(v: unknown, role: BootstrapRole): BootstrapReport {
  const bad = (field: string, what: string) =>
    new IngotError(ErrorCode.AgentError, `the agent's bootstrap result is malformed: ${field}: ${what}`, {
      details: { field },
    });
  if (!isObject(v)) throw bad('result', 'an object');
  if (!Array.isArray(v.phases) || v.phases.length > 64) throw bad('phases', 'a list of at most 64 names');
  const phases = v.phases.map((p, i) => {
    if (typeof p !== 'string' || !PHASE_NAME.test(p))
      throw bad(`phases[${i}]`, 'a phase name (letters, digits, . _ : / -; at most 64)');
    return p;
  });
  const out: BootstrapReport = { phases };
  const k = v.adminKubeconfig;
  if (role === 'init') {
    if (typeof k !== 'string' || k.length === 0 || k.length > MAX_ADMIN_KUBECONFIG || !BASE64.test(k))
      throw bad(
        'adminKubeconfig',
        `the base64 of /etc/kubernetes/admin.conf (at most ${MAX_ADMIN_KUBECONFIG} characters)`,
      );
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(k), (c) => c.charCodeAt(0)),
    );
    if (!/^kind: Config\s*$/m.test(text)) throw bad('adminKubeconfig', 'a kubeconfig (kind: Config)');
    out.adminKubeconfig = text;
  } else if (k !== undefined) throw bad('adminKubeconfig', `only an init node sends it, not a ${role}`);
  if (v.node !== undefined) {
    if (!isObject(v.node)) throw bad('node', 'an object');
    const n = v.node;
    const text = (x: unknown, f: string) => {
      if (x === undefined || x === '') return undefined;
      if (typeof x !== 'string' || x.length > 200)
        throw bad(`node.${f}`, 'a string of at most 200 characters');
      return x;
    };
    if (typeof n.containerdRunning !== 'boolean') throw bad('node.containerdRunning', 'true or false');
    out.node = prune({
      kubelet: text(n.kubelet, 'kubelet'),
      containerd: text(n.containerd, 'containerd'),
      containerdRunning: n.containerdRunning,
    });
  }
  return out;
}

// --- SMART from a deployed node ---------------------------------------------------------------

/** Where the node agent sends its disks' SMART (POST, OS token): `{ disks: [smartctl JSON…] }`. */
export const NODE_SMART_PATH = '/agent/v1/node-smart';
/** How often the node agent reports its disks by default, seconds (`INGOT_SMART_INTERVAL_S`). */
export const NODE_SMART_INTERVAL_S = 3600;
/** Most disks one report may carry. */
export const MAX_NODE_SMART_DISKS = 128;
/** Largest report, bytes (smartctl's JSON of one disk is 5–30 KiB). */
export const MAX_NODE_SMART_BYTES = 4 * 2 ** 20;

/** A node's SMART report as parsed: each disk kept by serial, and what could not be kept and why. */
export interface NodeSmartReport {
  readonly disks: DiskHealth[];
  readonly skipped: { readonly index: number; readonly reason: string }[];
}

/**
 * A node agent's SMART report (`smartctl --json -i -H -A` per disk, as commissioning takes it)
 * to disk health records of `machineId`, source `node-agent`. The envelope must be right (a
 * clear error naming the field); a disk smartctl could not describe (no serial: behind a RAID
 * controller) is skipped with its reason, as the inventory step does.
 */
export function checkNodeSmartReport(v: unknown, machineId: string, at: number): NodeSmartReport {
  if (!isObject(v) || !Array.isArray(v.disks))
    throw invalid('disks', 'a list of smartctl JSON reports, one per disk (smartctl --json -i -H -A /dev/X)');
  if (v.disks.length > MAX_NODE_SMART_DISKS)
    throw invalid('disks', `at most ${MAX_NODE_SMART_DISKS} disks in one report, not ${v.disks.length}`);
  const disks: DiskHealth[] = [];
  const skipped: { index: number; reason: string }[] = [];
  const serials = new Set<string>();
  v.disks.forEach((d, index) => {
    try {
      const h = parseSmartctl(d, { machineId, at, source: DiskHealthSource.NodeAgent });
      // Two paths to one disk (multipath, a SAS disk seen twice) are one report.
      if (serials.has(h.serial)) return;
      serials.add(h.serial);
      disks.push(h);
    } catch (e) {
      skipped.push({ index, reason: (e as Error).message });
    }
  });
  return { disks, skipped };
}
