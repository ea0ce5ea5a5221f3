/**
 * Migration 10 (hardware health, issue 17): a bounded history of BMC polls per machine and of
 * SMART reports per disk. Its own file only to keep migrations.ts short; it is one entry of
 * the one migration set there. Booleans are 0/1 INTEGERs (the common subset of both backends).
 */
import type { Migration } from './migrations.ts';

export const HEALTH_MIGRATION: Migration = {
  version: 10,
  name: 'hardware health history',
  sql: `
CREATE TABLE health_samples (
  machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  at BIGINT NOT NULL,
  reachable INTEGER NOT NULL,
  health TEXT NOT NULL,
  error TEXT,
  temp_max_c DOUBLE PRECISION,
  fans INTEGER,
  fans_failed INTEGER,
  psus INTEGER,
  psus_failed INTEGER,
  watts DOUBLE PRECISION,
  sel_critical INTEGER,
  sel_warning INTEGER,
  readings TEXT NOT NULL,
  PRIMARY KEY (machine_id, at)
);
CREATE INDEX health_samples_at ON health_samples (at);
CREATE TABLE disk_health (
  machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
  serial TEXT NOT NULL,
  at BIGINT NOT NULL,
  device TEXT NOT NULL,
  model TEXT,
  protocol TEXT NOT NULL,
  passed INTEGER,
  reallocated_sectors BIGINT,
  pending_sectors BIGINT,
  media_errors BIGINT,
  percentage_used INTEGER,
  temperature_c DOUBLE PRECISION,
  power_on_hours BIGINT,
  source TEXT NOT NULL,
  PRIMARY KEY (machine_id, serial, at)
);
CREATE INDEX disk_health_at ON disk_health (at);
`,
};
