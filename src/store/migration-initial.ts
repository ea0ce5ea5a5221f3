/**
 * Migration 1: the initial schema (machines, jobs, events, secrets, subnets and addresses,
 * tokens). Its own file only to keep migrations.ts short; it is one entry of the one migration
 * set there. Never edit it: it has shipped.
 */
import type { Migration } from './migrations.ts';

export const INITIAL_MIGRATION: Migration = {
  version: 1,
  name: 'initial schema',
  sql: `
CREATE TABLE machines (
  id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL UNIQUE,
  arch TEXT NOT NULL,
  state TEXT NOT NULL,
  state_reason TEXT NOT NULL,
  state_entered_at BIGINT NOT NULL,
  power_state TEXT NOT NULL,
  bmc_address TEXT,
  bmc_username TEXT,
  bmc_secret_id TEXT,
  bmc_host TEXT NOT NULL DEFAULT '',
  nics TEXT NOT NULL,
  disks TEXT NOT NULL,
  cpu TEXT,
  memory_bytes BIGINT,
  tags TEXT NOT NULL,
  zone TEXT NOT NULL,
  rack TEXT NOT NULL,
  pool TEXT NOT NULL,
  owner TEXT NOT NULL,
  rescue_from TEXT,
  commissioned_at BIGINT,
  version INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX machines_state ON machines (state, id);
CREATE INDEX machines_zone ON machines (zone, id);
CREATE INDEX machines_rack ON machines (rack, id);
CREATE INDEX machines_pool ON machines (pool, id);
CREATE TABLE machine_macs (
  mac TEXT PRIMARY KEY,
  machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE
);
CREATE INDEX machine_macs_machine ON machine_macs (machine_id);
CREATE TABLE machine_tags (
  machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (machine_id, tag)
);
CREATE INDEX machine_tags_tag ON machine_tags (tag, machine_id);
CREATE TABLE subnets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  cidr TEXT NOT NULL UNIQUE,
  gateway TEXT,
  dns TEXT NOT NULL,
  vlan INTEGER,
  dhcp_mode TEXT NOT NULL,
  auto_enlist INTEGER NOT NULL,
  ranges TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE ip_addresses (
  subnet_id TEXT NOT NULL REFERENCES subnets (id) ON DELETE CASCADE,
  ip_num BIGINT NOT NULL,
  ip TEXT NOT NULL,
  machine_id TEXT REFERENCES machines (id) ON DELETE SET NULL,
  mac TEXT,
  kind TEXT NOT NULL,
  expires_at BIGINT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (subnet_id, ip_num)
);
CREATE INDEX ip_addresses_machine ON ip_addresses (machine_id);
CREATE TABLE events (
  id {{autoid}},
  at BIGINT NOT NULL,
  type TEXT NOT NULL,
  level TEXT NOT NULL,
  machine_id TEXT,
  job_id TEXT,
  actor TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX events_machine ON events (machine_id, id);
CREATE INDEX events_job ON events (job_id, id);
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  machine_id TEXT NOT NULL,
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
  finished_at BIGINT
);
CREATE INDEX jobs_runnable ON jobs (status, run_after);
CREATE INDEX jobs_machine ON jobs (machine_id, created_at);
CREATE INDEX jobs_owner ON jobs (lease_owner);
CREATE TABLE secrets (
  id TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  nonce TEXT NOT NULL,
  tag TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  last_used_at BIGINT,
  revoked INTEGER NOT NULL
);
`,
};
