import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { assert } from '../assert.js';
import type { BlockCompression } from '../blocks/block-names.js';
import type { ClusterShardSettings } from '../cluster/shard-settings.js';
import { LIMITS } from '../limits.js';
import { currentLogSettings } from '../log.js';
import type { ShardResult } from '../protocol/messages.js';
import type { AttachTask, LaneGrant } from '../shard/actor.js';
import type { ShardSettings } from '../shard/shard.js';
import type { StorageConfig } from '../storage-config.js';
import { DeathWindow } from './death-window.js';
import { ReadSessionBudget, ShardClient } from './shard-client.js';
import { ShardClients } from './shard-clients.js';

export interface ShardPoolOptions {
  dataDir: string;
  shardCount: number;
  blockBytes: number;
  inlineBytesMax: number;
  /** The default tier's block compression (config block_compression; absent: none). */
  blockCompression?: BlockCompression;
  durable: boolean;
  /** config.sse.masterKeyFile (absent or null: the data directory's). */
  sseMasterKeyFile?: string | null;
  /** config.storage: data directories and tiers. */
  storage: StorageConfig;
  /** config.kvStrict (testing): metadata reads checked for the cluster store's discipline. */
  kvStrict?: boolean;
  /** Cluster mode: each partition's settings, in shard order (ShardSettings.cluster). */
  clusterShards?: readonly ClusterShardSettings[];
}

/** What the pool tells its owner about shard threads that die. */
export interface ShardSupervisor {
  /** A shard's thread died; its pending requests failed and a successor is starting. */
  onDeath(shardId: number, error: unknown): void;
  /** The successor serves. */
  onRestarted(shardId: number): void;
  /** LIMITS.shardDeathsMax deaths within LIMITS.shardDeathWindowMs: restarting in place is not
   *  helping, the owner should end the process (non-zero) for its service manager to restart. */
  onGiveUp(shardId: number, error: unknown): void;
}

/** The holder of a lane to every shard (an edge thread): told when a shard's end of it is gone
 *  and when the shard's successor gives it a new one. */
export interface LaneHolder {
  down(shardId: number): void;
  reattach(shardId: number, port: MessagePort): void;
}

/** The test-only hook (HANGAR_TEST_HOOKS=1): this signal terminates shard 0's thread. */
export const TEST_KILL_SHARD_SIGNAL = 'SIGWINCH';

/**
 * Hosts the shard actors: one single-thread piscina pool per shard, so each actor has its own
 * thread and mailbox (piscina has no task→worker affinity). Each pool runs exactly one long-lived
 * `attach` task, which receives the shard's MessagePort and resolves only at shutdown. Atomics
 * are disabled: piscina's default would park the thread between tasks, and an actor must keep
 * serving its port.
 *
 * Supervision: a thread that dies rejects its `attach` task. Its client fails every pending
 * request at once (a restarting shard answers ServiceUnavailable), piscina replaces the thread,
 * and a new `attach` task on a new channel reopens the shard's LMDB partition and block directory
 * (its start-up sweep removes what the dead thread left half-written). The client object stays
 * the same, so everyone holding it (metrics, workers) follows the restart.
 */
export class ShardPool extends ShardClients {
  private readonly attached: Array<Promise<void>> = [];
  /** Each actor's control port (see AttachTask), replaced when the actor is. */
  private readonly controls: MessagePort[] = [];
  private readonly lanes = new Map<number, LaneHolder>();
  private readonly deaths = new DeathWindow();
  private serving = false;
  private stopping = false;
  private readonly killHook = (): void => this.killForTest(0);

  private constructor(
    clients: readonly ShardClient[],
    private readonly pools: readonly Piscina[],
    private readonly options: ShardPoolOptions,
    private readonly supervisor: ShardSupervisor,
    /** The read-session counters every thread's clients share (see ReadSessionBudget). */
    readonly readBudget: ReadSessionBudget,
  ) {
    super(clients);
  }

  static async start(options: ShardPoolOptions, supervisor: ShardSupervisor): Promise<ShardPool> {
    const budget = new ReadSessionBudget(options.shardCount);
    const clients: ShardClient[] = [];
    const pools: Piscina[] = [];
    const ports: MessagePort[] = [];
    for (let shardId = 0; shardId < options.shardCount; shardId++) {
      const { port1, port2 } = new MessageChannel();
      clients.push(new ShardClient(shardId, port1, budget));
      pools.push(newActorThread());
      ports.push(port2);
    }
    const pool = new ShardPool(clients, pools, options, supervisor, budget);
    const ready = clients.map((client) => client.awaitReady());
    for (const [shardId, port] of ports.entries()) pool.runActor(shardId, port);
    let threads: ShardResult[];
    try {
      threads = await Promise.all(ready);
    } catch (error) {
      await pool.stop();
      throw error;
    }
    const threadIds = new Set(threads.map((r) => (r.kind === 'Ready' ? r.threadId : -1)));
    assert(threadIds.size === options.shardCount, 'every shard actor runs on its own thread');
    pool.serving = true;
    if (process.env['HANGAR_TEST_HOOKS'] === '1') process.on(TEST_KILL_SHARD_SIGNAL, pool.killHook);
    return pool;
  }

  /** Runs shard `shardId`'s actor on its thread, serving `port`; its death is supervised. */
  private runActor(shardId: number, port: MessagePort): void {
    const { clusterShards, ...options } = this.options;
    const cluster = clusterShards?.[shardId];
    assert(clusterShards === undefined || cluster !== undefined, 'settings for every partition');
    const settings: ShardSettings = {
      ...options,
      shardId,
      log: currentLogSettings(),
      ...(cluster === undefined ? {} : { cluster }),
    };
    const { port1: control, port2: actorControl } = new MessageChannel();
    this.controls[shardId] = control;
    const attach: AttachTask = { settings, port, control: actorControl };
    const task = this.poolOf(shardId).run(attach, { transferList: [port, actorControl] });
    this.attached[shardId] = task.then(
      () => undefined,
      (error: unknown) => this.onActorDeath(shardId, error),
    );
  }

  private onActorDeath(shardId: number, error: unknown): void {
    if (this.stopping) return;
    this.client(shardId).markDown();
    for (const holder of this.lanes.values()) holder.down(shardId);
    if (!this.serving) return; // a death while starting fails the start (its ready rejected)
    if (this.deaths.recordIsCrashLoop()) {
      this.supervisor.onGiveUp(shardId, error);
      return;
    }
    this.supervisor.onDeath(shardId, error);
    void this.restart(shardId);
  }

  private async restart(shardId: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, LIMITS.shardRestartDelayMs));
    if (this.stopping) return;
    const { port1, port2 } = new MessageChannel();
    const ready = this.client(shardId).reattach(port1);
    this.runActor(shardId, port2);
    for (const [lane, holder] of this.lanes)
      holder.reattach(shardId, this.grantLane(shardId, lane));
    try {
      await ready;
    } catch {
      return; // the successor died too: onActorDeath has counted and handled it
    }
    if (!this.stopping) this.supervisor.onRestarted(shardId);
  }

  /**
   * A new lane to every shard, for an edge thread: the ports of its ends, in shard order. The
   * holder is told when a shard restarts (its lane port then is a new one) until `closeLane`.
   */
  openLane(lane: number, holder: LaneHolder): MessagePort[] {
    this.lanes.set(lane, holder);
    return this.clients.map((client) => this.grantLane(client.shardId, lane));
  }

  /** The lane's holder is gone (its ports closed, which ends the lane in each actor). */
  closeLane(lane: number): void {
    this.lanes.delete(lane);
  }

  private grantLane(shardId: number, lane: number): MessagePort {
    const { port1, port2 } = new MessageChannel();
    const control = this.controls[shardId];
    assert(control !== undefined, `shard ${shardId} has a control port`);
    control.postMessage({ lane, port: port2 } satisfies LaneGrant, [port2]);
    return port1;
  }

  /** Test hook: ends a shard's thread as a crash would. */
  private killForTest(shardId: number): void {
    for (const thread of this.poolOf(shardId).threads) void thread.terminate();
  }

  private poolOf(shardId: number): Piscina {
    const pool = this.pools[shardId];
    assert(pool !== undefined, `shard ${shardId} exists`);
    return pool;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    process.off(TEST_KILL_SHARD_SIGNAL, this.killHook);
    for (const client of this.clients) client.close();
    for (const control of this.controls) control.close();
    await Promise.all(this.attached);
    await Promise.all(this.pools.map((pool) => pool.destroy()));
  }
}

/** A piscina pool of one thread that runs one task for its whole life (see ShardPool). */
function newActorThread(): Piscina {
  return new Piscina({
    filename: new URL('../shard/actor.js', import.meta.url).href,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
    concurrentTasksPerWorker: 1,
    atomics: 'disabled',
    resourceLimits: { maxYoungGenerationSizeMb: LIMITS.threadYoungGenerationMb },
  });
}
