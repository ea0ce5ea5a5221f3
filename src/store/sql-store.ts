/**
 * The Store over SQL: one implementation for both backends. Machine, job and subnet queries
 * live in their own files; this class wires them to a Db and the SecretBox.
 */
import type { ApiToken, Role } from '../core/auth.ts';
import type { Bundle } from '../core/bundle.ts';
import type { IngotEvent, NewEvent } from '../core/event.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Job, JobStatus } from '../core/job.ts';
import type { MachineState } from '../core/lifecycle.ts';
import type { Machine, PowerState } from '../core/machine.ts';
import type { Subnet } from '../core/subnet.ts';
import type { SecretBox } from './crypto.ts';
import type { Db, SqlValue } from './db.ts';
import { newId } from './ids.ts';
import * as bundles from './bundles-sql.ts';
import * as images from './images-sql.ts';
import * as agentTasks from './agent-tasks-sql.ts';
import * as jobs from './jobs-sql.ts';
import * as leases from './leases-sql.ts';
import * as bootTokens from './machine-tokens-sql.ts';
import * as machines from './machines-sql.ts';
import { eventFromRow, jobFromRow, machineFromRow, tokenFromRow } from './rows.ts';
import { insertEvents, mapUniqueViolation, placeholders } from './sql-util.ts';
import type {
  AgentTaskRow,
  AgentTaskUpdate,
  BundlePatch,
  ClaimOptions,
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
  Page,
  Store,
  TransitionRequest,
} from './store.ts';
import * as subnets from './subnets-sql.ts';

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly #db: Db;
  readonly #box: SecretBox;

  constructor(db: Db, box: SecretBox) {
    this.#db = db;
    this.#box = box;
    this.kind = db.dialect;
  }

  /** For tests and benchmarks that need raw SQL access (never used by the region itself). */
  get db(): Db {
    return this.#db;
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  #seal = async (db: Db, purpose: string, plaintext: string): Promise<string> => {
    const id = newId('sec');
    const s = this.#box.seal(plaintext, id);
    await db.run(
      'INSERT INTO secrets (id, purpose, nonce, tag, ciphertext, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [id, purpose, s.nonce, s.tag, s.ciphertext, Date.now()],
    );
    return id;
  };

  // machines
  createMachine(input: NewMachine, actor: string): Promise<Machine> {
    return machines.createMachine(this.#db, this.#seal, input, actor);
  }
  getMachine(id: string): Promise<Machine> {
    return machines.getMachineRow(this.#db, id);
  }
  async findMachineByMac(mac: string): Promise<Machine | null> {
    const rows = await this.#db.query(
      'SELECT m.* FROM machines m JOIN machine_macs x ON x.machine_id = m.id WHERE x.mac = ?',
      [mac],
    );
    return rows.length ? machineFromRow(rows[0]) : null;
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
  async setPowerState(id: string, power: PowerState): Promise<void> {
    await this.#db.run('UPDATE machines SET power_state = ? WHERE id = ? AND power_state <> ?', [
      power,
      id,
      power,
    ]);
  }
  async countMachinesByState(): Promise<Partial<Record<MachineState, number>>> {
    const rows = await this.#db.query<{ state: MachineState; n: number }>(
      'SELECT state, COUNT(*) AS n FROM machines GROUP BY state',
    );
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
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
  async machinesStuck(states: MachineState[], enteredBefore: number, limit: number): Promise<Machine[]> {
    if (states.length === 0) return [];
    const rows = await this.#db.query(
      `SELECT * FROM machines WHERE state IN (${placeholders(states.length)}) AND state_entered_at < ? ORDER BY state_entered_at LIMIT ?`,
      [...states, enteredBefore, limit],
    );
    return rows.map(machineFromRow);
  }

  // jobs
  enqueueJob(machineId: string, job: NewJob, actor: string): Promise<Job> {
    return jobs.enqueueJob(this.#db, machineId, job, actor);
  }
  async getJob(id: string): Promise<Job> {
    const rows = await this.#db.query('SELECT * FROM jobs WHERE id = ?', [id]);
    if (!rows.length)
      throw new IngotError(ErrorCode.JobNotFound, `job ${id} does not exist`, { details: { id } });
    return jobFromRow(rows[0]);
  }
  async listJobs(filter: { machineId?: string; status?: JobStatus[] }, limit: number): Promise<Job[]> {
    const clauses: string[] = [];
    const params: SqlValue[] = [];
    if (filter.machineId) {
      clauses.push('machine_id = ?');
      params.push(filter.machineId);
    }
    if (filter.status?.length) {
      clauses.push(`status IN (${placeholders(filter.status.length)})`);
      params.push(...filter.status);
    }
    const rows = await this.#db.query(
      `SELECT * FROM jobs WHERE ${clauses.length ? clauses.join(' AND ') : '1 = 1'} ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, limit],
    );
    return rows.map(jobFromRow);
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

  // events
  appendEvents(events: NewEvent[]): Promise<void> {
    return this.#db.tx((t) => insertEvents(t, events));
  }
  async listEvents(f: {
    machineId?: string;
    jobId?: string;
    afterId?: number;
    limit: number;
    newestFirst?: boolean;
  }): Promise<IngotEvent[]> {
    const clauses: string[] = [];
    const params: SqlValue[] = [];
    if (f.machineId) {
      clauses.push('machine_id = ?');
      params.push(f.machineId);
    }
    if (f.jobId) {
      clauses.push('job_id = ?');
      params.push(f.jobId);
    }
    if (f.afterId !== undefined) {
      clauses.push('id > ?');
      params.push(f.afterId);
    }
    const rows = await this.#db.query(
      `SELECT * FROM events WHERE ${clauses.length ? clauses.join(' AND ') : '1 = 1'} ORDER BY id ${f.newestFirst ? 'DESC' : 'ASC'} LIMIT ?`,
      [...params, f.limit],
    );
    return rows.map(eventFromRow);
  }

  // secrets
  putSecret(purpose: string, plaintext: string): Promise<string> {
    return this.#seal(this.#db, purpose, plaintext);
  }
  async getSecret(id: string): Promise<string> {
    const rows = await this.#db.query<{ nonce: string; tag: string; ciphertext: string }>(
      'SELECT nonce, tag, ciphertext FROM secrets WHERE id = ?',
      [id],
    );
    if (!rows.length) throw new IngotError(ErrorCode.NotFound, `secret ${id} does not exist`);
    return this.#box.open(rows[0], id);
  }
  async deleteSecret(id: string): Promise<void> {
    await this.#db.run('DELETE FROM secrets WHERE id = ?', [id]);
  }

  // subnets
  createSubnet(input: NewSubnet, actor: string): Promise<Subnet> {
    return subnets.createSubnet(this.#db, input, actor);
  }
  getSubnet(idOrName: string): Promise<Subnet> {
    return subnets.getSubnet(this.#db, idOrName);
  }
  async listSubnets(): Promise<Subnet[]> {
    const rows = await this.#db.query('SELECT id FROM subnets ORDER BY name');
    return Promise.all(rows.map((r) => subnets.getSubnet(this.#db, r.id as string)));
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
  findAgentTask(jobId: string, name: string): Promise<AgentTaskRow | null> {
    return agentTasks.findAgentTask(this.#db, jobId, name);
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
  setMachineInventory(machineId: string, inventory: Record<string, unknown>): Promise<void> {
    return agentTasks.setMachineInventory(this.#db, machineId, inventory);
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

  // tokens
  async createToken(
    t: { name: string; role: Role; hash: string; expiresAt: string | null },
    actor = 'system',
  ): Promise<ApiToken> {
    const id = newId('t');
    const now = Date.now();
    try {
      await this.#db.tx(async (d) => {
        await d.run(
          'INSERT INTO tokens (id, name, role, hash, created_at, expires_at, last_used_at, revoked) VALUES (?, ?, ?, ?, ?, ?, NULL, 0)',
          [id, t.name, t.role, t.hash, now, t.expiresAt ? Date.parse(t.expiresAt) : null],
        );
        await insertEvents(
          d,
          [
            {
              type: 'token.created',
              actor,
              message: `token ${t.name} (${t.role}) created`,
              data: { id, role: t.role },
            },
          ],
          now,
        );
      });
    } catch (e) {
      mapUniqueViolation(e, { 'tokens.name': 'name', tokens_name: 'name' });
    }
    return tokenFromRow((await this.#db.query('SELECT * FROM tokens WHERE id = ?', [id]))[0]);
  }
  async findTokenByHash(hash: string): Promise<ApiToken | null> {
    const rows = await this.#db.query('SELECT * FROM tokens WHERE hash = ?', [hash]);
    return rows.length ? tokenFromRow(rows[0]) : null;
  }
  async listTokens(): Promise<ApiToken[]> {
    return (await this.#db.query('SELECT * FROM tokens ORDER BY created_at, id')).map(tokenFromRow);
  }
  async revokeToken(id: string, actor = 'system'): Promise<void> {
    await this.#db.tx(async (d) => {
      const rows = await d.query<{ id: string; name: string }>(
        'SELECT id, name FROM tokens WHERE id = ? OR name = ?',
        [id, id],
      );
      if (rows.length === 0) {
        throw new IngotError(
          ErrorCode.TokenNotFound,
          `token ${id} does not exist; list tokens with \`ingot token ls\``,
        );
      }
      await d.run('UPDATE tokens SET revoked = 1 WHERE id = ?', [rows[0].id]);
      await insertEvents(d, [
        { type: 'token.revoked', actor, message: `token ${rows[0].name} revoked`, data: { id: rows[0].id } },
      ]);
    });
  }
  async touchToken(id: string): Promise<void> {
    await this.#db.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', [Date.now(), id]);
  }
}
