/** The records the Store takes and gives back (store.ts): new rows, patches, filters, pages. */
import type { Role } from '../core/auth.ts';
import type { Bundle } from '../core/bundle.ts';
import type { NewEvent } from '../core/event.ts';
import type { Compression, ImageFormat, ImageKind, ImageStatus } from '../core/image.ts';
import type { ClusterMember } from '../core/cluster.ts';
import type { ClusterState } from '../core/cluster-lifecycle.ts';
import type { JobKind, JobStatus, JobStep } from '../core/job.ts';
import type { MachineState } from '../core/lifecycle.ts';
import type { Arch, Cpu, Disk, Nic, PowerState } from '../core/machine.ts';
import type { DhcpMode, IpRange } from '../core/subnet.ts';
import type { DiskHealth } from '../core/health.ts';

export interface NewMachine {
  hostname: string;
  arch: Arch;
  bmc: { address: string; username: string; password: string } | null;
  nics: Nic[];
  tags: string[];
  zone: string;
  rack: string;
  pool: string;
  state?: MachineState;
  stateReason?: string;
}

/** Fields an operator or the agent may change directly (never the state: use transition()). */
export interface MachinePatch {
  hostname?: string;
  arch?: Arch;
  /** `password` omitted keeps the stored one. */
  bmc?: { address: string; username: string; password?: string } | null;
  nics?: Nic[];
  disks?: Disk[];
  cpu?: Cpu | null;
  memoryBytes?: number | null;
  tags?: string[];
  zone?: string;
  rack?: string;
  pool?: string;
  powerState?: PowerState;
}

export interface MachineFilter {
  state?: MachineState[];
  tag?: string[];
  zone?: string;
  rack?: string;
  pool?: string;
  owner?: string;
  /** Substring of the hostname or exact MAC. */
  q?: string;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page; null on the last page. */
  next: string | null;
  /** Number of items matching the filter, across all pages. */
  total: number;
}

export interface NewJob {
  kind: JobKind;
  steps: string[];
  params?: Record<string, unknown>;
}

export interface TransitionRequest {
  machineId: string;
  /** Compare-and-set: the write happens only if the machine is still in this state. */
  from: MachineState;
  to: MachineState;
  reason: string;
  actor: string;
  /** Extra machine fields written in the same transaction. */
  set?: { owner?: string; rescueFrom?: MachineState | null; commissionedAt?: string | null };
  /** A job to enqueue in the same transaction. */
  job?: NewJob;
  /** Cancel the machine's unfinished jobs in the same transaction (abort, watchdog). */
  cancelJobs?: boolean;
  data?: Record<string, unknown>;
}

/**
 * What a workflow step learned about its machine. The worker writes it with the step's
 * progress (or the job's end), fenced on the lease like the rest: a worker that lost its job
 * changes nothing on the machine either.
 */
export interface MachineChanges {
  /** The power state the BMC reported: no version bump, no audit event. */
  powerState?: PowerState;
  cpu?: Cpu;
  memoryBytes?: number;
  disks?: Disk[];
  nics?: Nic[];
  /** The agent's whole inventory report (DMI, SMART, LLDP…), beside the fields above. */
  inventory?: Record<string, unknown>;
  /** SMART reports of the machine's disks (the inventory's smartctl output), kept per serial. */
  diskHealth?: readonly DiskHealth[];
}

export interface JobProgress {
  stepIndex: number;
  steps: JobStep[];
  runAfter: number;
  scratch: Record<string, unknown>;
  /** Written with the progress, in the same transaction. */
  machine?: MachineChanges;
}

export interface JobFinish {
  status: Extract<JobStatus, 'done' | 'failed'>;
  error: string | null;
  steps: JobStep[];
  stepIndex: number;
  /** Machine transition committed atomically with the job's end, compare-and-set on `from`. */
  transition?: { from: MachineState; to: MachineState; reason: string; set?: TransitionRequest['set'] };
  /** What the last step learned about the machine, written before the transition. */
  machine?: MachineChanges;
  /** A cluster job's end: the cluster's move, compare-and-set on `from`. */
  cluster?: { from: ClusterState; to: ClusterState; reason: string };
  events: NewEvent[];
}

/** A cluster to create with the machines it allocates (src/store/clusters-sql.ts). */
export interface NewCluster {
  name: string;
  /** The Cluster file as submitted. */
  clusterFile: string;
  distribution: string;
  version: string;
  endpoint: string;
  /** Each machine must be ready; it is allocated to the cluster in the same transaction. */
  members: ClusterMember[];
  /** The create job, queued in the same transaction. */
  job: NewJob;
  reason: string;
  /** When it is created (epoch ms), for its row, events and job; now when absent (a test's clock, an import). */
  at?: number;
}

export interface ClusterTransitionRequest {
  clusterId: string;
  from: ClusterState;
  to: ClusterState;
  reason: string;
  actor: string;
  /** The workflow to queue in the same transaction; the cluster's unfinished jobs are cancelled. */
  job?: NewJob;
}

export interface EventFilter {
  machineId?: string;
  clusterId?: string;
  jobId?: string;
  afterId?: number;
  limit: number;
  newestFirst?: boolean;
}

export interface NewToken {
  name: string;
  role: Role;
  /** SHA-256 of the secret: the secret itself is never stored. */
  hash: string;
  expiresAt: string | null;
}

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  limit: number;
  /** Return false to skip a candidate (concurrency limits); it stays available to others. */
  accept?: (candidate: { id: string; rack: string; bmcHost: string; kind: JobKind }) => boolean;
}

export interface IpAllocation {
  subnetId: string;
  ip: string;
  machineId: string | null;
  mac: string | null;
  kind: 'static' | 'dhcp';
  expiresAt: string | null;
}

/** One address row as the DHCP server loads it (times in ms). */
export interface LeaseRow {
  ipNum: number;
  mac: string | null;
  machineId: string | null;
  kind: 'static' | 'dhcp';
  expiresAt: number | null;
}

/** A DHCP lease to persist (see commitLeases). */
export interface LeaseWrite {
  subnetId: string;
  ip: string;
  ipNum: number;
  mac: string;
  machineId: string | null;
  /** Lease end in ms; null for a known machine's reservation (kept until the machine goes). */
  expiresAt: number | null;
}

export interface NewSubnet {
  name: string;
  cidr: string;
  gateway: string | null;
  dns: string[];
  vlan: number | null;
  dhcpMode: DhcpMode;
  autoEnlist: boolean;
  ranges: IpRange[];
}

export type AgentTaskStatus = 'pending' | 'running' | 'done' | 'failed';

/** One task the engine asked of a machine's agent (see agent-tasks-sql.ts). Times in ms. */
export interface AgentTaskRow {
  id: string;
  machineId: string;
  jobId: string;
  name: string;
  params: Record<string, unknown>;
  status: AgentTaskStatus;
  result: unknown;
  reason: string | null;
  /** The last thing the agent said about the task: what a stuck step shows. */
  lastMessage: string | null;
  createdAt: number;
  startedAt: number | null;
  /** When the agent last reported anything about the task (progress lines are heartbeats). */
  heartbeatAt: number | null;
  finishedAt: number | null;
}

export interface NewAgentTask {
  machineId: string;
  jobId: string;
  name: string;
  params?: Record<string, unknown>;
}

export interface AgentTaskUpdate {
  status?: Exclude<AgentTaskStatus, 'pending'>;
  message?: string;
  result?: unknown;
  reason?: string;
}

/** One registered OS or boot image (migration 5; src/images owns the files). Times are ISO. */
export interface ImageRow {
  id: string;
  name: string;
  kind: ImageKind;
  format: ImageFormat;
  compression: Compression;
  /** Bytes of the stored file (as served, compressed when compressed); null while importing. */
  size: number | null;
  /** Size of the disk it describes (raw: the file; qcow2: its virtual size), when known. */
  virtualSize: number | null;
  /** SHA-256 (hex) of the stored file; null until imported. */
  sha256: string | null;
  source: string;
  /** Path under the artifacts dir (`images/<name>.<format>[.<compression>]`). */
  path: string;
  status: ImageStatus;
  statusReason: string;
  manifest: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export type NewImage = Pick<ImageRow, 'name' | 'kind' | 'format' | 'compression' | 'source' | 'path'> &
  Partial<Pick<ImageRow, 'size' | 'virtualSize' | 'sha256' | 'status' | 'statusReason' | 'manifest'>>;

export type ImagePatch = Partial<
  Pick<
    ImageRow,
    | 'format'
    | 'compression'
    | 'size'
    | 'virtualSize'
    | 'sha256'
    | 'path'
    | 'status'
    | 'statusReason'
    | 'manifest'
  >
>;

/** A bundle to register (migration 7; src/bundles owns the files). `{id}` in `path` becomes the new row's id. */
export type NewBundle = Pick<Bundle, 'source' | 'path'> & { name: string | null };

export type BundlePatch = Partial<
  Pick<Bundle, 'name' | 'version' | 'arch' | 'size' | 'sha256' | 'status' | 'statusReason' | 'manifest'>
>;
