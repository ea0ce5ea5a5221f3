/**
 * The Store over SQL: one implementation for both backends. Every query lives in the file of
 * its table (machines-sql.ts, jobs-sql.ts, events-sql.ts, secrets-sql.ts, tokens-sql.ts, …);
 * this class only wires them to a Db and the SecretBox.
 */
import type { ApiToken } from '../core/auth.ts';
import type { Bundle } from '../core/bundle.ts';
import type { Cluster, ClusterConditions, MemberRole } from '../core/cluster.ts';
import type { IngotEvent, NewEvent } from '../core/event.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Job, JobStatus } from '../core/job.ts';
import type { MachineState } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { Subnet } from '../core/subnet.ts';
import type { SecretBox } from './crypto.ts';
import type { Db } from './db.ts';
import * as clusterScale from './cluster-scale-sql.ts';
import type { ScaleClusterRequest } from './cluster-scale-sql.ts';
import * as clusters from './clusters-sql.ts';
import * as operations from './operations-sql.ts';
import type { NewOperation, OperationRetry, OperationUpdate } from './operations-sql.ts';
import type { ClusterOperation } from '../core/operation.ts';
import * as eventsSql from './events-sql.ts';
import * as bundles from './bundles-sql.ts';
import * as power from './power-readings-sql.ts';
import type { PowerAverage } from './power-readings-sql.ts';
import { type BackupStore, backupStore } from './backups-sql.ts';
import * as health from './health-sql.ts';
import type { HealthLabels } from './health-sql.ts';
import type { DiskHealth, HealthSample } from '../core/health.ts';
import * as images from './images-sql.ts';
import * as agentTasks from './agent-tasks-sql.ts';
import * as jobs from './jobs-sql.ts';
import * as leases from './leases-sql.ts';
import * as bootTokens from './machine-tokens-sql.ts';
import * as machines from './machines-sql.ts';
import * as secrets from './secrets-sql.ts';
import type {
  AgentTaskRow,
  AgentTaskUpdate,
  BundlePatch,
  ClaimOptions,
  ClusterTransitionRequest,
  NewCluster,
  EventFilter,
  ImagePatch,
  ImageRow,
  IpAllocation,
  JobFinish,
  JobProgress,
  LeaseRow,
  LeaseWrite,
  MachineFilter,
  MachinePatch,
  NewJob,
  NewImage,
  NewAgentTask,
  NewBundle,
  NewMachine,
  NewSubnet,
  NewToken,
  Page,
  Store,
  TransitionRequest,
} from './store.ts';
import * as subnets from './subnets-sql.ts';
import * as tokens from './tokens-sql.ts';

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly backups: BackupStore;
  readonly #db: Db;
  readonly #box: SecretBox;

  constructor(db: Db, box: SecretBox) {
    this.#db = db;
    this.#box = box;
    this.kind = db.dialect;
    this.backups = backupStore(db);
  }

  /** For tests and benchmarks that need raw SQL access (never used by the region itself). */
  get db(): Db {
    return this.#db;
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  #seal = (db: Db, purpose: string, plaintext: string): Promise<string> =>
    secrets.putSecret(db, this.#box, purpose, plaintext);

  // machines
  createMachine(input: NewMachine, actor: string): Promise<Machine> {
    return machines.createMachine(this.#db, this.#seal, input, actor);
  }
  getMachine(id: string): Promise<Machine> {
    return machines.getMachineRow(this.#db, id);
  }
  findMachineByMac(mac: string): Promise<Machine | null> {
    return machines.findMachineByMac(this.#db, mac);
  }
  listMachines(filter: MachineFilter, limit: number, cursor?: string | null): Promise<Page<Machine>> {
    return machines.listMachines(this.#db, filter, limit, cursor);
  }
  updateMachine(id: string, patch: MachinePatch, actor: string, expectedVersion?: number): Promise<Machine> {
    return machines.updateMachine(this.#db, this.#seal, id, patch, actor, expectedVersion);
  }
  deleteMachine(id: string, actor: string): Promise<void> {
    return machines.deleteMachine(this.#db, id, actor);
  }
  countMachinesByState(filter?: { owner?: string }): Promise<Partial<Record<MachineState, number>>> {
    return machines.countMachinesByState(this.#db, filter);
  }
  async bmcPassword(machine: Machine): Promise<string> {
    if (!machine.bmc) {
      throw new IngotError(
        ErrorCode.Validation,
        `machine ${machine.hostname} has no BMC; set one with \`ingot machine set --bmc\``,
      );
    }
    return this.getSecret(machine.bmc.passwordSecretId);
  }
  transition(req: TransitionRequest): Promise<{ machine: Machine; job: Job | null }> {
    return jobs.transition(this.#db, req);
  }
  machinesStuck(states: MachineState[], enteredBefore: number, limit: number): Promise<Machine[]> {
    return machines.machinesStuck(this.#db, states, enteredBefore, limit);
  }

  // jobs
  enqueueJob(machineId: string, job: NewJob, actor: string): Promise<Job> {
    return jobs.enqueueJob(this.#db, machineId, job, actor);
  }
  getJob(id: string): Promise<Job> {
    return jobs.getJob(this.#db, id);
  }
  listJobs(
    filter: { machineId?: string; clusterId?: string; status?: JobStatus[] },
    limit: number,
  ): Promise<Job[]> {
    return jobs.listJobs(this.#db, filter, limit);
  }
  claimJobs(opts: ClaimOptions): Promise<Job[]> {
    return jobs.claimJobs(this.#db, opts);
  }
  heartbeat(owner: string, leaseMs: number): Promise<number> {
    return jobs.heartbeat(this.#db, owner, leaseMs);
  }
  saveJobProgress(
    jobId: string,
    owner: string,
    progress: JobProgress,
    events?: NewEvent[],
  ): Promise<boolean> {
    return jobs.saveJobProgress(this.#db, jobId, owner, progress, events);
  }
  finishJob(jobId: string, owner: string, finish: JobFinish): Promise<boolean> {
    return jobs.finishJob(this.#db, jobId, owner, finish);
  }
  releaseLeases(owner: string): Promise<number> {
    return jobs.releaseLeases(this.#db, owner);
  }

  // clusters
  createCluster(input: NewCluster, actor: string): Promise<{ cluster: Cluster; job: Job }> {
    return clusters.createCluster(this.#db, input, actor);
  }

  getCluster(ref: string): Promise<Cluster> {
    return clusters.getCluster(this.#db, ref);
  }

  listClusters(opts?: { includeDeleted?: boolean }): Promise<Cluster[]> {
    return clusters.listClusters(this.#db, opts);
  }

  clusterTransition(req: ClusterTransitionRequest): Promise<{ cluster: Cluster; job: Job | null }> {
    return clusters.clusterTransition(this.#db, req);
  }

  scaleCluster(req: ScaleClusterRequest): Promise<{ cluster: Cluster; job: Job }> {
    return clusterScale.scaleCluster(this.#db, req);
  }

  removeClusterMembers(
    clusterId: string,
    machineIds: readonly string[],
    actor: string,
    jobId: string | null,
  ): Promise<void> {
    return clusterScale.removeClusterMembers(this.#db, clusterId, machineIds, actor, jobId);
  }

  setClusterKubeconfig(clusterId: string, kubeconfig: string): Promise<void> {
    return clusters.setClusterKubeconfig(this.#db, this.#seal, clusterId, kubeconfig);
  }

  async clusterKubeconfig(clusterId: string): Promise<string | null> {
    const id = await clusters.clusterKubeconfigSecret(this.#db, clusterId);
    return id ? secrets.getSecret(this.#db, this.#box, id) : null;
  }

  setClusterConditions(clusterId: string, conditions: ClusterConditions): Promise<void> {
    return clusters.setClusterConditions(this.#db, clusterId, conditions);
  }

  startOperation(o: NewOperation): Promise<{ operation: ClusterOperation; job: Job }> {
    return operations.startOperation(this.#db, o);
  }

  getOperation(id: string): Promise<ClusterOperation> {
    return operations.getOperation(this.#db, id);
  }

  listOperations(clusterId: string, limit?: number): Promise<ClusterOperation[]> {
    return operations.listOperations(this.#db, clusterId, limit);
  }

  activeOperation(clusterId: string): Promise<ClusterOperation | null> {
    return operations.activeOperation(this.#db, clusterId);
  }

  retryOperation(r: OperationRetry): Promise<{ operation: ClusterOperation; job: Job }> {
    return operations.retryOperation(this.#db, r);
  }

  updateOperation(
    id: string,
    u: OperationUpdate,
    events?: readonly NewEvent[],
  ): Promise<ClusterOperation | null> {
    return operations.updateOperation(this.#db, id, u, events);
  }

  clustersOfMachines(
    machineIds: readonly string[],
  ): Promise<Map<string, { cluster: string; role: MemberRole }>> {
    return clusters.clustersOfMachines(this.#db, machineIds);
  }

  // events
  appendEvents(events: NewEvent[]): Promise<void> {
    return eventsSql.appendEvents(this.#db, events);
  }
  listEvents(filter: EventFilter): Promise<IngotEvent[]> {
    return eventsSql.listEvents(this.#db, filter);
  }

  // secrets
  putSecret(purpose: string, plaintext: string): Promise<string> {
    return this.#seal(this.#db, purpose, plaintext);
  }
  getSecret(id: string): Promise<string> {
    return secrets.getSecret(this.#db, this.#box, id);
  }
  deleteSecret(id: string): Promise<void> {
    return secrets.deleteSecret(this.#db, id);
  }

  // subnets
  createSubnet(input: NewSubnet, actor: string): Promise<Subnet> {
    return subnets.createSubnet(this.#db, input, actor);
  }
  getSubnet(idOrName: string): Promise<Subnet> {
    return subnets.getSubnet(this.#db, idOrName);
  }
  listSubnets(): Promise<Subnet[]> {
    return subnets.listSubnets(this.#db);
  }
  updateSubnet(id: string, patch: Partial<NewSubnet>, actor: string): Promise<Subnet> {
    return subnets.updateSubnet(this.#db, id, patch, actor);
  }
  deleteSubnet(id: string, actor: string): Promise<void> {
    return subnets.deleteSubnet(this.#db, id, actor);
  }
  allocateIp(
    subnetId: string,
    req: { machineId?: string; mac?: string; ip?: string; kind: 'static' | 'dhcp'; ttlMs?: number },
  ): Promise<IpAllocation> {
    return subnets.allocateIp(this.#db, subnetId, req);
  }
  releaseIp(subnetId: string, ip: string): Promise<void> {
    return subnets.releaseIp(this.#db, subnetId, ip);
  }
  listIps(subnetId: string): Promise<IpAllocation[]> {
    return subnets.listIps(this.#db, subnetId);
  }
  commitLeases(batch: readonly LeaseWrite[]): Promise<boolean[]> {
    return leases.commitLeases(this.#db, batch);
  }
  loadLeases(subnetId: string): Promise<LeaseRow[]> {
    return leases.loadLeases(this.#db, subnetId);
  }
  listMachineMacs(): Promise<{ mac: string; machineId: string }[]> {
    return leases.listMachineMacs(this.#db);
  }
  findIpsByAddress(ip: string): Promise<IpAllocation[]> {
    return bootTokens.findIpsByAddress(this.#db, ip);
  }

  // per-machine boot tokens
  setMachineBootToken(machineId: string, hash: string, expiresAt: number | null): Promise<void> {
    return bootTokens.setMachineBootToken(this.#db, machineId, hash, expiresAt);
  }
  findMachineByBootToken(hash: string): Promise<Machine | null> {
    return bootTokens.findMachineByBootToken(this.#db, hash);
  }
  setMachineOsToken(machineId: string, hash: string | null): Promise<void> {
    return bootTokens.setMachineOsToken(this.#db, machineId, hash);
  }
  findMachineByOsToken(hash: string): Promise<Machine | null> {
    return bootTokens.findMachineByOsToken(this.#db, hash);
  }

  // agent tasks
  ensureAgentTask(t: NewAgentTask): Promise<AgentTaskRow> {
    return agentTasks.ensureAgentTask(this.#db, t);
  }
  getAgentTask(id: string): Promise<AgentTaskRow | null> {
    return agentTasks.getAgentTask(this.#db, id);
  }
  findAgentTask(jobId: string, name: string, machineId?: string): Promise<AgentTaskRow | null> {
    return agentTasks.findAgentTask(this.#db, jobId, name, machineId);
  }
  nextAgentTask(machineId: string, exclude?: readonly string[]): Promise<AgentTaskRow | null> {
    return agentTasks.nextAgentTask(this.#db, machineId, exclude);
  }
  updateAgentTask(
    id: string,
    update: AgentTaskUpdate,
    events?: readonly NewEvent[],
  ): Promise<AgentTaskRow | null> {
    return agentTasks.updateAgentTask(this.#db, id, update, events);
  }
  getMachineInventory(machineId: string): Promise<Record<string, unknown> | null> {
    return agentTasks.getMachineInventory(this.#db, machineId);
  }

  // images
  createImage(input: NewImage, actor: string, opts?: { replaceUnready?: boolean }): Promise<ImageRow> {
    return images.createImage(this.#db, input, actor, opts);
  }
  getImage(nameOrId: string): Promise<ImageRow> {
    return images.getImage(this.#db, nameOrId);
  }
  listImages(): Promise<ImageRow[]> {
    return images.listImages(this.#db);
  }
  updateImage(
    id: string,
    patch: ImagePatch,
    actor: string,
    ifStatus?: ImageRow['status'],
  ): Promise<ImageRow | null> {
    return images.updateImage(this.#db, id, patch, actor, ifStatus);
  }
  deleteImage(nameOrId: string, actor: string): Promise<ImageRow> {
    return images.deleteImage(this.#db, nameOrId, actor);
  }

  // bundles
  createBundle(input: NewBundle, actor: string, opts?: { replaceUnready?: boolean }): Promise<Bundle> {
    return bundles.createBundle(this.#db, input, actor, opts);
  }
  getBundle(nameOrId: string): Promise<Bundle> {
    return bundles.getBundle(this.#db, nameOrId);
  }
  listBundles(): Promise<Bundle[]> {
    return bundles.listBundles(this.#db);
  }
  updateBundle(
    id: string,
    patch: BundlePatch,
    actor: string,
    ifStatus?: Bundle['status'],
  ): Promise<Bundle | null> {
    return bundles.updateBundle(this.#db, id, patch, actor, ifStatus);
  }
  deleteBundle(nameOrId: string, actor: string): Promise<Bundle> {
    return bundles.deleteBundle(this.#db, nameOrId, actor);
  }

  // power readings
  recordPowerReading(machineId: string, at: number, watts: number): Promise<boolean> {
    return power.recordPowerReading(this.#db, machineId, at, watts);
  }
  averagePower(since: number): Promise<Map<string, PowerAverage>> {
    return power.averagePower(this.#db, since);
  }
  prunePowerReadings(before: number): Promise<number> {
    return power.prunePowerReadings(this.#db, before);
  }

  // hardware health
  recordHealthSample(sample: HealthSample): Promise<boolean> {
    return health.recordHealthSample(this.#db, sample);
  }
  healthHistory(machineId: string, since: number, limit: number): Promise<HealthSample[]> {
    return health.healthHistory(this.#db, machineId, since, limit);
  }
  latestHealth(): Promise<{ labels: HealthLabels; sample: HealthSample }[]> {
    return health.latestHealth(this.#db);
  }
  recordDiskHealth(reports: readonly DiskHealth[]): Promise<number> {
    return health.recordDiskHealth(this.#db, reports);
  }
  diskHealthHistory(machineId: string, since: number): Promise<DiskHealth[]> {
    return health.diskHealthHistory(this.#db, machineId, since);
  }
  latestDiskHealth(): Promise<{ labels: HealthLabels; disk: DiskHealth }[]> {
    return health.latestDiskHealth(this.#db);
  }
  pruneHealth(before: number): Promise<number> {
    return health.pruneHealth(this.#db, before);
  }

  // tokens
  createToken(t: NewToken, actor = 'system'): Promise<ApiToken> {
    return tokens.createToken(this.#db, t, actor);
  }
  findTokenByHash(hash: string): Promise<ApiToken | null> {
    return tokens.findTokenByHash(this.#db, hash);
  }
  listTokens(): Promise<ApiToken[]> {
    return tokens.listTokens(this.#db);
  }
  revokeToken(id: string, actor = 'system'): Promise<void> {
    return tokens.revokeToken(this.#db, id, actor);
  }
  touchToken(id: string): Promise<void> {
    return tokens.touchToken(this.#db, id);
  }
}
