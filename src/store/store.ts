/**
 * The Store: every durable fact of a region. One interface, one SQL implementation
 * (sql-store.ts) over two backends (node:sqlite, PostgreSQL) sharing one migration set.
 * Every mutation that concerns a machine writes its event in the same transaction.
 */
import type { ApiToken, Role } from '../core/auth.ts';
import type { Bundle } from '../core/bundle.ts';
import type { IngotEvent, NewEvent } from '../core/event.ts';
import type { Compression, ImageFormat, ImageKind, ImageStatus } from '../core/image.ts';
import type { Cluster, ClusterConditions, ClusterMember, MemberRole } from '../core/cluster.ts';
import type { ClusterState } from '../core/cluster-lifecycle.ts';
import type { Job, JobKind, JobStatus, JobStep } from '../core/job.ts';
import type { MachineState } from '../core/lifecycle.ts';
import type { Arch, Cpu, Disk, Machine, Nic, PowerState } from '../core/machine.ts';
import type { DhcpMode, IpRange, Subnet } from '../core/subnet.ts';
import type { PowerAverage } from './power-readings-sql.ts';

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

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;

  // machines
  createMachine(input: NewMachine, actor: string): Promise<Machine>;
  getMachine(id: string): Promise<Machine>;
  findMachineByMac(mac: string): Promise<Machine | null>;
  listMachines(filter: MachineFilter, limit: number, cursor?: string | null): Promise<Page<Machine>>;
  /** Compare-and-set on `expectedVersion` when given. */
  updateMachine(id: string, patch: MachinePatch, actor: string, expectedVersion?: number): Promise<Machine>;
  deleteMachine(id: string, actor: string): Promise<void>;
  countMachinesByState(): Promise<Partial<Record<MachineState, number>>>;
  /** Reads the BMC password: only drivers call this, never the API. */
  bmcPassword(machine: Machine): Promise<string>;
  transition(req: TransitionRequest): Promise<{ machine: Machine; job: Job | null }>;
  /** Machines in `states` that entered them before `enteredBefore` (ms): watchdog candidates. */
  machinesStuck(states: MachineState[], enteredBefore: number, limit: number): Promise<Machine[]>;

  // jobs
  enqueueJob(machineId: string, job: NewJob, actor: string): Promise<Job>;
  getJob(id: string): Promise<Job>;
  listJobs(
    filter: { machineId?: string; clusterId?: string; status?: JobStatus[] },
    limit: number,
  ): Promise<Job[]>;
  claimJobs(opts: ClaimOptions): Promise<Job[]>;
  /** Extends every lease `owner` holds; returns how many jobs it still holds. */
  heartbeat(owner: string, leaseMs: number): Promise<number>;
  /** Fenced on the lease: returns false when `owner` no longer holds the job. */
  saveJobProgress(jobId: string, owner: string, progress: JobProgress, events?: NewEvent[]): Promise<boolean>;
  /** Fenced on the lease; false when the lease was lost (another worker will finish it). */
  finishJob(jobId: string, owner: string, finish: JobFinish): Promise<boolean>;
  /** Gives back the leases `owner` holds (clean shutdown) so others take over at once. */
  releaseLeases(owner: string): Promise<number>;

  // clusters (src/store/clusters-sql.ts)
  /** The cluster, its members allocated (ready → allocated) and its create job: all or nothing. */
  createCluster(input: NewCluster, actor: string): Promise<{ cluster: Cluster; job: Job }>;
  /** By id or name; INGOT_NOT_FOUND when absent. */
  getCluster(ref: string): Promise<Cluster>;
  listClusters(opts?: { includeDeleted?: boolean }): Promise<Cluster[]>;
  clusterTransition(req: ClusterTransitionRequest): Promise<{ cluster: Cluster; job: Job | null }>;
  /** Seals the admin kubeconfig. */
  setClusterKubeconfig(clusterId: string, kubeconfig: string): Promise<void>;
  /** The admin kubeconfig, or null before the init node returned it. */
  clusterKubeconfig(clusterId: string): Promise<string | null>;
  setClusterConditions(clusterId: string, conditions: ClusterConditions): Promise<void>;
  /** Which cluster each machine belongs to, with its role there. */
  clustersOfMachines(
    machineIds: readonly string[],
  ): Promise<Map<string, { cluster: string; role: MemberRole }>>;

  // events
  appendEvents(events: NewEvent[]): Promise<void>;
  listEvents(filter: EventFilter): Promise<IngotEvent[]>;

  // secrets
  putSecret(purpose: string, plaintext: string): Promise<string>;
  getSecret(id: string): Promise<string>;
  deleteSecret(id: string): Promise<void>;

  // subnets and IPAM
  createSubnet(input: NewSubnet, actor: string): Promise<Subnet>;
  getSubnet(idOrName: string): Promise<Subnet>;
  listSubnets(): Promise<Subnet[]>;
  updateSubnet(id: string, patch: Partial<NewSubnet>, actor: string): Promise<Subnet>;
  deleteSubnet(id: string, actor: string): Promise<void>;
  /** Assigns the lowest free address of the subnet's dynamic ranges (or `ip` when given). */
  allocateIp(
    subnetId: string,
    req: { machineId?: string; mac?: string; ip?: string; kind: 'static' | 'dhcp'; ttlMs?: number },
  ): Promise<IpAllocation>;
  releaseIp(subnetId: string, ip: string): Promise<void>;
  listIps(subnetId: string): Promise<IpAllocation[]>;
  /**
   * DHCP lease group commit: writes every lease of the batch in one transaction and says, per
   * lease, whether it was written. A lease is refused (false) when its address belongs to
   * another MAC: a static allocation, a known machine's reservation or an unexpired lease.
   * The MAC's other dynamic leases in the subnet are dropped, so a MAC holds one lease.
   */
  commitLeases(leases: readonly LeaseWrite[]): Promise<boolean[]>;
  /** Every address row of a subnet, for the DHCP server's in-memory pool. */
  loadLeases(subnetId: string): Promise<LeaseRow[]>;
  /** MAC → machine id of every machine NIC (the DHCP server's known-client cache). */
  listMachineMacs(): Promise<{ mac: string; machineId: string }[]>;
  /** Unexpired address rows (static or DHCP lease) holding `ip`, in any subnet. */
  findIpsByAddress(ip: string): Promise<IpAllocation[]>;

  // per-machine boot tokens (kernel command line, metadata, agent): only a SHA-256 is stored
  /** Replaces the machine's boot token; `expiresAt` in ms, null for none. */
  setMachineBootToken(machineId: string, hash: string, expiresAt: number | null): Promise<void>;
  /** The machine whose unexpired boot token hashes to `hash`, or null. */
  findMachineByBootToken(hash: string): Promise<Machine | null>;
  /** Replaces (or, with null, deletes) the deployed OS's metadata token; see machine-tokens-sql.ts. */
  setMachineOsToken(machineId: string, hash: string | null): Promise<void>;
  /** The machine whose deployed-OS token hashes to `hash`, or null. */
  findMachineByOsToken(hash: string): Promise<Machine | null>;

  // agent tasks (src/store/agent-tasks-sql.ts)
  /** Creates the task unless (jobId, machineId, name) has one; returns the stored row. */
  ensureAgentTask(t: NewAgentTask): Promise<AgentTaskRow>;
  getAgentTask(id: string): Promise<AgentTaskRow | null>;
  /** With `machineId`, that machine's task (a cluster job asks each member the same task). */
  findAgentTask(jobId: string, name: string, machineId?: string): Promise<AgentTaskRow | null>;
  /** The oldest unfinished task of the machine's active job, without the `exclude`d names. */
  nextAgentTask(machineId: string, exclude?: readonly string[]): Promise<AgentTaskRow | null>;
  /** Progress, heartbeat or end of a task, with events; null when the task had already finished. */
  updateAgentTask(
    id: string,
    update: AgentTaskUpdate,
    events?: readonly NewEvent[],
  ): Promise<AgentTaskRow | null>;
  /** The agent's detailed inventory of a machine (DMI, SMART, LLDP…), as the inventory step stored it. */
  getMachineInventory(machineId: string): Promise<Record<string, unknown> | null>;

  // images (src/store/images-sql.ts; the files are src/images/registry.ts's)
  /** Registers an image (status `importing` unless given); `replaceUnready` replaces a failed or stale row of that name. */
  createImage(input: NewImage, actor: string, opts?: { replaceUnready?: boolean }): Promise<ImageRow>;
  /** By name or id; INGOT_NOT_FOUND when absent. */
  getImage(nameOrId: string): Promise<ImageRow>;
  listImages(): Promise<ImageRow[]>;
  /** With `ifStatus`, a compare-and-set on the status; null when it no longer had it. */
  updateImage(
    id: string,
    patch: ImagePatch,
    actor: string,
    ifStatus?: ImageRow['status'],
  ): Promise<ImageRow | null>;
  /** Removes the row (and returns it, so the caller can remove the file). */
  deleteImage(nameOrId: string, actor: string): Promise<ImageRow>;

  // Kubernetes bundles (src/store/bundles-sql.ts; the files are src/bundles/registry.ts's)
  /** Registers a bundle as `importing`; `replaceUnready` first drops a failed row of the same name. */
  createBundle(input: NewBundle, actor: string, opts?: { replaceUnready?: boolean }): Promise<Bundle>;
  /** By name or id; INGOT_NOT_FOUND when absent. */
  getBundle(nameOrId: string): Promise<Bundle>;
  listBundles(): Promise<Bundle[]>;
  /**
   * With `ifStatus`, a compare-and-set on the status (null when it no longer had it). A patch
   * that names the bundle first drops a *failed* row holding that name; a ready or importing
   * one is a conflict (INGOT_CONFLICT naming `name`).
   */
  updateBundle(
    id: string,
    patch: BundlePatch,
    actor: string,
    ifStatus?: Bundle['status'],
  ): Promise<Bundle | null>;
  /** Removes the row (and returns it, so the caller can remove the files). */
  deleteBundle(nameOrId: string, actor: string): Promise<Bundle>;

  // BMC power readings (power-readings-sql.ts): the cost model's average watts
  /** Records a reading in watts at `at` (ms) unless the machine has one in the last minute; false then. */
  recordPowerReading(machineId: string, at: number, watts: number): Promise<boolean>;
  /** Per machine: the mean of its readings at or after `since` (ms) and their count. */
  averagePower(since: number): Promise<Map<string, PowerAverage>>;
  /** Drops readings older than `before` (ms). */
  prunePowerReadings(before: number): Promise<number>;

  // tokens
  createToken(t: NewToken, actor?: string): Promise<ApiToken>;
  findTokenByHash(hash: string): Promise<ApiToken | null>;
  listTokens(): Promise<ApiToken[]>;
  revokeToken(id: string, actor?: string): Promise<void>;
  touchToken(id: string): Promise<void>;
}
