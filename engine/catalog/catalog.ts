import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { assert } from '../assert.js';
import { recordEncoder } from '../codec.js';
import { ensurePrivateDir, restrictFiles } from '../data-dir.js';
import { LIMITS } from '../limits.js';
import type { KvEnv, KvTable, KvTableOptions } from '../meta/kv.js';
import { type BucketAccess, NEW_BUCKET_ACCESS } from './access.js';
import { BUCKET_NAME_CHARS_MAX } from './bucket-name.js';
import type { KmsKeyRecord, KmsTables } from './kms.js';
import { NotifyTargetTable } from './notify-targets.js';
import { type RemoteRecord, RemoteTable } from './remotes.js';
import type { CatalogReplica } from './replica.js';

/**
 * The catalog: buckets, access keys and per-bucket grants (Garage's model). It is the control
 * plane, separate from the sharded object data: every request must be authorized synchronously on
 * the HTTP thread, and LMDB reads are memory-mapped lookups that take microseconds. Writes are
 * rare (bucket and key administration). LMDB is multi-process safe, so the `hangar` CLI may write
 * the catalog while a server runs; the server sees the change on its next event-loop turn.
 */

export interface BucketRecord {
  /** Random 128-bit id (hex). Objects are stored under the id, not the name, so a deleted and
   *  re-created bucket never sees the objects of its predecessor. */
  readonly id: string;
  /** The global alias this record was found under (a bucket has one or more; see Catalog). */
  readonly name: string;
  readonly createdMs: number;
  /** The LocationConstraint given at creation ('' for the default region). */
  readonly location: string;
  /** The access key id of the key that created the bucket; absent: the account root. */
  readonly ownerKey?: string;
  /**
   * Bumped (in every alias record) by each change of any of the bucket's configurations, so that
   * a thread may keep decoded configurations and reuse them while the bucket record says they
   * are current (getBucketConfig): a request reads the bucket record, not each configuration.
   * Absent: 0.
   */
  readonly configVersion?: number;
}

export interface KeyRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly name: string;
  readonly createdMs: number;
  readonly allowCreateBucket: boolean;
  /** The root key may do everything on every bucket. */
  readonly root: boolean;
}

/** A bucket with every global alias it has (sorted); `name` is the first of them. */
export interface BucketInfo extends BucketRecord {
  readonly aliases: readonly string[];
}

export interface Grant {
  readonly read: boolean;
  readonly write: boolean;
  readonly owner: boolean;
}

export const NO_GRANT: Grant = Object.freeze({ read: false, write: false, owner: false });
export const FULL_GRANT: Grant = Object.freeze({ read: true, write: true, owner: true });

export class CatalogError extends Error {
  constructor(
    readonly reason:
      | 'BucketExists'
      | 'NoSuchBucket'
      | 'KeyExists'
      | 'NoSuchKey'
      | 'InvalidKey'
      | 'LastAlias',
    message: string,
  ) {
    super(message);
    this.name = 'CatalogError';
  }
}

/** Catalog records are CBOR (cbor-x), like shard records. */
function cborRecords(): KvTableOptions {
  return { encoder: recordEncoder() };
}

const ACCESS_KEY_ID_PATTERN = /^[A-Za-z0-9_.-]{8,128}$/;

export class Catalog {
  private readonly env: KvEnv;
  /**
   * Global aliases (bucket names) → bucket. A bucket reachable under several names (Garage's
   * global aliases) has one record per alias, all with the same id, createdMs and location (the
   * immutable part; everything mutable — grants, configurations, objects — is keyed by id) and
   * `name` set to the alias. A single-name bucket is thus stored exactly as before aliases
   * existed: data directories need no migration.
   */
  private readonly buckets: KvTable<BucketRecord, string>;
  private readonly keys: KvTable<KeyRecord, string>;
  private readonly grants: KvTable<Grant, string>;
  private readonly configs: KvTable<unknown, string>;
  private readonly kmsKeys: KvTable<KmsKeyRecord, string>;
  private readonly kmsAliases: KvTable<string, string>;
  /** Replication remotes (engine/catalog/remotes.ts). */
  readonly remotes: RemoteTable;
  /** The admin API's notification targets (engine/catalog/notify-targets.ts). */
  readonly notifyTargets: NotifyTargetTable;
  /** This thread's decoded configurations by bucket id, valid for one configVersion. */
  private readonly configCache = new Map<string, CachedConfigs>();

  /** Cluster mode: the link of this replica to PostgreSQL's catalog; undefined: embedded. */
  private readonly replica: CatalogReplica | undefined;

  private constructor(env: KvEnv, replica?: CatalogReplica) {
    this.env = env;
    this.replica = replica;
    this.buckets = env.openDB<BucketRecord, string>({ name: 'buckets', ...cborRecords() });
    this.keys = env.openDB<KeyRecord, string>({ name: 'keys', ...cborRecords() });
    this.grants = env.openDB<Grant, string>({ name: 'grants', ...cborRecords() });
    this.configs = env.openDB<unknown, string>({ name: 'configs', ...cborRecords() });
    this.kmsKeys = env.openDB<KmsKeyRecord, string>({ name: 'kms-keys', ...cborRecords() });
    this.kmsAliases = env.openDB<string, string>({ name: 'kms-aliases', ...cborRecords() });
    this.remotes = new RemoteTable(
      env,
      env.openDB<RemoteRecord, string>({ name: 'remotes', ...cborRecords() }),
    );
    this.notifyTargets = new NotifyTargetTable(env, cborRecords());
  }

  /** The built-in keyring's tables (engine/sse/keyring.ts reads and writes them). */
  kmsTables(): KmsTables {
    return {
      keys: this.kmsKeys,
      aliases: this.kmsAliases,
      transaction: (work) => this.env.transaction(work),
      transactionSync: (work) => this.env.transactionSync(work),
      flushed: () => this.flushed(),
    };
  }

  /** Opens (or creates) `<dataDir>/catalog`, owner-only: it holds every secret access key. */
  static open(dataDir: string): Catalog {
    return new Catalog(openCatalogEnv(dataDir));
  }

  /**
   * Cluster mode (engine/catalog/cluster-catalog.ts): a catalog whose reads are the local
   * replica's and whose transactions commit to PostgreSQL (engine/catalog/replicated-env.ts).
   */
  static overReplica(env: KvEnv, replica: CatalogReplica): Catalog {
    return new Catalog(env, replica);
  }

  /** Whether this catalog is a cluster replica (a lookup miss may be a change not yet seen). */
  get replicated(): boolean {
    return this.replica !== undefined;
  }

  /**
   * Cluster mode, before answering NoSuchBucket or InvalidAccessKeyId: brings the replica up to
   * PostgreSQL's catalog if it is behind, so that a bucket or key made on another gateway is
   * usable here at once. Resolves whether anything changed (then look again). Embedded: false.
   */
  async catchUp(): Promise<boolean> {
    if (this.replica === undefined) return false;
    const changed = await this.replica.catchUp();
    if (changed) this.refresh();
    return changed;
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.env.close();
  }

  /** Resolves when every write made so far is on disk (not merely visible). */
  flushed(): Promise<void> {
    return this.env.flushed.then(() => undefined);
  }

  /**
   * Starts this thread's next reads from the newest commit. lmdb-js renews a thread's read
   * snapshot on a 1 ms timer that fires late under load; a request begins with this, so that a
   * grant, key or configuration change acknowledged to any client is seen by every later request
   * (0.6-0.9 µs).
   */
  refresh(): void {
    this.env.resetReadTxn();
  }

  // ---- keys ----

  getKey(accessKeyId: string): KeyRecord | undefined {
    return this.keys.get(accessKeyId);
  }

  listKeys(): KeyRecord[] {
    return [...this.keys.getRange().map(({ value }) => value)];
  }

  async createKey(name: string, opts: { allowCreateBucket?: boolean } = {}): Promise<KeyRecord> {
    const accessKeyId = `HK${randomBytes(12).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(32).toString('hex');
    return this.importKey(accessKeyId, secretAccessKey, name, opts);
  }

  async importKey(
    accessKeyId: string,
    secretAccessKey: string,
    name: string,
    opts: { allowCreateBucket?: boolean; root?: boolean } = {},
  ): Promise<KeyRecord> {
    if (!ACCESS_KEY_ID_PATTERN.test(accessKeyId)) {
      throw new CatalogError('InvalidKey', `invalid access key id '${accessKeyId}'`);
    }
    if (secretAccessKey.length < 8 || secretAccessKey.length > 128) {
      throw new CatalogError('InvalidKey', 'secret key must be 8 to 128 characters');
    }
    const record: KeyRecord = {
      accessKeyId,
      secretAccessKey,
      name,
      createdMs: Date.now(),
      allowCreateBucket: opts.allowCreateBucket ?? false,
      root: opts.root ?? false,
    };
    const created = await this.keys.ifNoExists(accessKeyId, () => {
      this.keys.put(accessKeyId, record);
    });
    if (!created) throw new CatalogError('KeyExists', `key ${accessKeyId} already exists`);
    await this.flushed();
    return record;
  }

  /**
   * Makes this the one root key: creates or overwrites it (configured credentials win over stored
   * ones) and, in the same transaction, deletes every other root key with its grants. Rotating
   * the configured root key thus revokes the previous one, as an operator replacing a leaked key
   * needs, instead of leaving it with every right. Returns the record and the removed key ids.
   */
  async putRootKey(
    accessKeyId: string,
    secretAccessKey: string,
  ): Promise<{ key: KeyRecord; removed: string[] }> {
    const record: KeyRecord = {
      accessKeyId,
      secretAccessKey,
      name: 'root',
      createdMs: this.getKey(accessKeyId)?.createdMs ?? Date.now(),
      allowCreateBucket: true,
      root: true,
    };
    const removed = await this.env.transaction(() => {
      const others = this.listKeys()
        .filter((key) => key.root && key.accessKeyId !== accessKeyId)
        .map((key) => key.accessKeyId);
      for (const other of others) this.removeKeyAndGrants(other);
      this.keys.put(accessKeyId, record);
      return others;
    });
    await this.flushed();
    assert(this.listKeys().filter((key) => key.root).length === 1, 'exactly one root key');
    return { key: record, removed };
  }

  async updateKey(
    accessKeyId: string,
    change: { name?: string; allowCreateBucket?: boolean },
  ): Promise<KeyRecord> {
    const updated = await this.env.transaction(() => {
      const current = this.keys.get(accessKeyId);
      if (current === undefined) return undefined;
      const next: KeyRecord = { ...current, ...change };
      this.keys.put(accessKeyId, next);
      return next;
    });
    if (updated === undefined) throw new CatalogError('NoSuchKey', `no key ${accessKeyId}`);
    await this.flushed();
    return updated;
  }

  async deleteKey(accessKeyId: string): Promise<void> {
    const removed = await this.env.transaction(() => {
      if (this.keys.get(accessKeyId) === undefined) return false;
      this.removeKeyAndGrants(accessKeyId);
      return true;
    });
    if (!removed) throw new CatalogError('NoSuchKey', `no key ${accessKeyId}`);
    await this.flushed();
  }

  /** Inside a transaction: the key and every grant it holds. */
  private removeKeyAndGrants(accessKeyId: string): void {
    this.keys.remove(accessKeyId);
    for (const { key } of this.grants.getRange()) {
      if (key.endsWith(`/${accessKeyId}`)) this.grants.remove(key);
    }
  }

  // ---- buckets ----

  /** The bucket a global alias names (`name` is that alias), or undefined. */
  getBucket(name: string): BucketRecord | undefined {
    // A name from the network may be longer than LMDB takes as a key (it throws): none such
    // was ever created.
    if (name.length > BUCKET_NAME_CHARS_MAX) return undefined;
    return this.buckets.get(name);
  }

  /** Every bucket once (by id), with its aliases; sorted by first alias. */
  listBuckets(): BucketInfo[] {
    const byId = new Map<string, { record: BucketRecord; aliases: string[] }>();
    for (const { key, value } of this.buckets.getRange()) {
      const entry = byId.get(value.id);
      if (entry === undefined) byId.set(value.id, { record: value, aliases: [key] });
      else entry.aliases.push(key);
    }
    return [...byId.values()].map(({ record, aliases }) => ({
      ...record,
      name: aliases[0] ?? record.name,
      aliases,
    }));
  }

  /** One record per global alias (S3 ListBuckets lists a bucket under each of its names). */
  listBucketAliases(): BucketRecord[] {
    return [...this.buckets.getRange().map(({ key, value }) => ({ ...value, name: key }))];
  }

  /** The bucket with this id, with its aliases, or undefined. */
  getBucketById(id: string): BucketInfo | undefined {
    return this.listBuckets().find((bucket) => bucket.id === id);
  }

  /** The global aliases of bucket `id`, sorted (empty if there is no such bucket). */
  aliasesOf(id: string): string[] {
    const aliases: string[] = [];
    for (const { key, value } of this.buckets.getRange()) if (value.id === id) aliases.push(key);
    return aliases;
  }

  /** Makes the bucket reachable under `alias` too. BucketExists if the alias is taken. */
  async addBucketAlias(id: string, alias: string): Promise<BucketInfo> {
    const result = await this.env.transaction(() => {
      const existing = this.buckets.get(alias);
      if (existing !== undefined) return existing.id === id ? 'same' : 'taken';
      const bucket = this.findById(id);
      if (bucket === undefined) return 'missing';
      this.buckets.put(alias, { ...bucket, name: alias });
      // Policies match the bucket under each of its names (bucketNamesOf): cached lists go stale.
      this.bumpConfigVersion(id);
      return 'added';
    });
    if (result === 'missing') throw new CatalogError('NoSuchBucket', `no bucket with id ${id}`);
    if (result === 'taken') throw new CatalogError('BucketExists', `alias ${alias} is taken`);
    await this.flushed();
    return this.getBucketById(id) as BucketInfo;
  }

  /** Removes one alias of the bucket; LastAlias if it is its only one (delete the bucket). */
  async removeBucketAlias(id: string, alias: string): Promise<BucketInfo> {
    const result = await this.env.transaction(() => {
      if (this.findById(id) === undefined) return 'missing';
      if (this.buckets.get(alias)?.id !== id) return 'notAlias';
      if (this.aliasesOf(id).length <= 1) return 'last';
      this.buckets.remove(alias);
      this.bumpConfigVersion(id);
      return 'removed';
    });
    if (result === 'missing') throw new CatalogError('NoSuchBucket', `no bucket with id ${id}`);
    if (result === 'notAlias') {
      throw new CatalogError('NoSuchBucket', `${alias} is not an alias of bucket ${id}`);
    }
    if (result === 'last') {
      throw new CatalogError('LastAlias', `${alias} is the last alias of bucket ${id}`);
    }
    await this.flushed();
    return this.getBucketById(id) as BucketInfo;
  }

  private findById(id: string): BucketRecord | undefined {
    for (const { value } of this.buckets.getRange()) if (value.id === id) return value;
    return undefined;
  }

  /** Creates the bucket; `ownerKey` (if not root) receives read, write and owner grants. */
  async createBucket(
    name: string,
    opts: {
      location: string;
      ownerKey?: string | undefined;
      /** The bucket's access record (default NEW_BUCKET_ACCESS): CreateBucket's ACL and ownership. */
      access?: BucketAccess;
    },
  ): Promise<BucketRecord> {
    const record: BucketRecord = {
      id: randomBytes(16).toString('hex'),
      name,
      createdMs: Date.now(),
      location: opts.location,
      ...(opts.ownerKey === undefined ? {} : { ownerKey: opts.ownerKey }),
    };
    const created = await this.env.transaction(() => {
      if (this.buckets.get(name) !== undefined) return false;
      this.buckets.put(name, record);
      this.configs.put(configKey(record.id, 'access'), opts.access ?? NEW_BUCKET_ACCESS);
      if (opts.ownerKey !== undefined) {
        this.grants.put(grantKey(record.id, opts.ownerKey), FULL_GRANT);
      }
      return true;
    });
    if (!created) throw new CatalogError('BucketExists', `bucket ${name} already exists`);
    await this.flushed();
    return record;
  }

  /**
   * Removes the bucket `name` names — every alias of it — with its grants and configurations.
   * Emptiness is the caller's to check (it lives in shards).
   */
  async deleteBucket(name: string): Promise<BucketRecord> {
    const removed = await this.env.transaction(() => {
      const bucket = this.buckets.get(name);
      if (bucket === undefined) return undefined;
      for (const alias of this.aliasesOf(bucket.id)) this.buckets.remove(alias);
      for (const { key } of this.grants.getRange({
        start: `${bucket.id}/`,
        end: `${bucket.id}0`,
      })) {
        this.grants.remove(key);
      }
      for (const { key } of this.configs.getRange({
        start: `${bucket.id}/`,
        end: `${bucket.id}0`,
      })) {
        this.configs.remove(key);
      }
      return bucket;
    });
    if (removed === undefined) throw new CatalogError('NoSuchBucket', `no bucket ${name}`);
    await this.flushed();
    return removed;
  }

  /** Ids of every live bucket; the shards' orphan sweep removes objects of any other id. */
  liveBucketIds(): Set<string> {
    return new Set(this.listBuckets().map((bucket) => bucket.id));
  }

  // ---- bucket configurations (CORS, website, lifecycle, tagging, access, ...) ----

  /**
   * A bucket's stored configuration of `kind` (the parsed document, frozen), or undefined. Given
   * the bucket's record, the answer comes from this thread's cache while the record's
   * `configVersion` is the one the cached value was read under: a request, which reads the
   * bucket record anyway, then pays no catalog read per configuration (a PUT reads four or
   * five: versioning, object lock, quotas, lifecycle, access). Given only an id, it is read.
   */
  getBucketConfig<T>(bucket: BucketRecord | string, kind: BucketConfigKind): T | undefined {
    if (typeof bucket === 'string')
      return this.configs.get(configKey(bucket, kind)) as T | undefined;
    const entry = this.configEntry(bucket);
    if (entry.values.has(kind)) return entry.values.get(kind) as T | undefined;
    const value = deepFreeze(this.configs.get(configKey(bucket.id, kind)));
    entry.values.set(kind, value);
    return value as T | undefined;
  }

  /**
   * Every global alias of the bucket, from this thread's cache while the record's configVersion
   * holds (alias changes bump it): a bucket policy names the bucket by any of them.
   */
  bucketNamesOf(bucket: BucketRecord): readonly string[] {
    const entry = this.configEntry(bucket);
    entry.names ??= Object.freeze(this.aliasesOf(bucket.id));
    return entry.names;
  }

  async putBucketConfig(bucketId: string, kind: BucketConfigKind, value: unknown): Promise<void> {
    await this.updateBucketConfig(bucketId, kind, () => value);
  }

  /**
   * Replaces a configuration with what `change` makes of the current one (undefined removes it),
   * in one transaction that also bumps `configVersion` in every alias record of the bucket: every
   * thread's cached configurations of the bucket are stale from that commit on. Configurations
   * that share a record (the access record) never lose a concurrent change to another field.
   */
  async updateBucketConfig<T>(
    bucketId: string,
    kind: BucketConfigKind,
    change: (current: T | undefined) => T | undefined,
  ): Promise<T | undefined> {
    const key = configKey(bucketId, kind);
    const next = await this.env.transaction(() => {
      const value = change(this.configs.get(key) as T | undefined);
      if (value === undefined) this.configs.remove(key);
      else this.configs.put(key, value);
      this.bumpConfigVersion(bucketId);
      return value;
    });
    await this.flushed();
    return next;
  }

  async deleteBucketConfig(bucketId: string, kind: BucketConfigKind): Promise<void> {
    await this.updateBucketConfig(bucketId, kind, () => undefined);
  }

  /** This thread's cache entry for the bucket, fresh for its record's configVersion. */
  private configEntry(bucket: BucketRecord): CachedConfigs {
    const version = bucket.configVersion ?? 0;
    let entry = this.configCache.get(bucket.id);
    if (entry === undefined || entry.version !== version) {
      if (this.configCache.size >= LIMITS.bucketConfigsCachedMax) this.configCache.clear();
      entry = { version, values: new Map() };
      this.configCache.set(bucket.id, entry);
    }
    return entry;
  }

  /** Inside a transaction: marks every cached configuration of the bucket stale. */
  private bumpConfigVersion(bucketId: string): void {
    for (const alias of this.aliasesOf(bucketId)) {
      const record = this.buckets.get(alias);
      if (record === undefined) continue;
      this.buckets.put(alias, { ...record, configVersion: (record.configVersion ?? 0) + 1 });
    }
  }

  // ---- grants ----

  getGrant(bucketId: string, accessKeyId: string): Grant {
    return this.grants.get(grantKey(bucketId, accessKeyId)) ?? NO_GRANT;
  }

  grantsOfBucket(bucketId: string): Array<{ accessKeyId: string; grant: Grant }> {
    const range = this.grants.getRange({ start: `${bucketId}/`, end: `${bucketId}0` });
    return [
      ...range.map(({ key, value }) => ({
        accessKeyId: key.slice(bucketId.length + 1),
        grant: value,
      })),
    ];
  }

  /** Sets (allow) or clears (deny) the given permissions; others are left as they are. */
  async changeGrant(
    bucketName: string,
    accessKeyId: string,
    permissions: Partial<Grant>,
    allow: boolean,
  ): Promise<Grant> {
    const bucket = this.getBucket(bucketName);
    if (bucket === undefined) throw new CatalogError('NoSuchBucket', `no bucket ${bucketName}`);
    if (this.getKey(accessKeyId) === undefined) {
      throw new CatalogError('NoSuchKey', `no key ${accessKeyId}`);
    }
    const key = grantKey(bucket.id, accessKeyId);
    const grant = await this.env.transaction(() => {
      const current = this.grants.get(key) ?? NO_GRANT;
      const next: Grant = {
        read: permissions.read ? allow : current.read,
        write: permissions.write ? allow : current.write,
        owner: permissions.owner ? allow : current.owner,
      };
      if (next.read || next.write || next.owner) this.grants.put(key, next);
      else this.grants.remove(key);
      return next;
    });
    await this.flushed();
    return grant;
  }
}

/**
 * The LMDB environment of `<dataDir>/catalog` (embedded: the catalog; cluster mode: its replica),
 * owner-only: it holds every secret access key.
 */
export function openCatalogEnv(dataDir: string): RootDatabase {
  const path = join(dataDir, 'catalog');
  ensurePrivateDir(dataDir);
  ensurePrivateDir(path);
  // Nine tables today (buckets, keys, grants, configs, the SSE keyring's two, notify targets,
  // replication remotes, and cluster mode's catalog version).
  const env = open({ path, maxDbs: 16 });
  // LMDB creates its files with its own default mode (0644): the directories above already
  // keep others out; this keeps the secrets private even if an operator widens them.
  restrictFiles([join(path, 'data.mdb'), join(path, 'lock.mdb')]);
  return env;
}

/** Bucket-level configurations hangar stores in the catalog, keyed "<bucketId>/<kind>". */
export type BucketConfigKind =
  | 'cors'
  | 'website'
  | 'lifecycle'
  /** The lifecycle rules' x-amz-transition-default-minimum-object-size (lifecycle-transitions.ts). */
  | 'lifecycle-options'
  /** Intelligent-Tiering configurations, all in one record (http/s3/intelligent-tiering-config.ts). */
  | 'intelligent-tiering'
  | 'tagging'
  | 'quotas'
  | 'versioning'
  | 'object-lock'
  /** ACL, policy, PublicAccessBlock and OwnershipControls together (http/access/model.ts). */
  | 'access'
  /** Default encryption (PutBucketEncryption; http/s3/handlers/encryption.ts). */
  | 'encryption'
  /** Event notifications (http/s3/notifications.ts). */
  | 'notification'
  /** Server access logging (PutBucketLogging; http/s3/handlers/logging.ts). */
  | 'logging'
  /** Bucket replication (PutBucketReplication; http/s3/replication-config.ts). */
  | 'replication'
  /** Transfer acceleration status (http/s3/handlers/accelerate.ts). */
  | 'accelerate'
  /** Who pays for requests (http/s3/handlers/request-payment.ts, http/s3/requester-pays.ts). */
  | 'request-payment'
  /** Analytics configurations, all of a bucket's in one record (http/s3/handlers/analytics.ts). */
  | 'analytics'
  /** Metrics configurations, all in one record (http/s3/handlers/metrics.ts). */
  | 'metrics'
  /** Inventory configurations by id (http/inventory/config.ts). */
  | 'inventory'
  /** Inventory report runs: when each configuration last ran (http/inventory/worker.ts). */
  | 'inventory-runs';

/** A bucket's decoded configurations (and names) for one configVersion. */
interface CachedConfigs {
  readonly version: number;
  readonly values: Map<BucketConfigKind, unknown>;
  names?: readonly string[];
}

/** Cached configurations are shared by every request of the thread: none may change one. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function configKey(bucketId: string, kind: BucketConfigKind): string {
  assert(/^[0-9a-f]{32}$/.test(bucketId), 'bucket ids are 32 hex digits');
  return `${bucketId}/${kind}`;
}

/** Grants are keyed "<bucketId>/<accessKeyId>" so a bucket's grants form one contiguous range. */
function grantKey(bucketId: string, accessKeyId: string): string {
  assert(/^[0-9a-f]{32}$/.test(bucketId), 'bucket ids are 32 hex digits');
  return `${bucketId}/${accessKeyId}`;
}
