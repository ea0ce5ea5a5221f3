/**
 * Migration 14 (etcd backups, issue 16): one row per backup of a cluster (src/store/backups-sql.ts).
 * A scheduled backup carries its schedule slot, unique per cluster: two regions on one
 * PostgreSQL that both find a slot due insert it once (the other's insert does nothing). The
 * lease columns let whichever region holds the row run it, and another take it over when that
 * one stops heartbeating (as jobs do). Its own file only to keep migrations.ts short.
 */
import type { Migration } from './migrations.ts';

export const BACKUPS_MIGRATION: Migration = {
  version: 14,
  name: 'etcd backups',
  sql: `
CREATE TABLE backups (
  id TEXT PRIMARY KEY,
  cluster_id TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  trigger_kind TEXT NOT NULL,
  slot BIGINT,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  taken_at BIGINT,
  node TEXT,
  size_bytes BIGINT,
  sha256 TEXT,
  location TEXT,
  revision BIGINT,
  total_keys BIGINT,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  UNIQUE (cluster_id, slot)
);
CREATE INDEX backups_cluster ON backups (cluster_id, created_at);
CREATE INDEX backups_state ON backups (state);
`,
};
