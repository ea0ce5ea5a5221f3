/**
 * The agent protocol: what the engine asks of the agent in a machine's ephemeral OS, and what
 * the agent answers. One definition for the three parties: the engine asks
 * (src/engine/agent-tasks-port.ts), the rack hands tasks out and records reports
 * (src/netboot/http/agent-*.ts), and the agent script (src/agent/guest/) reads each task as
 * `T_*` shell variables — a test checks the script reads exactly the variables named here.
 *
 * - task names, and which tasks the rack answers itself (never handed to the agent);
 * - each task's parameters and the variable each one reaches the agent as;
 * - the agent's hello and report bodies, bounded and checked;
 * - the inventory result, checked before the engine stores it.
 * Pure: no I/O.
 */
import type { HardwareTest, WipeMode } from './action-params.ts';
import { ErrorCode, IngotError } from './errors.ts';
import { type Compression, IMAGE_FORMATS, type ImageFormat, isSha256 } from './image.ts';
import type { EtcdSnapshotParams, NodeExecParams } from './etcd-backup-protocol.ts';
import { type Cpu, type Disk, type Nic, normalizeMac } from './machine.ts';
import type { BootstrapParams } from './node-agent-protocol.ts';

export const AgentTask = {
  /** The ephemeral OS of this job's boot phoned home (POST /agent/v1/hello). */
  Hello: 'hello',
  Inventory: 'inventory',
  Tests: 'tests',
  WriteImage: 'write-image',
  Wipe: 'wipe',
  /** The deployed OS booted from disk and phoned home (cloud-init phone_home). */
  OsBooted: 'os-booted',
  /**
   * Bootstrap Kubernetes on a deployed node (kubeadm init or join): run by the node agent of
   * the kubernetes-node image, not the ephemeral agent. Parameters `BootstrapParams`, result
   * `BootstrapResult`.
   */
  Bootstrap: 'bootstrap',
  /**
   * Node agent, control plane: `etcdctl snapshot save` of the local member, uploaded to the rack
   * (`PUT /agent/v1/tasks/<id>/file`). Parameters `EtcdSnapshotParams`; result checked by
   * `checkEtcdSnapshotResult` (etcd-backup-protocol.ts).
   */
  EtcdSnapshot: 'etcd-snapshot',
  /**
   * Node agent: one shell script as root, its stdout returned (the region's NodeShell on a
   * deployed node: an etcd restore's steps). Parameters `NodeExecParams`.
   */
  NodeExec: 'node-exec',
  /**
   * On a control plane: `kubeadm token create --ttl 1h` for a worker joining a running cluster
   * (a scale). No parameters; result `JoinTokenResult` (the rack seals the token).
   */
  JoinToken: 'join-token',
  /**
   * Restart a control plane's kube-apiserver (the kubelet starts its static pod again) and wait
   * for its /readyz: Kubernetes 1.20's first API server goes stale once the other control
   * planes' etcd members joined (kubernetes/kubernetes#97294). Node agent; no parameters;
   * result `{ readyAfterSeconds }`.
   */
  RestartApiServer: 'restart-apiserver',
} as const;
export type AgentTask = (typeof AgentTask)[keyof typeof AgentTask];

/**
 * Timeline events of a task: `agent.<task>.started`, `.progress`, `.failed`, and `agent.<task>`
 * when it is done (the hello's event is `agent.hello`); `agent.<name>` for an event the agent names.
 */
export const agentEvent = {
  done: (task: string) => `agent.${task}`,
  started: (task: string) => `agent.${task}.started`,
  progress: (task: string) => `agent.${task}.progress`,
  failed: (task: string) => `agent.${task}.failed`,
  named: (event: string) => `agent.${event}`,
} as const;
export const HELLO_EVENT = 'agent.hello';
export const OS_BOOTED_EVENT = 'agent.os-booted';

/** Tasks the rack answers from other requests (hello, the deployed OS): the agent never runs them. */
export const RACK_ANSWERED: readonly AgentTask[] = [AgentTask.Hello, AgentTask.OsBooted];

/** Tasks the node agent of a deployed kubernetes-node OS runs; the ephemeral agent never sees them. */
export const NODE_TASKS: readonly AgentTask[] = [
  AgentTask.Bootstrap,
  AgentTask.EtcdSnapshot,
  AgentTask.NodeExec,
  AgentTask.JoinToken,
  AgentTask.RestartApiServer,
];

/** Tasks the ephemeral OS's agent runs (src/agent/guest/); the node agent never gets them. */
export const EPHEMERAL_TASKS: readonly AgentTask[] = Object.values(AgentTask).filter(
  (t) => !RACK_ANSWERED.includes(t) && !NODE_TASKS.includes(t),
);

// --- parameters -------------------------------------------------------------------------------

export interface InventoryParams {
  /** How long after boot the inventory listens for LLDP (switches send every 30 s). */
  lldpSeconds: number;
}

export interface TestsParams {
  tests: HardwareTest[];
  cpuSeconds: number;
  /** MiB read per disk (0: the whole disk). */
  diskReadMiB: number;
  memoryMiB: number;
}

export interface WipeParams {
  mode: WipeMode;
}

/** The image write-image streams; `artifact` is a path under the rack's /artifacts/. */
export interface ImageSpec {
  url?: string;
  artifact?: string;
  sha256: string;
  format: ImageFormat;
  compression?: Compression;
  sizeBytes?: number;
  /** The registry's name of the image (shown in progress lines). */
  imageName?: string;
}

export interface WriteImageParams extends ImageSpec {
  /** The target disk (`sda`, `/dev/nvme0n1`); empty: the first disk. */
  disk: string;
  /**
   * Netplan v2 network-config (checked by the region: src/engine/network-config.ts), written
   * into the deployed OS as cloud-init's `network:` config, which it applies at first boot.
   */
  networkConfig?: string;
}

/** An inline image of a deploy's parameters (action-params.ts checked it field by field). */
export function isImageSpec(v: unknown): v is ImageSpec {
  return (
    isObject(v) &&
    typeof v.sha256 === 'string' &&
    isSha256(v.sha256) &&
    (typeof v.url === 'string' || typeof v.artifact === 'string') &&
    IMAGE_FORMATS.includes(v.format as ImageFormat)
  );
}

type AnyParam = keyof (InventoryParams &
  TestsParams &
  WipeParams &
  WriteImageParams &
  BootstrapParams &
  EtcdSnapshotParams &
  NodeExecParams);

/**
 * The shell variable each parameter reaches the agent as (`T_LLDP_SECONDS='35'`): the task is
 * sourced, so the agent needs no JSON parser. A parameter missing here fails tsc; null: the
 * agent never sees it.
 */
export const PARAM_ENV: Readonly<Record<AnyParam, string | null>> = {
  lldpSeconds: 'T_LLDP_SECONDS',
  tests: 'T_TESTS',
  cpuSeconds: 'T_CPU_SECONDS',
  diskReadMiB: 'T_DISK_READ_MIB',
  memoryMiB: 'T_MEMORY_MIB',
  mode: 'T_MODE',
  url: 'T_URL',
  // The rack turns it into T_URL on itself.
  artifact: null,
  sha256: 'T_SHA256',
  format: 'T_FORMAT',
  compression: 'T_COMPRESSION',
  sizeBytes: 'T_SIZE_BYTES',
  imageName: 'T_IMAGE_NAME',
  disk: 'T_DISK',
  networkConfig: 'T_NETWORK_CONFIG',
  role: 'T_ROLE',
  script: 'T_SCRIPT',
  maxBytes: 'T_MAX_BYTES',
  fetch: 'T_FETCH',
};

/** Variables the rack adds: the task's id and name, and for write-image where to go next. */
export const RACK_ENV = {
  id: 'T_ID',
  name: 'T_NAME',
  /** write-image: the image's URL on the rack when the task names an artifact. */
  url: 'T_URL',
  metadataUrl: 'T_METADATA_URL',
  osBootedUrl: 'T_OS_BOOTED_URL',
  /** The deployed OS's own token (never the boot token), for its cloud-init seed. */
  osToken: 'T_OS_TOKEN',
} as const;

/** A value as one POSIX-sh single-quoted word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A task as the `T_NAME='value'` lines the agent sources. Strings as they are, numbers as
 * digits, booleans as 1/0, arrays as space-separated words; parameters the protocol does not
 * name are left out. The rack's variables come last: a parameter never renames the task.
 */
export function taskAsShell(
  task: { id: string; name: string; params: Record<string, unknown> },
  rack: Partial<Record<Exclude<keyof typeof RACK_ENV, 'id' | 'name'>, string>> = {},
): string {
  const vars = new Map<string, string>();
  for (const [k, v] of Object.entries(task.params)) {
    const env = PARAM_ENV[k as AnyParam];
    if (!env) continue;
    if (typeof v === 'string') vars.set(env, v);
    else if (typeof v === 'number') vars.set(env, String(v));
    else if (typeof v === 'boolean') vars.set(env, v ? '1' : '0');
    else if (Array.isArray(v)) vars.set(env, v.map(String).join(' '));
  }
  for (const [k, v] of Object.entries(rack))
    if (v !== undefined && !(k === 'url' && vars.has(RACK_ENV.url)))
      vars.set(RACK_ENV[k as keyof typeof rack], v);
  vars.set(RACK_ENV.id, task.id);
  vars.set(RACK_ENV.name, task.name);
  return `${[...vars].map(([k, v]) => `${k}=${shellQuote(v)}`).join('\n')}\n`;
}

// --- what the agent sends ---------------------------------------------------------------------

/** Longest long-poll (`GET /agent/v1/task?wait=`), seconds. */
export const MAX_WAIT_S = 30;
/** Largest report body (it carries the task's log). */
export const MAX_REPORT_BYTES = 4 * 2 ** 20;
/** Log bytes kept on a timeline event. */
export const LOG_TAIL_BYTES = 16 * 1024;

/** What the agent says in its hello (`POST /agent/v1/hello`); anything else is dropped. */
export const HELLO_FIELDS = ['mac', 'ip', 'uptime', 'bootId', 'agent', 'kernel'] as const;

/** The hello's known fields, strings cut to 200 characters. */
export function helloFields(body: unknown): Record<string, string | number> {
  const o = isObject(body) ? body : {};
  const out: Record<string, string | number> = {};
  for (const k of HELLO_FIELDS) {
    const v = o[k];
    if (typeof v === 'string') out[k] = v.slice(0, 200);
    else if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** One report about a task (`POST /agent/v1/tasks/<id>`); an empty one is a heartbeat. */
export interface AgentReport {
  status?: 'running' | 'done' | 'failed';
  message?: string;
  /** A named event on the machine's timeline, `agent.<event>` (e.g. `test.smart`). */
  event?: string;
  level: 'info' | 'warning' | 'error';
  data: Record<string, unknown>;
  result?: unknown;
  reason?: string;
  log?: string;
}

const EVENT_NAME = /^[a-z0-9][a-z0-9.-]{0,63}$/;

/** A report body as the rack records it: unknown values dropped, every string bounded. */
export function parseReport(body: unknown): AgentReport {
  const o = isObject(body) ? body : {};
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : undefined);
  const status =
    o.status === 'running' || o.status === 'done' || o.status === 'failed' ? o.status : undefined;
  return {
    status,
    message: str(o.message, 500),
    event: typeof o.event === 'string' && EVENT_NAME.test(o.event) ? o.event : undefined,
    level: o.level === 'warning' || o.level === 'error' ? o.level : 'info',
    data: isObject(o.data) ? o.data : {},
    result: o.result,
    reason: str(o.reason, 1000),
    log: str(o.log, MAX_REPORT_BYTES),
  };
}

// --- results ----------------------------------------------------------------------------------

/** What `inventory` finds: the Machine's hardware fields, and the rest under `details`. */
export interface InventoryResult {
  cpu: Cpu;
  memoryBytes: number;
  disks: Disk[];
  nics: Nic[];
  /** DMI, SMART health, links, LLDP neighbours, kernel, agent and image versions. */
  details?: Record<string, unknown>;
}

/**
 * The inventory an agent reported, checked before anything of it is stored: a malformed one
 * fails the step with the field at fault instead of writing nonsense onto the machine.
 */
export function checkInventory(v: unknown): InventoryResult {
  const bad = (field: string, what: string) =>
    new IngotError(ErrorCode.AgentError, `the agent's inventory is malformed: ${field}: ${what}`, {
      details: { field },
    });
  const text = (x: unknown, field: string, max: number, optional = true): string | undefined => {
    if (x === undefined && optional) return undefined;
    if (typeof x !== 'string' || x.length > max) throw bad(field, `a string of at most ${max} characters`);
    return x;
  };
  const count = (x: unknown, field: string, optional = false): number | undefined => {
    if (x === undefined && optional) return undefined;
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw bad(field, 'a whole number ≥ 0');
    return x;
  };
  const list = (x: unknown, field: string): unknown[] => {
    if (!Array.isArray(x) || x.length > 256) throw bad(field, 'a list of at most 256 entries');
    return x;
  };
  const obj = (x: unknown, field: string): Record<string, unknown> => {
    if (!isObject(x)) throw bad(field, 'an object');
    return x;
  };
  const o = obj(v, 'result');
  const cpu = obj(o.cpu, 'cpu');
  const cores = count(cpu.cores, 'cpu.cores')!;
  if (cores === 0) throw bad('cpu.cores', 'at least 1');
  const disks = list(o.disks, 'disks').map((d, i): Disk => {
    const x = obj(d, `disks[${i}]`);
    if (x.rotational !== undefined && typeof x.rotational !== 'boolean')
      throw bad(`disks[${i}].rotational`, 'true or false');
    return prune({
      name: text(x.name, `disks[${i}].name`, 64, false)!,
      sizeBytes: count(x.sizeBytes, `disks[${i}].sizeBytes`)!,
      model: text(x.model, `disks[${i}].model`, 200),
      serial: text(x.serial, `disks[${i}].serial`, 200),
      rotational: x.rotational as boolean | undefined,
    });
  });
  const nics = list(o.nics, 'nics').map((n, i): Nic => {
    const x = obj(n, `nics[${i}]`);
    const mac = normalizeMac(text(x.mac, `nics[${i}].mac`, 64, false)!);
    if (!mac) throw bad(`nics[${i}].mac`, 'a MAC address');
    return prune({
      mac,
      boot: x.boot === true,
      name: text(x.name, `nics[${i}].name`, 64),
      driver: text(x.driver, `nics[${i}].driver`, 64),
      speedMbps: count(x.speedMbps, `nics[${i}].speedMbps`, true),
    });
  });
  return prune({
    cpu: prune({
      model: text(cpu.model, 'cpu.model', 200),
      cores,
      threads: count(cpu.threads, 'cpu.threads', true),
    }),
    memoryBytes: count(o.memoryBytes, 'memoryBytes')!,
    disks,
    nics,
    details: o.details === undefined ? undefined : obj(o.details, 'details'),
  });
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drops undefined fields, so a checked value compares equal to what was sent. */
export function prune<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
