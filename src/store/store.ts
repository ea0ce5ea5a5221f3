/**
 * The Store: every durable fact of a region. One interface, one SQL implementation
 * (sql-store.ts) over two backends (node:sqlite, PostgreSQL) sharing one migration set.
 * Every mutation that concerns a machine writes its event in the same transaction.
 */
import type { ApiToken } from '../core/auth.ts';
import type { Bundle } from '../core/bundle.ts';
import type { IngotEvent, NewEvent } from '../core/event.ts';
import type { Cluster, ClusterConditions, ClusterMember, MemberRole } from '../core/cluster.ts';
import type { Job, JobStatus } from '../core/job.ts';
import type { ClusterOperation } from '../core/operation.ts';
import type { NewOperation, OperationRetry, OperationUpdate } from './operations-sql.ts';
import type { MachineState } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { Subnet } from '../core/subnet.ts';
import type { PowerAverage } from './power-readings-sql.ts';
import type { BackupStore } from './backups-sql.ts';
import type { ScaleClusterRequest } from './cluster-scale-sql.ts';
import type { HealthLabels } from './health-sql.ts';
import type { DiskHealth, HealthSample } from '../core/health.ts';
import type {
  NewMachine,
  MachinePatch,
  MachineFilter,
  Page,
  NewJob,
  TransitionRequest,
  JobProgress,
  JobFinish,
  NewCluster,
  ClusterTransitionRequest,
  EventFilter,
  NewToken,
  ClaimOptions,
  IpAllocation,
  LeaseRow,
  LeaseWrite,
  NewSubnet,
  AgentTaskRow,
  NewAgentTask,
  AgentTaskUpdate,
  ImageRow,
  NewImage,
  ImagePatch,
  NewBundle,
  BundlePatch,
} from './types.ts';

export type * from './types.ts';

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** etcd backups of clusters (backups-sql.ts, migration 14). */
  readonly backups: BackupStore;
  close(): Promise<void>;

  // machines
  createMachine(input: NewMachine, actor: string): Promise<Machine>;
  getMachine(id: string): Promise<Machine>;
  findMachineByMac(mac: string): Promise<Machine | null>;
  listMachines(filter: MachineFilter, limit: number, cursor?: string | null): Promise<Page<Machine>>;
  /** Compare-and-set on `expectedVersion` when given. */
  updateMachine(id: string, patch: MachinePatch, actor: string, expectedVersion?: number): Promise<Machine>;
  deleteMachine(id: string, actor: string): Promise<void>;
  /** Machines per state; only those of `owner` (a cluster's: `cluster:<name>`) when given. */
  countMachinesByState(filter?: { owner?: string }): Promise<Partial<Record<MachineState, number>>>;
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
  /** A scale: the cluster's move, the new workers allocated as members and the scale job; all or nothing. */
  scaleCluster(req: ScaleClusterRequest): Promise<{ cluster: Cluster; job: Job }>;
  /**
   * Allocates ready machines as members of the cluster, without a move or a job (a remediation's
   * spare control plane); `why` goes in each machine's reason. src/store/cluster-scale-sql.ts.
   */
  addClusterMembers(
    clusterId: string,
    add: readonly ClusterMember[],
    actor: string,
    why: string,
  ): Promise<Cluster>;
  /** Drops released members from the cluster (src/store/cluster-scale-sql.ts). */
  removeClusterMembers(
    clusterId: string,
    machineIds: readonly string[],
    actor: string,
    jobId: string | null,
  ): Promise<void>;
  /** Seals the admin kubeconfig. */
  setClusterKubeconfig(clusterId: string, kubeconfig: string): Promise<void>;
  /** The admin kubeconfig, or null before the init node returned it. */
  clusterKubeconfig(clusterId: string): Promise<string | null>;
  /**
   * Seals new backup S3 keys for the cluster (`target: region-s3`), deleting the ones they
   * replace (`replaces`, and earlier rotated ones), with `events`; the new secret's id.
   */
  setClusterBackupS3Keys(
    clusterId: string,
    plaintext: string,
    replaces: string | null,
    events: readonly NewEvent[],
  ): Promise<string>;
  /** The secret id of the cluster's rotated backup S3 keys, or null when they were never rotated. */
  clusterBackupS3Secret(clusterId: string): Promise<string | null>;
  setClusterConditions(clusterId: string, conditions: ClusterConditions): Promise<void>;
  /** Which cluster each machine belongs to, with its role there. */
  clustersOfMachines(
    machineIds: readonly string[],
  ): Promise<Map<string, { cluster: string; role: MemberRole }>>;

  // cluster operations (src/store/operations-sql.ts, migration 12)
  /** The operation, the cluster's move and its job in one write; INGOT_OPERATION_RUNNING when one is active. */
  startOperation(o: NewOperation): Promise<{ operation: ClusterOperation; job: Job }>;
  /** By id; INGOT_NOT_FOUND when absent. */
  getOperation(id: string): Promise<ClusterOperation>;
  /** A cluster's operations, newest first. */
  listOperations(clusterId: string, limit?: number): Promise<ClusterOperation[]>;
  activeOperation(clusterId: string): Promise<ClusterOperation | null>;
  /** A halted operation retried as itself: the cluster's move, a new job and failed → running, in one write. */
  retryOperation(r: OperationRetry): Promise<{ operation: ClusterOperation; job: Job }>;
  /** Compare-and-set on the operation's state; null when it had left `u.from`. */
  updateOperation(
    id: string,
    u: OperationUpdate,
    events?: readonly NewEvent[],
  ): Promise<ClusterOperation | null>;

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

  // hardware health (health-sql.ts): BMC polls and SMART reports, bounded by pruneHealth
  /** Records one BMC poll; false when the machine is gone or already has a sample at `at`. */
  recordHealthSample(sample: HealthSample): Promise<boolean>;
  /** A machine's samples at or after `since` (ms), oldest first, the newest `limit` of them. */
  healthHistory(machineId: string, since: number, limit: number): Promise<HealthSample[]>;
  /** Each machine's newest sample (readings left out) with its labels. */
  latestHealth(): Promise<{ labels: HealthLabels; sample: HealthSample }[]>;
  /** Records SMART reports; a gone machine's are dropped. Returns how many were kept. */
  recordDiskHealth(reports: readonly DiskHealth[]): Promise<number>;
  diskHealthHistory(machineId: string, since: number): Promise<DiskHealth[]>;
  /** Each disk's newest report with its machine's labels. */
  latestDiskHealth(): Promise<{ labels: HealthLabels; disk: DiskHealth }[]>;
  /** Drops history older than `before` (ms), keeping each disk's newest report. */
  pruneHealth(before: number): Promise<number>;

  // tokens
  createToken(t: NewToken, actor?: string): Promise<ApiToken>;
  findTokenByHash(hash: string): Promise<ApiToken | null>;
  listTokens(): Promise<ApiToken[]>;
  revokeToken(id: string, actor?: string): Promise<void>;
  touchToken(id: string): Promise<void>;
}
