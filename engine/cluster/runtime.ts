import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import { assert } from '../assert.js';
import { LIMITS } from '../limits.js';
import type { Logger } from '../log.js';
import type { ClusterConfig } from './config.js';
import { Elections, SINGLETON_JOBS, type SingletonJob } from './election.js';
import { type ClusterLayout, ClusterStateError, LayoutStore } from './layout.js';
import { defaultMemberName, Membership } from './membership.js';
import type { ClusterMetadataTarget, ClusterShardSettings } from './shard-settings.js';
import { WriteGate } from './write-gate.js';

/**
 * A gateway's part in a cluster (issue 19), on the main thread: the etcd client, the layout,
 * this gateway's membership (the split-brain guard), the elections of the singleton jobs, and
 * what each partition's shard is told (ClusterShardSettings).
 *
 * Boot is in two steps. `open` (before the shards start) connects, reads the layout and agrees
 * on the partition count, refusing to boot on an uninitialised cluster or a mismatch; `join`
 * (once the S3 port is known) registers the member and campaigns for every singleton job.
 *
 * Partition i of every gateway maps to the layout's metadata shard i mod K (K PostgreSQL
 * clusters), schema `<cluster>_<i>` there, and RADOS namespace `<clusterId>/<i>`: keys hash over
 * partitions as they always have and listings merge partitions, so bucket placement (layout's
 * buckets/) is not used for routing (DECISIONS.md).
 */
export interface ClusterRuntimeOptions {
  /** The partition count this gateway runs (its data directory's shard count). */
  readonly partitions: number;
  readonly logger: Logger;
  /** The membership lease's TTL (tests shorten it); default LIMITS.clusterLeaseTtlS. */
  readonly leaseTtlS?: number;
}

/** A piece of singleton work told when this gateway starts or stops leading its job. */
export type LeadershipListener = (leading: boolean) => void;

export class ClusterRuntime {
  readonly writeGate = new WriteGate();
  readonly gatewayName: string;
  private membership: Membership | null = null;
  private elections: Elections | null = null;
  private readonly listeners = new Map<SingletonJob, LeadershipListener[]>();
  private publisher: NodeJS.Timeout | null = null;
  private gcTimer: NodeJS.Timeout | null = null;
  private blockGc: (() => Promise<void>) | null = null;
  private gcRunning = false;
  private stopped = false;

  private constructor(
    private readonly client: Etcd3,
    readonly config: ClusterConfig,
    readonly layout: ClusterLayout,
    readonly partitions: number,
    private readonly password: string | null,
    private readonly options: ClusterRuntimeOptions,
  ) {
    this.gatewayName = config.gatewayName ?? defaultMemberName();
  }

  /**
   * Connects to etcd, reads the layout and settles the partition count. Throws
   * ClusterStateError (uninitialised cluster, partition mismatch, unreadable password file) or
   * etcd's error; the client is closed then.
   */
  static async open(
    config: ClusterConfig,
    options: ClusterRuntimeOptions,
  ): Promise<ClusterRuntime> {
    return ClusterRuntime.connect(config, async (store) => {
      const partitions = await store.claimPartitions(options.partitions);
      if (partitions !== options.partitions) {
        throw new ClusterStateError(
          `cluster '${config.name}' runs ${partitions} partitions but this gateway would run ` +
            `${options.partitions}: every gateway must run the same count (set shards = ` +
            `${partitions} on a new data directory)`,
        );
      }
      return options;
    });
  }

  /**
   * Reads the layout and the partition count, claiming nothing (tools that inspect a cluster,
   * such as fsck, must not set its partition count): a cluster no gateway booted yet has 0
   * partitions. Never `join` the result; `stop` closes its client.
   */
  static async observe(config: ClusterConfig, logger: Logger): Promise<ClusterRuntime> {
    return ClusterRuntime.connect(config, async (store) => ({
      partitions: (await store.readPartitions()) ?? 0,
      logger,
    }));
  }

  /**
   * What `open` and `observe` share: the password file, an etcd client, the layout; `settle`
   * reads (or claims) the partition count and gives the runtime's options. The client is closed
   * when anything throws.
   */
  private static async connect(
    config: ClusterConfig,
    settle: (store: LayoutStore) => Promise<ClusterRuntimeOptions>,
  ): Promise<ClusterRuntime> {
    const password = config.pgPasswordFile === null ? null : readPassword(config.pgPasswordFile);
    const { connectEtcd } = await import('./etcd.js');
    const client = connectEtcd(config.etcdEndpoints);
    try {
      const store = new LayoutStore(client, config.name);
      const layout = await store.require();
      const options = await settle(store);
      return new ClusterRuntime(client, config, layout, options.partitions, password, options);
    } catch (error) {
      client.close();
      throw error;
    }
  }

  /** `open`, then `join`: for a gateway whose S3 endpoint is known up front (tests, tools). */
  static async start(
    config: ClusterConfig,
    options: ClusterRuntimeOptions & { readonly s3Endpoint: string },
  ): Promise<ClusterRuntime> {
    const runtime = await ClusterRuntime.open(config, options);
    try {
      await runtime.join(options.s3Endpoint);
    } catch (error) {
      await runtime.stop();
      throw error;
    }
    return runtime;
  }

  /**
   * Registers this gateway (advertising `s3Endpoint` unless config names one), starts
   * publishing the write gate and campaigns for every singleton job.
   */
  async join(s3Endpoint: string): Promise<void> {
    assert(this.membership === null, 'a runtime joins once');
    const membership = new Membership(
      this.client,
      this.config.name,
      { name: this.gatewayName, s3Endpoint: this.config.s3Endpoint ?? s3Endpoint },
      this.options.leaseTtlS === undefined ? {} : { ttlS: this.options.leaseTtlS },
    );
    this.membership = membership;
    const publish = (): void => this.writeGate.publish(membership.writableUntilMs());
    membership.on('writable', (writable) => {
      publish();
      this.options.logger.warn(
        { gateway: this.gatewayName, writable },
        writable
          ? 'cluster: etcd lease alive, writes accepted'
          : 'cluster: etcd lease not proven alive, writes refused (503) until it is',
      );
    });
    membership.on('leaseLost', (reason) =>
      this.options.logger.warn({ gateway: this.gatewayName, reason }, 'cluster: etcd lease lost'),
    );
    await membership.start();
    publish();
    this.publisher = setInterval(publish, LIMITS.clusterWriteGatePublishMs);
    this.publisher.unref();
    const elections = new Elections(this.client, this.config.name, membership);
    this.elections = elections;
    elections.on('leadership', (name, leading) => {
      this.options.logger.info(
        { gateway: this.gatewayName, job: name, leading },
        'cluster: leadership',
      );
      for (const listener of this.listeners.get(name as SingletonJob) ?? []) listener(leading);
    });
    await Promise.all(SINGLETON_JOBS.map((job) => elections.campaign(job)));
    this.gcTimer = setInterval(() => void this.runBlockGc(), LIMITS.clusterOrphanGcIntervalMs);
    this.gcTimer.unref();
  }

  /** The split-brain guard: false while this gateway cannot prove its etcd lease alive. */
  canWrite(): boolean {
    return this.membership?.canWrite() === true;
  }

  /** Whether this gateway leads `job` now (and may write). */
  isLeader(job: SingletonJob): boolean {
    return this.elections?.isLeader(job) === true;
  }

  /** Calls `listener` whenever this gateway starts or stops leading `job`. */
  onLeadership(job: SingletonJob, listener: LeadershipListener): void {
    const list = this.listeners.get(job) ?? [];
    list.push(listener);
    this.listeners.set(job, list);
  }

  /**
   * The block GC (cluster-design.md §4.4) the 'orphan-gc' leader runs every
   * LIMITS.clusterOrphanGcIntervalMs (null: none). A slot, not a dependency: the block layer
   * fills it, this runtime only decides where and when it runs.
   */
  setBlockGc(run: (() => Promise<void>) | null): void {
    this.blockGc = run;
  }

  /** One GC pass if this gateway leads 'orphan-gc' and none is running; whether it ran. */
  async runBlockGc(): Promise<boolean> {
    const run = this.blockGc;
    if (run === null || this.gcRunning || !this.isLeader('orphan-gc')) return false;
    this.gcRunning = true;
    try {
      await run();
    } catch (error) {
      this.options.logger.error({ err: error }, 'cluster: block GC pass failed');
    } finally {
      this.gcRunning = false;
    }
    return true;
  }

  /** The etcd client this gateway's runtime holds (the catalog watches its version there). */
  get etcd(): Etcd3 {
    return this.client;
  }

  /** What shard `partition` of this gateway is told: its PostgreSQL schema and RADOS namespace. */
  shardSettings(partition: number): ClusterShardSettings {
    return {
      clusterId: this.layout.clusterId,
      gatewayName: this.gatewayName,
      metadata: this.metadataOf(partition),
      blocks: {
        cephConf: this.layout.blockPool.cephConf,
        pool: this.layout.blockPool.pool,
        namespace: `${this.layout.clusterId}/${partition}`,
      },
    };
  }

  /** Every partition's settings, in partition order. */
  allShardSettings(): ClusterShardSettings[] {
    return Array.from({ length: this.partitions }, (_, i) => this.shardSettings(i));
  }

  metadataOf(partition: number): ClusterMetadataTarget {
    assert(
      Number.isSafeInteger(partition) && partition >= 0 && partition < this.partitions,
      'a partition of this cluster',
    );
    const shards = this.layout.metadataShards;
    const shard = shards[partition % shards.length];
    assert(shard !== undefined, 'a layout has at least one metadata shard');
    return {
      database: shard.database,
      targets: shard.targets,
      user: this.config.pgUser,
      password: this.password,
      shard: partitionSchemaName(this.config.name, partition),
    };
  }

  /** Leaves: resigns every leadership and revokes the lease (its keys vanish at once). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.publisher !== null) clearInterval(this.publisher);
    if (this.gcTimer !== null) clearInterval(this.gcTimer);
    this.writeGate.publish(0);
    try {
      await this.elections?.close();
      await this.membership?.stop();
    } catch (error) {
      // etcd unreachable: the lease expires there on its own within its TTL.
      this.options.logger.warn({ err: error }, 'cluster: leaving etcd failed');
    } finally {
      this.client.close();
    }
  }
}

/**
 * Partition i's PostgreSQL schema suffix (PgKvOptions.shard, [a-z0-9_]{1,48}): `<cluster>_<i>`
 * when the cluster name fits that alphabet and length, else a digest of the name (a '-' must not
 * map onto '_': clusters 'a-b' and 'a_b' sharing one PostgreSQL would share schemas).
 */
export function partitionSchemaName(clusterName: string, partition: number): string {
  if (/^[a-z0-9_]{1,40}$/.test(clusterName)) return `${clusterName}_${partition}`;
  const digest = createHash('sha256').update(clusterName).digest('hex').slice(0, 24);
  return `c${digest}_${partition}`;
}

/** The first line of the password file, read with a bound. */
function readPassword(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new ClusterStateError(`cluster.pg_password_file ${path}: ${(error as Error).message}`);
  }
  const buffer = Buffer.alloc(LIMITS.clusterPasswordFileBytesMax + 1);
  let length: number;
  try {
    length = readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  if (length > LIMITS.clusterPasswordFileBytesMax) {
    throw new ClusterStateError(
      `cluster.pg_password_file ${path}: more than ${LIMITS.clusterPasswordFileBytesMax} bytes`,
    );
  }
  const line = buffer.subarray(0, length).toString('utf8').split('\n')[0]?.replace(/\r$/, '') ?? '';
  if (line === '') throw new ClusterStateError(`cluster.pg_password_file ${path}: empty`);
  return line;
}
