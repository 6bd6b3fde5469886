import { randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue, Namespace, Watcher } from 'etcd3';
import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import type { ShardSpec } from './config.js';
import { clusterNamespace, KEYS } from './keys.js';
import {
  absolutePath,
  bucketName,
  ClusterValueError,
  clusterName,
  databaseName,
  integer,
  list,
  milliseconds,
  onlyKeys,
  poolName,
  record,
  targets,
} from './validate.js';

/**
 * The cluster layout in etcd, under /hangar/<cluster>/ (issue 19, cluster-design.md §4.2):
 *   layout                the ClusterLayout below (JSON), written once by `hangar cluster init`
 *   buckets/<bucket>      which metadata shard holds a bucket (JSON BucketPlacement)
 *   shard-load/<id>       how many buckets a shard holds (decimal), for least-loaded placement
 *   catalog-version       bumped on every catalog change; gateways watch it to reload caches
 *   partitions            how many partitions (shards per gateway) every gateway runs (decimal):
 *                         set once, by init or by the first gateway to boot, never changed
 * Every value is validated when read: a value another version wrote, or a corrupt one, is a
 * ClusterLayoutError naming the key, never a crash or a half-loaded layout.
 */

/** The layout format this code writes and reads; a reader refuses any other. */
export const LAYOUT_VERSION = 1;

export interface MetadataShard extends ShardSpec {
  readonly id: number;
}

export interface BlockPool {
  readonly cephConf: string;
  readonly pool: string;
}

export interface ClusterLayout {
  readonly layoutVersion: typeof LAYOUT_VERSION;
  readonly clusterId: string;
  readonly name: string;
  readonly createdMs: number;
  readonly metadataShards: readonly MetadataShard[];
  readonly blockPool: BlockPool;
}

export interface BucketPlacement {
  readonly bucket: string;
  readonly shard: number;
  readonly placedMs: number;
}

/** A value in etcd that is not what this code wrote: corrupt, hostile or of another version. */
export class ClusterLayoutError extends Error {
  override name = 'ClusterLayoutError';
}

/** The cluster is not in the state an operation needs (no layout yet, already initialised). */
export class ClusterStateError extends Error {
  override name = 'ClusterStateError';
}

// ---- decoding (every read goes through these) ----

function jsonOf(key: string, value: Buffer): unknown {
  if (value.length > LIMITS.clusterLayoutValueBytesMax) {
    throw new ClusterLayoutError(
      `etcd key ${key}: ${value.length} bytes, more than a layout value may hold`,
    );
  }
  try {
    return JSON.parse(value.toString('utf8'));
  } catch {
    throw new ClusterLayoutError(`etcd key ${key}: not JSON`);
  }
}

/** Runs a validator over a value read from `key`, turning its complaint into a layout error. */
function decoded<T>(key: string, value: Buffer, check: (raw: unknown) => T): T {
  const raw = jsonOf(key, value);
  try {
    return check(raw);
  } catch (error) {
    if (error instanceof ClusterValueError) {
      throw new ClusterLayoutError(`etcd key ${key}: ${error.message}`);
    }
    throw error;
  }
}

function shardOf(raw: unknown, where: string, index: number): MetadataShard {
  const table = record(raw, where);
  onlyKeys(table, ['id', 'database', 'targets'], where);
  const id = integer(table['id'], `${where}.id`, index, index);
  return {
    id,
    database: databaseName(table['database'], `${where}.database`),
    targets: targets(table['targets'], `${where}.targets`),
  };
}

export function layoutOf(raw: unknown): ClusterLayout {
  const table = record(raw, 'layout');
  const version = table['layoutVersion'];
  if (version !== LAYOUT_VERSION) {
    throw new ClusterValueError(
      `layoutVersion is ${JSON.stringify(version) ?? 'missing'}; this hangar reads version ${LAYOUT_VERSION}`,
    );
  }
  onlyKeys(
    table,
    ['layoutVersion', 'clusterId', 'name', 'createdMs', 'metadataShards', 'blockPool'],
    'layout',
  );
  const clusterId = table['clusterId'];
  if (typeof clusterId !== 'string' || !/^[0-9a-f-]{36}$/.test(clusterId)) {
    throw new ClusterValueError('layout.clusterId must be a UUID');
  }
  const shards = list(table['metadataShards'], 'layout.metadataShards', LIMITS.clusterShardsMax);
  if (shards.length === 0) throw new ClusterValueError('layout.metadataShards: none');
  const pool = record(table['blockPool'], 'layout.blockPool');
  onlyKeys(pool, ['cephConf', 'pool'], 'layout.blockPool');
  return {
    layoutVersion: LAYOUT_VERSION,
    clusterId,
    name: clusterName(table['name'], 'layout.name'),
    createdMs: milliseconds(table['createdMs'], 'layout.createdMs'),
    metadataShards: shards.map((s, i) => shardOf(s, `layout.metadataShards[${i}]`, i)),
    blockPool: {
      cephConf: absolutePath(pool['cephConf'], 'layout.blockPool.cephConf'),
      pool: poolName(pool['pool'], 'layout.blockPool.pool'),
    },
  };
}

function placementOf(bucket: string, layout: ClusterLayout): (raw: unknown) => BucketPlacement {
  return (raw) => {
    const table = record(raw, 'placement');
    onlyKeys(table, ['bucket', 'shard', 'placedMs'], 'placement');
    if (table['bucket'] !== bucket) throw new ClusterValueError(`placement names another bucket`);
    return {
      bucket,
      shard: integer(table['shard'], 'placement.shard', 0, layout.metadataShards.length - 1),
      placedMs: milliseconds(table['placedMs'], 'placement.placedMs'),
    };
  };
}

function partitionCount(count: number): number {
  try {
    return integer(count, 'partitions', 1, LIMITS.clusterShardsMax);
  } catch (error) {
    if (error instanceof ClusterValueError) throw new ClusterStateError(error.message);
    throw error;
  }
}

function counterOf(key: string, value: Buffer): number {
  const text = value.toString('utf8');
  if (!/^\d{1,15}$/.test(text)) throw new ClusterLayoutError(`etcd key ${key}: not a counter`);
  return Number(text);
}

// ---- the layout store ----

export interface LayoutInput {
  readonly metadataShards: readonly ShardSpec[];
  readonly cephConf: string;
  readonly pool: string;
  /** The partition count every gateway must run; absent: the first gateway to boot sets it. */
  readonly partitions?: number;
}

/** One shard's load as read, with the revision a placement transaction compares against. */
interface ShardLoad {
  readonly id: number;
  readonly buckets: number;
  /** mod_revision of its key; '0' = never written. */
  readonly revision: string;
}

export class LayoutStore {
  readonly kv: Namespace;
  private cached: ClusterLayout | null = null;

  constructor(
    client: Etcd3,
    readonly clusterName: string,
  ) {
    this.kv = clusterNamespace(client, clusterName);
  }

  /**
   * Writes a new layout, its shards' load counters and the catalog version in one transaction
   * that only succeeds if no layout exists: two operators running init at once get one layout.
   */
  async init(input: LayoutInput, nowMs = Date.now()): Promise<ClusterLayout> {
    const layout = layoutOf({
      layoutVersion: LAYOUT_VERSION,
      clusterId: randomUUID(),
      name: this.clusterName,
      createdMs: nowMs,
      metadataShards: input.metadataShards.map((s, id) => ({ id, ...s, targets: [...s.targets] })),
      blockPool: { cephConf: input.cephConf, pool: input.pool },
    });
    const writes = [
      this.kv.put(KEYS.layout).value(JSON.stringify(layout)),
      this.kv.put(KEYS.catalogVersion).value('0'),
      ...layout.metadataShards.map((s) => this.kv.put(KEYS.shardLoad(s.id)).value('0')),
      ...(input.partitions === undefined
        ? []
        : [this.kv.put(KEYS.partitions).value(String(partitionCount(input.partitions)))]),
    ];
    const result = await this.kv
      .if(KEYS.layout, 'Create', '==', 0)
      .then(...writes)
      .commit();
    if (!result.succeeded) {
      throw new ClusterStateError(`cluster '${this.clusterName}' already has a layout`);
    }
    this.cached = layout;
    return layout;
  }

  /** The layout, or null when the cluster was never initialised. */
  async read(): Promise<ClusterLayout | null> {
    const value = await this.kv.get(KEYS.layout).buffer();
    if (value === null) return null;
    this.cached = decoded(KEYS.layout, value, layoutOf);
    return this.cached;
  }

  async require(): Promise<ClusterLayout> {
    const layout = this.cached ?? (await this.read());
    if (layout === null) {
      throw new ClusterStateError(
        `cluster '${this.clusterName}' has no layout (run 'hangar cluster init')`,
      );
    }
    return layout;
  }

  /**
   * The cluster's partition count: `proposed` if none was set yet (one transaction: of two
   * gateways booting at once with different counts, one wins and the other sees a mismatch),
   * else the one set before. Partition i is the same PostgreSQL schema and RADOS namespace on
   * every gateway, and keys hash over the count, so gateways must agree on it.
   */
  async claimPartitions(proposed: number): Promise<number> {
    partitionCount(proposed);
    const result = await this.kv
      .if(KEYS.partitions, 'Create', '==', 0)
      .then(this.kv.put(KEYS.partitions).value(String(proposed)))
      .else(this.kv.get(KEYS.partitions))
      .commit();
    if (result.succeeded) return proposed;
    const kv = result.responses[0]?.response_range?.kvs[0];
    if (kv === undefined) throw new ClusterLayoutError(`etcd key ${KEYS.partitions}: vanished`);
    const count = counterOf(KEYS.partitions, kv.value);
    if (count < 1 || count > LIMITS.clusterShardsMax) {
      throw new ClusterLayoutError(
        `etcd key ${KEYS.partitions}: ${count} is not a partition count`,
      );
    }
    return count;
  }

  /** The partition count gateways agreed on, or null when no gateway booted yet (read-only). */
  async readPartitions(): Promise<number | null> {
    const value = await this.kv.get(KEYS.partitions).buffer();
    return value === null ? null : counterOf(KEYS.partitions, value);
  }

  /** Where a bucket lives, or null when it was never placed. */
  async placementOf(bucket: string): Promise<BucketPlacement | null> {
    const name = this.bucketKeyName(bucket);
    const layout = await this.require();
    const value = await this.kv.get(KEYS.bucket(name)).buffer();
    return value === null ? null : decoded(KEYS.bucket(name), value, placementOf(name, layout));
  }

  /**
   * Places a new bucket on the least-loaded shard, or returns where it already is. The
   * transaction commits only if the bucket is still unplaced and the chosen shard's load is
   * unchanged, so two gateways placing the same bucket at once agree on one shard, and two
   * placing different buckets never lose a load count.
   */
  async placeBucket(bucket: string, nowMs = Date.now()): Promise<BucketPlacement> {
    const name = this.bucketKeyName(bucket);
    const layout = await this.require();
    const key = KEYS.bucket(name);
    for (let attempt = 0; attempt < LIMITS.clusterPlacementAttemptsMax; attempt++) {
      const existing = await this.placementOf(name);
      if (existing !== null) return existing;
      const target = leastLoaded(await this.loads(layout));
      const placement: BucketPlacement = { bucket: name, shard: target.id, placedMs: nowMs };
      const result = await this.kv
        .if(key, 'Create', '==', 0)
        .and(KEYS.shardLoad(target.id), 'Mod', '==', target.revision)
        .then(
          this.kv.put(key).value(JSON.stringify(placement)),
          this.kv.put(KEYS.shardLoad(target.id)).value(String(target.buckets + 1)),
        )
        .commit();
      if (result.succeeded) return placement;
      await backOff(attempt);
    }
    throw new ClusterStateError(
      `placing bucket ${name}: ${LIMITS.clusterPlacementAttemptsMax} transactions lost to concurrent placements`,
    );
  }

  /** Forgets a deleted bucket's placement and lowers its shard's load. */
  async releaseBucket(bucket: string): Promise<void> {
    const name = this.bucketKeyName(bucket);
    const layout = await this.require();
    for (let attempt = 0; attempt < LIMITS.clusterPlacementAttemptsMax; attempt++) {
      const placement = await this.placementOf(name);
      if (placement === null) return;
      const load = (await this.loads(layout))[placement.shard];
      assert(load !== undefined, 'a placement names a shard of the layout');
      const result = await this.kv
        .if(KEYS.bucket(name), 'Mod', '>', 0)
        .and(KEYS.shardLoad(load.id), 'Mod', '==', load.revision)
        .then(
          this.kv.delete().key(KEYS.bucket(name)),
          this.kv.put(KEYS.shardLoad(load.id)).value(String(Math.max(0, load.buckets - 1))),
        )
        .commit();
      if (result.succeeded) return;
      await backOff(attempt);
    }
    throw new ClusterStateError(`releasing bucket ${name}: too many concurrent changes`);
  }

  /** Every shard's bucket count, read in one range. */
  async loads(layout: ClusterLayout): Promise<ShardLoad[]> {
    const response = await this.kv
      .getAll()
      .prefix(KEYS.shardLoadPrefix)
      .limit(LIMITS.clusterShardsMax)
      .exec();
    const byKey = new Map<string, IKeyValue>(response.kvs.map((kv) => [kv.key.toString(), kv]));
    return layout.metadataShards.map((shard) => {
      const kv = byKey.get(KEYS.shardLoad(shard.id));
      return kv === undefined
        ? { id: shard.id, buckets: 0, revision: '0' }
        : {
            id: shard.id,
            buckets: counterOf(KEYS.shardLoad(shard.id), kv.value),
            revision: kv.mod_revision,
          };
    });
  }

  async catalogVersion(): Promise<number> {
    const value = await this.kv.get(KEYS.catalogVersion).buffer();
    return value === null ? 0 : counterOf(KEYS.catalogVersion, value);
  }

  /** Announces a catalog change; every gateway watching reloads its caches. Returns the new version. */
  async bumpCatalogVersion(): Promise<number> {
    for (let attempt = 0; attempt < LIMITS.clusterPlacementAttemptsMax; attempt++) {
      const response = await this.kv.get(KEYS.catalogVersion).exec();
      const kv = response.kvs[0];
      const current = kv === undefined ? 0 : counterOf(KEYS.catalogVersion, kv.value);
      const next = current + 1;
      const result = await this.kv
        .if(KEYS.catalogVersion, 'Mod', '==', kv?.mod_revision ?? '0')
        .then(this.kv.put(KEYS.catalogVersion).value(String(next)))
        .commit();
      if (result.succeeded) return next;
      await backOff(attempt);
    }
    throw new ClusterStateError('bumping the catalog version: too many concurrent changes');
  }

  /**
   * Calls `onChange(version)` on every catalog change until the returned function is called.
   * A watch that breaks reconnects by itself (etcd3 resumes from the last revision seen).
   */
  async watchCatalogVersion(onChange: (version: number) => void): Promise<() => Promise<void>> {
    const watcher: Watcher = await this.kv.watch().key(KEYS.catalogVersion).create();
    watcher.on('put', (kv) => {
      try {
        onChange(counterOf(KEYS.catalogVersion, kv.value));
      } catch {
        // A corrupt version still means "something changed": reload, with an unknown number.
        onChange(-1);
      }
    });
    return () => watcher.cancel();
  }

  private bucketKeyName(bucket: string): string {
    try {
      return bucketName(bucket, 'bucket');
    } catch (error) {
      if (error instanceof ClusterValueError) throw new ClusterStateError(error.message);
      throw error;
    }
  }
}

/**
 * After a transaction lost to a concurrent one: a random wait that grows with the attempts, so a
 * burst of placements (all racing for the least-loaded shard's counter) spreads out instead of
 * colliding again in lockstep.
 */
function backOff(attempt: number): Promise<void> {
  const capMs = Math.min(LIMITS.clusterPlacementBackoffMsMax, 4 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * capMs));
}

/** The shard with the fewest buckets; ties go to the lowest id, so every gateway picks alike. */
function leastLoaded(loads: readonly ShardLoad[]): ShardLoad {
  const first = loads[0];
  assert(first !== undefined, 'a layout has at least one shard');
  return loads.reduce((best, load) => (load.buckets < best.buckets ? load : best), first);
}
