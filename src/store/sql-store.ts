import type { Cluster, ClusterConditions, ClusterMember, MemberRole } from '../core/cluster.ts';
import type { NewEvent } from '../core/event.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Job, JobStatus } from '../core/job.ts';
import type { MachineState } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import type { Subnet } from '../core/subnet.ts';
import { SqlRecordStore } from './sql-store-records.ts';
import * as backupS3Keys from './backup-s3-keys-sql.ts';
import * as clusterScale from './cluster-scale-sql.ts';
import type { ScaleClusterRequest } from './cluster-scale-sql.ts';
import * as clusters from './clusters-sql.ts';
import * as operations from './operations-sql.ts';
import type { NewOperation, OperationRetry, OperationUpdate } from './operations-sql.ts';
import type { ClusterOperation } from '../core/operation.ts';
import * as agentTasks from './agent-tasks-sql.ts';
import * as jobs from './jobs-sql.ts';
import * as leases from './leases-sql.ts';
import * as bootTokens from './machine-tokens-sql.ts';
import * as machines from './machines-sql.ts';
import * as secrets from './secrets-sql.ts';
import type {
  AgentTaskRow,
  AgentTaskUpdate,
  ClaimOptions,
  ClusterTransitionRequest,
  NewCluster,
  IpAllocation,
  JobFinish,
  JobProgress,
  LeaseRow,
  LeaseWrite,
  MachineFilter,
  MachinePatch,
  NewJob,
  NewAgentTask,
  NewMachine,
  NewSubnet,
  Page,
  Store,
  TransitionRequest,
} from './store.ts';
import * as subnets from './subnets-sql.ts';

export class SqlStore extends SqlRecordStore implements Store {
  // machines
  createMachine(input: NewMachine, actor: string): Promise<Machine> {
    return machines.createMachine(this.sql, this.seal, input, actor);
  }
  getMachine(id: string): Promise<Machine> {
    return machines.getMachineRow(this.sql, id);
  }
  findMachineByMac(mac: string): Promise<Machine | null> {
    return machines.findMachineByMac(this.sql, mac);
  }
  listMachines(filter: MachineFilter, limit: number, cursor?: string | null): Promise<Page<Machine>> {
    return machines.listMachines(this.sql, filter, limit, cursor);
  }
  updateMachine(id: string, patch: MachinePatch, actor: string, expectedVersion?: number): Promise<Machine> {
    return machines.updateMachine(this.sql, this.seal, id, patch, actor, expectedVersion);
  }
  deleteMachine(id: string, actor: string): Promise<void> {
    return machines.deleteMachine(this.sql, id, actor);
  }
  countMachinesByState(filter?: { owner?: string }): Promise<Partial<Record<MachineState, number>>> {
    return machines.countMachinesByState(this.sql, filter);
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
    return jobs.transition(this.sql, req);
  }
  machinesStuck(states: MachineState[], enteredBefore: number, limit: number): Promise<Machine[]> {
    return machines.machinesStuck(this.sql, states, enteredBefore, limit);
  }

  // jobs
  enqueueJob(machineId: string, job: NewJob, actor: string): Promise<Job> {
    return jobs.enqueueJob(this.sql, machineId, job, actor);
  }
  getJob(id: string): Promise<Job> {
    return jobs.getJob(this.sql, id);
  }
  listJobs(
    filter: { machineId?: string; clusterId?: string; status?: JobStatus[] },
    limit: number,
  ): Promise<Job[]> {
    return jobs.listJobs(this.sql, filter, limit);
  }
  claimJobs(opts: ClaimOptions): Promise<Job[]> {
    return jobs.claimJobs(this.sql, opts);
  }
  heartbeat(owner: string, leaseMs: number): Promise<number> {
    return jobs.heartbeat(this.sql, owner, leaseMs);
  }
  saveJobProgress(
    jobId: string,
    owner: string,
    progress: JobProgress,
    events?: NewEvent[],
  ): Promise<boolean> {
    return jobs.saveJobProgress(this.sql, jobId, owner, progress, events);
  }
  finishJob(jobId: string, owner: string, finish: JobFinish): Promise<boolean> {
    return jobs.finishJob(this.sql, jobId, owner, finish);
  }
  releaseLeases(owner: string): Promise<number> {
    return jobs.releaseLeases(this.sql, owner);
  }

  // clusters
  createCluster(input: NewCluster, actor: string): Promise<{ cluster: Cluster; job: Job }> {
    return clusters.createCluster(this.sql, input, actor);
  }

  getCluster(ref: string): Promise<Cluster> {
    return clusters.getCluster(this.sql, ref);
  }

  listClusters(opts?: { includeDeleted?: boolean }): Promise<Cluster[]> {
    return clusters.listClusters(this.sql, opts);
  }

  clusterTransition(req: ClusterTransitionRequest): Promise<{ cluster: Cluster; job: Job | null }> {
    return clusters.clusterTransition(this.sql, req);
  }

  scaleCluster(req: ScaleClusterRequest): Promise<{ cluster: Cluster; job: Job }> {
    return clusterScale.scaleCluster(this.sql, req);
  }

  addClusterMembers(
    clusterId: string,
    add: readonly ClusterMember[],
    actor: string,
    why: string,
  ): Promise<Cluster> {
    return clusterScale.addClusterMembers(this.sql, clusterId, add, actor, why);
  }

  removeClusterMembers(
    clusterId: string,
    machineIds: readonly string[],
    actor: string,
    jobId: string | null,
  ): Promise<void> {
    return clusterScale.removeClusterMembers(this.sql, clusterId, machineIds, actor, jobId);
  }

  setClusterKubeconfig(clusterId: string, kubeconfig: string): Promise<void> {
    return clusters.setClusterKubeconfig(this.sql, this.seal, clusterId, kubeconfig);
  }

  async clusterKubeconfig(clusterId: string): Promise<string | null> {
    const id = await clusters.clusterKubeconfigSecret(this.sql, clusterId);
    return id ? secrets.getSecret(this.sql, this.box, id) : null;
  }

  setClusterBackupS3Keys(
    clusterId: string,
    plaintext: string,
    replaces: string | null,
    events: readonly NewEvent[],
  ): Promise<string> {
    return backupS3Keys.setClusterBackupS3Keys(this.sql, this.seal, clusterId, plaintext, replaces, events);
  }

  clusterBackupS3Secret(clusterId: string): Promise<string | null> {
    return backupS3Keys.clusterBackupS3Secret(this.sql, clusterId);
  }

  setClusterConditions(clusterId: string, conditions: ClusterConditions): Promise<void> {
    return clusters.setClusterConditions(this.sql, clusterId, conditions);
  }

  startOperation(o: NewOperation): Promise<{ operation: ClusterOperation; job: Job }> {
    return operations.startOperation(this.sql, o);
  }

  getOperation(id: string): Promise<ClusterOperation> {
    return operations.getOperation(this.sql, id);
  }

  listOperations(clusterId: string, limit?: number): Promise<ClusterOperation[]> {
    return operations.listOperations(this.sql, clusterId, limit);
  }

  activeOperation(clusterId: string): Promise<ClusterOperation | null> {
    return operations.activeOperation(this.sql, clusterId);
  }

  retryOperation(r: OperationRetry): Promise<{ operation: ClusterOperation; job: Job }> {
    return operations.retryOperation(this.sql, r);
  }

  updateOperation(
    id: string,
    u: OperationUpdate,
    events?: readonly NewEvent[],
  ): Promise<ClusterOperation | null> {
    return operations.updateOperation(this.sql, id, u, events);
  }

  clustersOfMachines(
    machineIds: readonly string[],
  ): Promise<Map<string, { cluster: string; role: MemberRole }>> {
    return clusters.clustersOfMachines(this.sql, machineIds);
  }

  // subnets
  createSubnet(input: NewSubnet, actor: string): Promise<Subnet> {
    return subnets.createSubnet(this.sql, input, actor);
  }
  getSubnet(idOrName: string): Promise<Subnet> {
    return subnets.getSubnet(this.sql, idOrName);
  }
  listSubnets(): Promise<Subnet[]> {
    return subnets.listSubnets(this.sql);
  }
  updateSubnet(id: string, patch: Partial<NewSubnet>, actor: string): Promise<Subnet> {
    return subnets.updateSubnet(this.sql, id, patch, actor);
  }
  deleteSubnet(id: string, actor: string): Promise<void> {
    return subnets.deleteSubnet(this.sql, id, actor);
  }
  allocateIp(
    subnetId: string,
    req: { machineId?: string; mac?: string; ip?: string; kind: 'static' | 'dhcp'; ttlMs?: number },
  ): Promise<IpAllocation> {
    return subnets.allocateIp(this.sql, subnetId, req);
  }
  releaseIp(subnetId: string, ip: string): Promise<void> {
    return subnets.releaseIp(this.sql, subnetId, ip);
  }
  listIps(subnetId: string): Promise<IpAllocation[]> {
    return subnets.listIps(this.sql, subnetId);
  }
  commitLeases(batch: readonly LeaseWrite[]): Promise<boolean[]> {
    return leases.commitLeases(this.sql, batch);
  }
  loadLeases(subnetId: string): Promise<LeaseRow[]> {
    return leases.loadLeases(this.sql, subnetId);
  }
  listMachineMacs(): Promise<{ mac: string; machineId: string }[]> {
    return leases.listMachineMacs(this.sql);
  }
  findIpsByAddress(ip: string): Promise<IpAllocation[]> {
    return bootTokens.findIpsByAddress(this.sql, ip);
  }

  // per-machine boot tokens
  setMachineBootToken(machineId: string, hash: string, expiresAt: number | null): Promise<void> {
    return bootTokens.setMachineBootToken(this.sql, machineId, hash, expiresAt);
  }
  findMachineByBootToken(hash: string): Promise<Machine | null> {
    return bootTokens.findMachineByBootToken(this.sql, hash);
  }
  setMachineOsToken(machineId: string, hash: string | null): Promise<void> {
    return bootTokens.setMachineOsToken(this.sql, machineId, hash);
  }
  findMachineByOsToken(hash: string): Promise<Machine | null> {
    return bootTokens.findMachineByOsToken(this.sql, hash);
  }

  // agent tasks
  ensureAgentTask(t: NewAgentTask): Promise<AgentTaskRow> {
    return agentTasks.ensureAgentTask(this.sql, this.box, t);
  }
  getAgentTask(id: string): Promise<AgentTaskRow | null> {
    return agentTasks.getAgentTask(this.sql, this.box, id);
  }
  findAgentTask(jobId: string, name: string, machineId?: string): Promise<AgentTaskRow | null> {
    return agentTasks.findAgentTask(this.sql, this.box, jobId, name, machineId);
  }
  nextAgentTask(machineId: string, exclude?: readonly string[]): Promise<AgentTaskRow | null> {
    return agentTasks.nextAgentTask(this.sql, this.box, machineId, exclude);
  }
  updateAgentTask(
    id: string,
    update: AgentTaskUpdate,
    events?: readonly NewEvent[],
  ): Promise<AgentTaskRow | null> {
    return agentTasks.updateAgentTask(this.sql, this.box, id, update, events);
  }
  getMachineInventory(machineId: string): Promise<Record<string, unknown> | null> {
    return agentTasks.getMachineInventory(this.sql, machineId);
  }
}
