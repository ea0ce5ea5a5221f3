/**
 * Migration 11: a node agent's task rows sealed at rest (agent-tasks-sql.ts). A `node-exec` or
 * `bootstrap` task's parameters and result can hold a cluster's credentials (a control-plane
 * join's certificate key in the upload-certs command, a bootstrap token in `kubeadm token
 * create`'s output), so the store seals those rows' params, result, reason and last message
 * (AES-256-GCM, crypto.ts) and marks the row. Rows from before stay `sealed = 0` and read as
 * they were written.
 */
import type { Migration } from './migrations.ts';

export const AGENT_TASK_SEAL_MIGRATION: Migration = {
  version: 11,
  name: 'sealed agent tasks',
  sql: `
ALTER TABLE agent_tasks ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
`,
};
