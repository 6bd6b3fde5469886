// Runs on the main thread: starts, supervises and stops the edge threads (http/edge/thread.ts).
import { type MessagePort, Worker } from 'node:worker_threads';
import { assert } from '../engine/assert.js';
import type { HangarConfig } from '../engine/config.js';
import { LIMITS } from '../engine/limits.js';
import { currentLogSettings, type Logger } from '../engine/log.js';
import type { PgKvOptions } from '../engine/meta/pg-kv/env.js';
import { DeathWindow } from '../engine/pool/death-window.js';
import type { LaneHolder, ShardPool } from '../engine/pool/shard-pool.js';
import { LANES_MAX } from '../engine/protocol/lanes.js';
import type { EdgeScrape } from './admin/metrics.js';
import type { EdgeCluster, EdgeData, FromEdge, ToEdge } from './edge/protocol.js';
import { withTimeout } from './graceful-stop.js';
import { type CertificateInfo, PortLostError } from './uws/listen.js';

/** What the edge threads tell their owner about deaths (as ShardSupervisor for shards). */
export interface EdgeSupervisor {
  onDeath(index: number, reason: string): void;
  onRestarted(index: number): void;
  onGiveUp(index: number, reason: string): void;
}

export interface EdgeSettings {
  readonly config: HangarConfig;
  readonly count: number;
  readonly s3Port: number;
  readonly webPort: number;
  /** Cluster mode (http/cluster-boot.ts); absent: embedded. */
  readonly cluster?: EdgeCluster;
  /** Cluster mode: the catalog's PostgreSQL, for each thread's replica handle. */
  readonly catalogPg?: PgKvOptions;
}

/** One edge thread: its Worker and the answers it owes the main thread. */
class Edge {
  private nextId = 1;
  private readonly waiting = new Map<number, (message: FromEdge) => void>();
  readonly exited: Promise<void>;
  /** Resolves once the thread said Drained after a Stop (or ended). */
  readonly drained: Promise<void>;
  stopped = false;

  constructor(
    readonly index: number,
    readonly worker: Worker,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    let drained: () => void = () => undefined;
    this.drained = new Promise((resolve) => {
      drained = resolve;
    });
    void this.exited.then(drained);
    worker.on('message', (message: FromEdge) => {
      if (message.kind === 'Drained') drained();
      if (message.kind === 'Reloaded' || message.kind === 'Scraped') {
        this.waiting.get(message.id)?.(message);
        this.waiting.delete(message.id);
      }
    });
    // An edge that ends answers no more: its pending questions are answered with nothing.
    void this.exited.then(() => {
      for (const answer of this.waiting.values()) answer({ kind: 'Stopped' });
      this.waiting.clear();
    });
  }

  tell(message: ToEdge, transfer: MessagePort[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  /** Asks the thread something it answers with the same id. */
  ask(make: (id: number) => ToEdge): Promise<FromEdge> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.tell(make(id));
    });
  }
}

/**
 * The edge threads: N Workers, each serving the S3 and website ports (SO_REUSEPORT) with its own
 * lane to every shard. A plain Worker rather than piscina: an edge runs one endless program, not
 * tasks, and must be told things (TLS reloads, scrapes, stop) and answer; piscina's task queue
 * would only stand between.
 *
 * Supervision mirrors the shards': an edge thread that dies is logged and restarted (a fresh lane
 * to every shard; the kernel meanwhile spreads new connections among the others), and
 * LIMITS.shardDeathsMax deaths within LIMITS.shardDeathWindowMs end the process (exit 70).
 */
export class EdgeThreads {
  private readonly edges: Edge[] = [];
  private nextLane = 1;
  private readonly deaths = new DeathWindow();
  private stopping = false;

  private constructor(
    private readonly settings: EdgeSettings,
    private readonly pool: ShardPool,
    private readonly supervisor: EdgeSupervisor,
    private readonly logger: Logger,
  ) {}

  static async start(
    settings: EdgeSettings,
    pool: ShardPool,
    supervisor: EdgeSupervisor,
    logger: Logger,
  ): Promise<EdgeThreads> {
    const threads = new EdgeThreads(settings, pool, supervisor, logger);
    const started = Array.from({ length: settings.count }, (_, index) => threads.launch(index));
    const outcomes = await Promise.allSettled(started);
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed !== undefined) {
      await threads.halt();
      throw (failed as PromiseRejectedResult).reason;
    }
    return threads;
  }

  get s3Port(): number {
    return this.settings.s3Port;
  }

  get webPort(): number {
    return this.settings.webPort;
  }

  get count(): number {
    return this.edges.length;
  }

  /** Starts edge thread `index` (again, after a death); resolves once it listens. */
  private launch(index: number): Promise<void> {
    const lane = this.nextLane++;
    assert(lane < LANES_MAX, 'edge threads restarted fewer times than there are lanes');
    let edge: Edge | undefined;
    const holder: LaneHolder = {
      down: (shardId) => edge?.tell({ kind: 'ShardDown', shardId }),
      reattach: (shardId, port) => edge?.tell({ kind: 'ShardPort', shardId, port }, [port]),
    };
    const shardPorts = this.pool.openLane(lane, holder);
    const data: EdgeData = {
      config: this.settings.config,
      log: currentLogSettings(),
      index,
      edgeCount: this.settings.count,
      lane,
      shardPorts,
      readSessions: this.pool.readBudget.shared,
      s3Port: this.settings.s3Port,
      webPort: this.settings.webPort,
      ...(this.settings.cluster === undefined ? {} : { cluster: this.settings.cluster }),
      ...(this.settings.catalogPg === undefined ? {} : { catalogPg: this.settings.catalogPg }),
    };
    const worker = new Worker(new URL('./edge/thread.js', import.meta.url), {
      workerData: data,
      transferList: [...shardPorts],
      resourceLimits: { maxYoungGenerationSizeMb: LIMITS.threadYoungGenerationMb },
    });
    edge = new Edge(index, worker);
    this.edges[index] = edge;
    const started = edge;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromEdge) => {
        if (message.kind === 'Ready') {
          ready = true;
          resolve();
        } else if (message.kind === 'Failed') {
          reject(new Error(message.message));
        } else if (message.kind === 'Dying') {
          this.onDeath(started, message.message);
        }
      });
      worker.on('error', (error) => {
        if (!ready) reject(error);
        else this.onDeath(started, error.message);
      });
      void started.exited.then(() => {
        this.pool.closeLane(lane);
        if (!ready) reject(new Error(`edge thread ${index} ended while starting`));
        else if (!started.stopped && !this.stopping) this.onDeath(started, 'it ended');
      });
    });
  }

  /** An edge thread died (once per thread): count it, restart it or give up. */
  private onDeath(edge: Edge, reason: string): void {
    if (edge.stopped || this.stopping) return;
    edge.stopped = true;
    if (this.deaths.recordIsCrashLoop()) {
      void this.halt().then(() => this.supervisor.onGiveUp(edge.index, reason));
      return;
    }
    this.supervisor.onDeath(edge.index, reason);
    void this.restart(edge);
  }

  private async restart(dead: Edge): Promise<void> {
    await dead.exited;
    await new Promise((resolve) => setTimeout(resolve, LIMITS.shardRestartDelayMs));
    if (this.stopping) return;
    try {
      await this.launch(dead.index);
    } catch (error) {
      this.logger.error({ err: error, edge: dead.index }, 'edge thread failed to restart');
      return;
    }
    this.supervisor.onRestarted(dead.index);
  }

  /** Every edge thread serves the certificate files anew; the first failure is thrown. */
  async reloadTls(): Promise<CertificateInfo | null> {
    const answers = await Promise.all(
      this.edges.map((edge) => edge.ask((id) => ({ kind: 'ReloadTls', id }))),
    );
    let served: CertificateInfo | null = null;
    for (const answer of answers) {
      if (answer.kind !== 'Reloaded') continue; // ended meanwhile
      if (answer.portLost) throw new PortLostError(answer.error ?? 'port lost');
      if (answer.error !== null) throw new Error(answer.error);
      served = answer.certificate;
    }
    return served;
  }

  /** Every serving edge thread's request metrics and shard load; a thread that does not answer
   *  within LIMITS.metricsStatsTimeoutMs is left out of this scrape. */
  async scrape(): Promise<EdgeScrape[]> {
    const answers = await Promise.all(
      this.edges
        .filter((edge) => !edge.stopped)
        .map((edge) =>
          withTimeout(
            edge.ask((id) => ({ kind: 'Scrape', id })),
            LIMITS.metricsStatsTimeoutMs,
          ),
        ),
    );
    return answers.flatMap((a) => (a !== null && a.kind === 'Scraped' ? [a.scrape] : []));
  }

  /**
   * Each edge thread stops listening and lets its requests in flight finish (http/graceful-stop.ts,
   * within LIMITS.shutdownDrainMs; `cut`: at once); once all have drained, they close their open
   * connections and end by themselves. Resolves when every one has ended.
   */
  async stop(cut = false): Promise<void> {
    this.stopping = true;
    for (const edge of this.edges) {
      edge.stopped = true;
      edge.tell({ kind: 'Stop', cut });
    }
    await Promise.all(this.edges.map((edge) => edge.drained));
    for (const edge of this.edges) edge.tell({ kind: 'CloseConnections' });
    await Promise.all(this.edges.map((edge) => edge.exited));
  }

  /** Ends every edge thread now (requests in flight cut): what must happen before the process
   *  exits without a clean stop, since a thread ended by force with uWS sockets open aborts it. */
  halt(): Promise<void> {
    return this.stop(true);
  }
}
