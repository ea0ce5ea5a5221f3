/**
 * Migration 12 (cluster operations, issue 16): a cluster's day-2 operations (core/operation.ts)
 * with their per-node progress. At most one active (running or paused) per cluster: a partial
 * unique index, which SQLite and PostgreSQL both enforce, so two regions starting an operation
 * on one cluster at once cannot both win. Its own file to keep migrations.ts short.
 */
import type { Migration } from './migrations.ts';

export const OPERATIONS_MIGRATION: Migration = {
  version: 12,
  name: 'cluster operations',
  sql: `
CREATE TABLE cluster_operations (
  id TEXT PRIMARY KEY,
  cluster_id TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  params TEXT NOT NULL,
  progress TEXT NOT NULL,
  job_id TEXT,
  actor TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT
);
CREATE UNIQUE INDEX cluster_operations_one_active ON cluster_operations (cluster_id) WHERE state IN ('running', 'paused');
CREATE INDEX cluster_operations_cluster ON cluster_operations (cluster_id, created_at);
`,
};
