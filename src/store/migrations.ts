/**
 * One migration set for both backends. The SQL is the common subset of SQLite and
 * PostgreSQL; the few spots that differ use a token replaced per dialect ({{autoid}}).
 * Timestamps are BIGINT milliseconds since the epoch; JSON is stored as TEXT.
 * Never edit a migration that has shipped: add a new one.
 */
import type { Db, Dialect } from './db.ts';
import { AGENT_TASK_SEAL_MIGRATION } from './migration-agent-task-seal.ts';
import { BACKUP_S3_MIGRATION } from './migration-backup-s3.ts';
import { BACKUPS_MIGRATION } from './migration-backups.ts';
import { INITIAL_MIGRATION } from './migration-initial.ts';
import { LEASE_INDEXES_MIGRATION } from './migration-lease-indexes.ts';
import { HEALTH_MIGRATION } from './migration-health.ts';
import { OPERATIONS_MIGRATION } from './migration-operations.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  INITIAL_MIGRATION,
  {
    version: 2,
    name: 'dhcp lease lookup by MAC',
    // The DHCP server (src/netboot/dhcp) keeps leases in ip_addresses; it looks a MAC's rows up
    // when a client moves to another address, and loads a subnet's rows at start.
    sql: `
CREATE INDEX ip_addresses_mac ON ip_addresses (subnet_id, mac);
`,
  },
  // Version 2 belongs to the DHCP leases change; keep this one after it (migrate() applies in list order).
  {
    version: 3,
    name: 'machine boot tokens, address lookup',
    sql: `
CREATE TABLE machine_boot_tokens (
  machine_id TEXT PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT
);
CREATE INDEX ip_addresses_ip ON ip_addresses (ip);
`,
  },
  // Version 4: the on-machine agent (src/agent, src/store/agent-tasks-sql.ts). Version 5 (images)
  // comes after it; keep the list in version order.
  {
    version: 4,
    name: 'agent tasks, machine inventory details',
    sql: `
CREATE TABLE agent_tasks (
  id TEXT PRIMARY KEY,
  machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  job_id TEXT NOT NULL,
  name TEXT NOT NULL,
  params TEXT NOT NULL,
  status TEXT NOT NULL,
  result TEXT,
  reason TEXT,
  last_message TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  heartbeat_at BIGINT,
  finished_at BIGINT,
  UNIQUE (job_id, name)
);
CREATE INDEX agent_tasks_machine ON agent_tasks (machine_id, status, created_at);
ALTER TABLE machines ADD COLUMN inventory TEXT;
`,
  },
  // Version 5: OS and boot images (src/images, src/store/images-sql.ts).
  {
    version: 5,
    name: 'images',
    sql: `
CREATE TABLE images (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  format TEXT NOT NULL,
  compression TEXT NOT NULL,
  size BIGINT,
  virtual_size BIGINT,
  sha256 TEXT,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  status TEXT NOT NULL,
  status_reason TEXT NOT NULL,
  manifest TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
`,
  },
  {
    version: 6,
    name: 'deployed-OS metadata tokens',
    sql: `
CREATE TABLE machine_os_tokens (
  machine_id TEXT PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);
`,
  },
  // Version 7: Kubernetes bundles (src/bundles, src/store/bundles-sql.ts). `name` is NULL while
  // an import given no name reads the bundle (it is named after its version and arch when ready).
  {
    version: 7,
    name: 'kubernetes bundles',
    sql: `
CREATE TABLE bundles (
  id TEXT PRIMARY KEY,
  name TEXT UNIQUE,
  version TEXT,
  arch TEXT,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  size BIGINT,
  sha256 TEXT,
  status TEXT NOT NULL,
  status_reason TEXT NOT NULL,
  manifest TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX bundles_version ON bundles (version, arch);
`,
  },
  // Version 8: clusters (src/store/clusters-sql.ts). A job's subject is a machine or a cluster,
  // so jobs.machine_id becomes nullable beside a new cluster_id: SQLite cannot drop a NOT NULL,
  // so the table is rebuilt (the same statements on PostgreSQL). A cluster job asks each member's
  // node agent for the same task, so agent tasks are unique per (job, machine, task).
  {
    version: 8,
    name: 'clusters',
    sql: `
CREATE TABLE clusters (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  state_reason TEXT NOT NULL,
  state_entered_at BIGINT NOT NULL,
  cluster_file TEXT NOT NULL,
  distribution TEXT NOT NULL,
  version TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  conditions TEXT,
  kubeconfig_secret_id TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE cluster_members (
  cluster_id TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  machine_id TEXT NOT NULL UNIQUE REFERENCES machines (id),
  hostname TEXT NOT NULL,
  role TEXT NOT NULL,
  member_order INTEGER NOT NULL,
  address TEXT NOT NULL,
  PRIMARY KEY (cluster_id, machine_id)
);
CREATE TABLE jobs_v8 (
  id TEXT PRIMARY KEY,
  machine_id TEXT,
  cluster_id TEXT,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  steps TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  run_after BIGINT NOT NULL,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  rack TEXT NOT NULL,
  bmc_host TEXT NOT NULL,
  error TEXT,
  params TEXT NOT NULL,
  scratch TEXT NOT NULL,
  actor TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT,
  CHECK ((machine_id IS NULL) <> (cluster_id IS NULL))
);
INSERT INTO jobs_v8 (id, machine_id, cluster_id, kind, status, steps, step_index, run_after, lease_owner,
  lease_expires_at, rack, bmc_host, error, params, scratch, actor, created_at, updated_at, finished_at)
SELECT id, machine_id, NULL, kind, status, steps, step_index, run_after, lease_owner,
  lease_expires_at, rack, bmc_host, error, params, scratch, actor, created_at, updated_at, finished_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_v8 RENAME TO jobs;
CREATE INDEX jobs_runnable ON jobs (status, run_after);
CREATE INDEX jobs_machine ON jobs (machine_id, created_at);
CREATE INDEX jobs_cluster ON jobs (cluster_id, created_at);
CREATE INDEX jobs_owner ON jobs (lease_owner);
CREATE TABLE agent_tasks_v8 (
  id TEXT PRIMARY KEY,
  machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  job_id TEXT NOT NULL,
  name TEXT NOT NULL,
  params TEXT NOT NULL,
  status TEXT NOT NULL,
  result TEXT,
  reason TEXT,
  last_message TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  heartbeat_at BIGINT,
  finished_at BIGINT,
  UNIQUE (job_id, machine_id, name)
);
INSERT INTO agent_tasks_v8 SELECT id, machine_id, job_id, name, params, status, result, reason, last_message,
  created_at, started_at, heartbeat_at, finished_at FROM agent_tasks;
DROP TABLE agent_tasks;
ALTER TABLE agent_tasks_v8 RENAME TO agent_tasks;
CREATE INDEX agent_tasks_machine ON agent_tasks (machine_id, status, created_at);
ALTER TABLE events ADD COLUMN cluster_id TEXT;
CREATE INDEX events_cluster ON events (cluster_id, id);
`,
  },
  // Version 9: BMC power readings for the cost model's average
  // watts (src/store/power-readings-sql.ts). One row per machine per minute at most.
  {
    version: 9,
    name: 'power readings',
    sql: `
CREATE TABLE power_readings (
  machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  at BIGINT NOT NULL,
  watts DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (machine_id, at)
);
CREATE INDEX power_readings_at ON power_readings (at);
`,
  },
  HEALTH_MIGRATION,
  AGENT_TASK_SEAL_MIGRATION,
  OPERATIONS_MIGRATION,
  BACKUPS_MIGRATION,
  BACKUP_S3_MIGRATION,
  LEASE_INDEXES_MIGRATION,
];

const TOKENS: Record<Dialect, Record<string, string>> = {
  sqlite: { autoid: 'INTEGER PRIMARY KEY AUTOINCREMENT' },
  postgres: { autoid: 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY' },
};

export function renderMigration(sql: string, dialect: Dialect): string[] {
  const text = sql.replace(/\{\{(\w+)\}\}/g, (_, k: string) => TOKENS[dialect][k]);
  return text
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Applies pending migrations, each in its own transaction. On PostgreSQL an advisory lock
 * keeps two regions starting at once from applying the same migration twice.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
  );
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.tx(async (t) => {
      if (t.dialect === 'postgres') await t.query('SELECT pg_advisory_xact_lock(7406240)');
      const have = await t.query('SELECT version FROM schema_migrations WHERE version = ?', [m.version]);
      if (have.length > 0) return false;
      for (const stmt of renderMigration(m.sql, t.dialect)) await t.run(stmt);
      await t.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        m.version,
        m.name,
        Date.now(),
      ]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
