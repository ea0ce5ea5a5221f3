/**
 * Migration 17 (issue 19, DHCP leases/s): two fewer index writes per lease.
 * - `ip_addresses_ip (ip)` is dropped. The address is also `ip_num`, the second column of the
 *   primary key (subnet_id, ip_num), so a lookup by address goes through the primary key for
 *   each subnet (`subnet_id IN (SELECT id FROM subnets) AND ip_num = ?`; subnets are few).
 * - `ip_addresses_machine` only indexes rows that name a machine: an anonymous DHCP lease
 *   (machine_id NULL, most of a busy pool's rows) is never looked up by machine.
 * Each new lease row wrote five B-trees on SQLite (the table, the primary key, machine, MAC,
 * address); now three. Its own file only to keep migrations.ts short.
 */
import type { Migration } from './migrations.ts';

export const LEASE_INDEXES_MIGRATION: Migration = {
  version: 17,
  name: 'lease row indexes',
  sql: `
DROP INDEX ip_addresses_ip;
DROP INDEX ip_addresses_machine;
CREATE INDEX ip_addresses_machine ON ip_addresses (machine_id) WHERE machine_id IS NOT NULL;
`,
};
