/**
 * The SQL store's plumbing (its Db, the SecretBox that seals secrets) and the records that stand
 * on their own: events, secrets, API tokens, images, bundles, power readings and hardware
 * health. SqlStore (sql-store.ts) adds the fleet's lifecycle on top. Every query lives in the
 * file of its table; this class only wires them to the Db.
 */
import type { ApiToken } from '../core/auth.ts';
import type { Bundle } from '../core/bundle.ts';
import type { IngotEvent, NewEvent } from '../core/event.ts';
import type { DiskHealth, HealthSample } from '../core/health.ts';
import { type BackupStore, backupStore } from './backups-sql.ts';
import * as bundles from './bundles-sql.ts';
import type { SecretBox } from './crypto.ts';
import type { Db } from './db.ts';
import * as eventsSql from './events-sql.ts';
import * as health from './health-sql.ts';
import type { HealthLabels } from './health-sql.ts';
import * as images from './images-sql.ts';
import * as power from './power-readings-sql.ts';
import type { PowerAverage } from './power-readings-sql.ts';
import * as secrets from './secrets-sql.ts';
import type {
  BundlePatch,
  EventFilter,
  ImagePatch,
  ImageRow,
  NewBundle,
  NewImage,
  NewToken,
} from './store.ts';
import * as tokens from './tokens-sql.ts';

export class SqlRecordStore {
  readonly kind: 'sqlite' | 'postgres';
  readonly backups: BackupStore;
  protected readonly sql: Db;
  protected readonly box: SecretBox;

  constructor(db: Db, box: SecretBox) {
    this.sql = db;
    this.box = box;
    this.kind = db.dialect;
    this.backups = backupStore(db);
  }

  /** For tests and benchmarks that need raw SQL access (never used by the region itself). */
  get db(): Db {
    return this.sql;
  }

  close(): Promise<void> {
    return this.sql.close();
  }

  /** Seals a secret inside `db` (the caller's transaction or the store's own connection). */
  protected seal = (db: Db, purpose: string, plaintext: string): Promise<string> =>
    secrets.putSecret(db, this.box, purpose, plaintext);

  // events
  appendEvents(events: NewEvent[]): Promise<void> {
    return eventsSql.appendEvents(this.sql, events);
  }
  listEvents(filter: EventFilter): Promise<IngotEvent[]> {
    return eventsSql.listEvents(this.sql, filter);
  }

  // secrets
  putSecret(purpose: string, plaintext: string): Promise<string> {
    return this.seal(this.sql, purpose, plaintext);
  }
  getSecret(id: string): Promise<string> {
    return secrets.getSecret(this.sql, this.box, id);
  }
  deleteSecret(id: string): Promise<void> {
    return secrets.deleteSecret(this.sql, id);
  }

  // images
  createImage(input: NewImage, actor: string, opts?: { replaceUnready?: boolean }): Promise<ImageRow> {
    return images.createImage(this.sql, input, actor, opts);
  }
  getImage(nameOrId: string): Promise<ImageRow> {
    return images.getImage(this.sql, nameOrId);
  }
  listImages(): Promise<ImageRow[]> {
    return images.listImages(this.sql);
  }
  updateImage(
    id: string,
    patch: ImagePatch,
    actor: string,
    ifStatus?: ImageRow['status'],
  ): Promise<ImageRow | null> {
    return images.updateImage(this.sql, id, patch, actor, ifStatus);
  }
  deleteImage(nameOrId: string, actor: string): Promise<ImageRow> {
    return images.deleteImage(this.sql, nameOrId, actor);
  }

  // bundles
  createBundle(input: NewBundle, actor: string, opts?: { replaceUnready?: boolean }): Promise<Bundle> {
    return bundles.createBundle(this.sql, input, actor, opts);
  }
  getBundle(nameOrId: string): Promise<Bundle> {
    return bundles.getBundle(this.sql, nameOrId);
  }
  listBundles(): Promise<Bundle[]> {
    return bundles.listBundles(this.sql);
  }
  updateBundle(
    id: string,
    patch: BundlePatch,
    actor: string,
    ifStatus?: Bundle['status'],
  ): Promise<Bundle | null> {
    return bundles.updateBundle(this.sql, id, patch, actor, ifStatus);
  }
  deleteBundle(nameOrId: string, actor: string): Promise<Bundle> {
    return bundles.deleteBundle(this.sql, nameOrId, actor);
  }

  // power readings
  recordPowerReading(machineId: string, at: number, watts: number): Promise<boolean> {
    return power.recordPowerReading(this.sql, machineId, at, watts);
  }
  averagePower(since: number): Promise<Map<string, PowerAverage>> {
    return power.averagePower(this.sql, since);
  }
  prunePowerReadings(before: number): Promise<number> {
    return power.prunePowerReadings(this.sql, before);
  }

  // hardware health
  recordHealthSample(sample: HealthSample): Promise<boolean> {
    return health.recordHealthSample(this.sql, sample);
  }
  healthHistory(machineId: string, since: number, limit: number): Promise<HealthSample[]> {
    return health.healthHistory(this.sql, machineId, since, limit);
  }
  latestHealth(): Promise<{ labels: HealthLabels; sample: HealthSample }[]> {
    return health.latestHealth(this.sql);
  }
  recordDiskHealth(reports: readonly DiskHealth[]): Promise<number> {
    return health.recordDiskHealth(this.sql, reports);
  }
  diskHealthHistory(machineId: string, since: number): Promise<DiskHealth[]> {
    return health.diskHealthHistory(this.sql, machineId, since);
  }
  latestDiskHealth(): Promise<{ labels: HealthLabels; disk: DiskHealth }[]> {
    return health.latestDiskHealth(this.sql);
  }
  pruneHealth(before: number): Promise<number> {
    return health.pruneHealth(this.sql, before);
  }

  // tokens
  createToken(t: NewToken, actor = 'system'): Promise<ApiToken> {
    return tokens.createToken(this.sql, t, actor);
  }
  findTokenByHash(hash: string): Promise<ApiToken | null> {
    return tokens.findTokenByHash(this.sql, hash);
  }
  listTokens(): Promise<ApiToken[]> {
    return tokens.listTokens(this.sql);
  }
  revokeToken(id: string, actor = 'system'): Promise<void> {
    return tokens.revokeToken(this.sql, id, actor);
  }
  touchToken(id: string): Promise<void> {
    return tokens.touchToken(this.sql, id);
  }
}
