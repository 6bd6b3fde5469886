import { join } from 'node:path';
import { assert } from '../assert.js';
import { BlockPlacement } from '../blocks/placement.js';
import type { RadosShardBlocks } from '../blocks/rados/rados-shard-blocks.js';
import { FileBlocks, type ShardBlocks } from '../blocks/shard-blocks.js';
import { isCode } from '../blocks/store.js';
import { pgKvOptionsOf } from '../cluster/pg-options.js';
import type { ClusterShardSettings } from '../cluster/shard-settings.js';
import { EngineFailureError, engineFailure } from '../errors.js';
import { shardDir } from '../layout.js';
import type { LogSettings } from '../log.js';
import { PgKvEnv, PgKvError } from '../meta/pg-kv/env.js';
import { NoPrimaryError } from '../meta/pg-kv/primary.js';
import { MetaStore, type Notify } from '../meta/store.js';
import type { EventName } from '../notify/events.js';
import type {
  EngineFailure,
  NotifyContext,
  ObjectAclFields,
  ObjectInfo,
  ShardReply,
  ShardResult,
} from '../protocol/messages.js';
import type { Compression, StorageConfig } from '../storage-config.js';
import { BlockDrain } from './block-drain.js';
import { BlockHealth } from './block-health.js';
import { ClusterBlockLedger } from './cluster-ledger.js';
import { BlockLedger, type ShardBlockLedger } from './ledger.js';
import { ShardKeys } from './shard-keys.js';

export interface ShardSettings {
  shardId: number;
  shardCount: number;
  dataDir: string;
  blockBytes: number;
  inlineBytesMax: number;
  /** Every tier's compression unless its [tiers.NAME] sets one (absent: none). */
  blockCompression?: Compression;
  durable: boolean;
  /** How the shard's thread logs (the main thread's settings; the level follows SIGHUP). */
  log: LogSettings;
  /** config.sse.masterKeyFile (absent or null: the data directory's). */
  sseMasterKeyFile?: string | null;
  /** config.storage: data directories and tiers (no data dirs: blocks under dataDir). */
  storage: StorageConfig;
  /** Testing: every metadata read checked to happen inside a run (kv-strict.ts). */
  kvStrict?: boolean;
  /** Cluster mode (issue 19): the partition's PostgreSQL and RADOS; absent: embedded. */
  cluster?: ClusterShardSettings;
}

/** Sends a reply, with body bytes transferred beside it when given. */
export type ReplySink = (reply: ShardReply, body?: ArrayBuffer) => void;

/**
 * The shard's block files and what maintains them: embedded mode only. In cluster mode blocks
 * are RADOS objects: Ceph scrubs and re-replicates them, and the cluster GC (block-gc.ts)
 * collects them, so none of this exists there (ShardCore.local refuses).
 */
export interface LocalBlocks {
  readonly store: BlockPlacement;
  readonly ledger: BlockLedger;
  readonly health: BlockHealth;
  readonly drain: BlockDrain;
  readonly meta: MetaStore;
}

/** Where the shard's blocks live and who keeps their books. */
interface BlockWiring {
  readonly blocks: ShardBlocks;
  readonly ledger: ShardBlockLedger;
  readonly local: LocalBlocks | null;
  readonly rados: RadosShardBlocks | null;
}

/**
 * What every family of a shard's handlers works with (shard.ts dispatches to them): the
 * shard's metadata store and blocks (files, or RADOS in cluster mode) with their ledger, its SSE
 * keys, and its way back to the HTTP thread.
 */
export class ShardCore {
  readonly meta: MetaStore;
  readonly keys: ShardKeys;
  /** Embedded: wired at once; cluster mode: once openBlocks has connected to RADOS. */
  private wiring: BlockWiring | null = null;

  /** Opens the shard's metadata (embedded LMDB, or its partition's PostgreSQL) and blocks. */
  static async open(
    settings: ShardSettings,
    reply: ReplySink,
    logError: (error: unknown) => void,
  ): Promise<ShardCore> {
    return new ShardCore(settings, reply, logError, await openShardMeta(settings));
  }

  private constructor(
    readonly settings: ShardSettings,
    readonly reply: ReplySink,
    readonly logError: (error: unknown) => void,
    meta: MetaStore,
  ) {
    this.meta = meta;
    if (settings.cluster !== undefined) this.meta.shareBlocks();
    else this.wiring = this.fileWiring();
    this.keys = new ShardKeys(settings.dataDir, settings.sseMasterKeyFile ?? null);
  }

  private fileWiring(): BlockWiring {
    const store = new BlockPlacement(this.settings);
    const ledger = new BlockLedger(this.meta, store, this.logError);
    const health = new BlockHealth(this.meta, store, ledger);
    const drain = new BlockDrain({ store, ledger, meta: this.meta });
    const local: LocalBlocks = { store, ledger, meta: this.meta, health, drain };
    return { blocks: new FileBlocks(store), ledger, local, rados: null };
  }

  /**
   * Readies the blocks at start-up: the data directories (embedded), or the connection to the
   * partition's RADOS namespace (cluster mode; librados is loaded only then).
   */
  async openBlocks(): Promise<void> {
    const cluster = this.settings.cluster;
    if (cluster === undefined) {
      await this.local('start-up').store.init();
      return;
    }
    assert(this.wiring === null, 'blocks open once');
    const { RadosShardBlocks } = await import('../blocks/rados/rados-shard-blocks.js');
    const rados = new RadosShardBlocks(cluster.blocks, this.settings.blockBytes);
    await rados.open();
    const ledger = new ClusterBlockLedger(this.meta, rados, this.logError);
    this.wiring = { blocks: rados, ledger, local: null, rados };
  }

  private wired(): BlockWiring {
    assert(this.wiring !== null, 'the shard opened its blocks before serving');
    return this.wiring;
  }

  get blocks(): ShardBlocks {
    return this.wired().blocks;
  }

  get ledger(): ShardBlockLedger {
    return this.wired().ledger;
  }

  /** Cluster mode's RADOS blocks (the GC's), or null when embedded. */
  get rados(): RadosShardBlocks | null {
    return this.wired().rados;
  }

  /**
   * The block files and their maintenance; in cluster mode `what` is refused with a failure
   * that says why (there are no local block files to scrub, sweep, drain or move).
   */
  local(what: string): LocalBlocks {
    const local = this.wired().local;
    if (local === null) {
      throw engineFailure(
        'InvalidRequest',
        `${what} works on local block files; in cluster mode blocks are RADOS objects ` +
          '(Ceph scrubs them, the cluster block GC collects them)',
      );
    }
    return local;
  }

  /** A read found a block failing its check: embedded, it is checked like the scrub checks. */
  async checkAfterFailedRead(hash: string): Promise<unknown> {
    const local = this.wired().local;
    // Cluster mode: RADOS never returns bytes failing their SHA-256; Ceph's scrub repairs them.
    if (local === null) return 'skipped';
    return local.health.checkAfterFailedRead(hash);
  }

  async closeBlocks(): Promise<void> {
    const ledger = this.wiring?.ledger;
    if (ledger instanceof ClusterBlockLedger) ledger.close();
    await this.wiring?.rados?.close();
  }

  /** Runs an operation and replies Done or Failed; never throws. */
  answer(reqId: number, work: () => Promise<ShardResult>): void {
    work().then(
      (result) => this.reply({ kind: 'Done', reqId, result }),
      (error: unknown) => this.reply({ kind: 'Failed', reqId, failure: this.toFailure(error) }),
    );
  }

  /**
   * Answers a request from metadata reads alone: `work` runs as one read-only run of the store
   * (MetaStore.read), so a cluster store fetches everything it reads.
   */
  answerRead(reqId: number, work: () => ShardResult): void {
    this.answer(reqId, async () => this.meta.read(work));
  }

  toFailure(error: unknown): EngineFailure {
    if (error instanceof EngineFailureError) return error.failure;
    if (isCode(error, 'ENOSPC') || isCode(error, 'EDQUOT')) {
      return { code: 'StorageFull', message: 'no space left on the storage device' };
    }
    const unavailable = clusterUnavailability(error);
    if (unavailable !== null) {
      this.logError(error);
      return unavailable;
    }
    this.logError(error);
    return { code: 'Internal', message: error instanceof Error ? error.message : String(error) };
  }

  freeAll(hashes: readonly string[]): void {
    for (const hash of hashes) this.ledger.freeIfUnused(hash);
  }
}

/**
 * The shard's metadata store: its LMDB environment under the data directory (embedded), or its
 * partition's schema in the PostgreSQL cluster of ShardSettings.cluster, whose primary it
 * follows across failovers.
 */
async function openShardMeta(settings: ShardSettings): Promise<MetaStore> {
  const cluster = settings.cluster;
  if (cluster === undefined) {
    const dir = shardDir(settings.dataDir, settings.shardId);
    return MetaStore.open(join(dir, 'meta'), settings.durable, settings.kvStrict === true);
  }
  const env = await PgKvEnv.open(
    pgKvOptionsOf(cluster.metadata, {
      applicationName: `hangar ${cluster.gatewayName} shard ${settings.shardId}`,
    }),
  );
  return MetaStore.openRemote(env);
}

/**
 * A cluster store's failure that says nothing about the request: no PostgreSQL primary (a
 * failover outlasted the wait), a connection lost during COMMIT (the outcome is unknown: the
 * client retries, as S3 clients do on 503), or conflicts on every attempt (too many writers on
 * one row: SlowDown).
 */
function clusterUnavailability(error: unknown): EngineFailure | null {
  if (error instanceof NoPrimaryError) {
    return { code: 'ServiceUnavailable', message: 'the metadata store has no primary' };
  }
  if (!(error instanceof PgKvError)) return null;
  switch (error.failure) {
    case 'conflict':
      return { code: 'SlowDown', message: 'too many concurrent writes to the same keys' };
    case 'aborted':
    case 'unknown-outcome':
      return { code: 'ServiceUnavailable', message: 'the metadata store is unavailable' };
    default:
      return null;
  }
}

/** An object's info with the version id its write got (versioned buckets only). */
export function withVersion(info: ObjectInfo, versionId: string | undefined): ObjectInfo {
  return versionId === undefined ? info : { ...info, versionId };
}

/** A write's owner and ACL fields, present only when set (ObjectAclFields). */
export function aclFields(from: ObjectAclFields): ObjectAclFields {
  if (from.owner === undefined && from.acl === undefined) return {};
  return {
    ...(from.owner !== undefined ? { owner: from.owner } : {}),
    ...(from.acl !== undefined ? { acl: from.acl } : {}),
  };
}

/** A request's notification context with the event its commit is (absent: not notified). */
export function notifyOf(context: NotifyContext | undefined, event: EventName): Notify | undefined {
  return context === undefined ? undefined : { context, event };
}
