// Shared by the main thread (http/edge-threads.ts) and the edge threads (http/edge/thread.ts):
// what they tell each other over the edge thread's parentPort.
import type { MessagePort } from 'node:worker_threads';
import type { ClusterMetadataTarget } from '../../engine/cluster/shard-settings.js';
import type { HangarConfig } from '../../engine/config.js';
import type { LogSettings } from '../../engine/log.js';
import type { PgKvOptions } from '../../engine/meta/pg-kv/env.js';
import type { EdgeScrape } from '../admin/metrics.js';
import type { CertificateInfo } from '../uws/listen.js';

/** An edge thread's workerData. */
export interface EdgeData {
  readonly config: HangarConfig;
  /** The process's log settings (its logger is built as a shard thread's is). */
  readonly log: LogSettings;
  /** 0..edgeCount-1, kept by a restarted thread: the `edge` label of its metrics. */
  readonly index: number;
  readonly edgeCount: number;
  /** Its lane to every shard (engine/protocol/lanes.ts), and the ports of the lane, in shard order. */
  readonly lane: number;
  readonly shardPorts: readonly MessagePort[];
  /** The process-wide read-session counters (engine/pool/shard-client.ts ReadSessionBudget). */
  readonly readSessions: SharedArrayBuffer;
  /** The ports the main thread claimed (named: a port configured 0 is resolved already). */
  readonly s3Port: number;
  readonly webPort: number;
  /**
   * Cluster mode: the catalog's PostgreSQL (engine/catalog/cluster-catalog.ts
   * catalogPgOptionsOf). The thread then opens the process's catalog replica with a pool of its
   * own for writes (openCatalogReplica), after the main thread's openClusterCatalog synced it.
   * Absent: the embedded catalog.
   */
  readonly catalogPg?: PgKvOptions;
  /** Cluster mode: what the edge needs of the cluster; absent: embedded. */
  readonly cluster?: EdgeCluster;
}

/** What an edge thread of a gateway in cluster mode is given (http/cluster-boot.ts builds it). */
export interface EdgeCluster {
  /** This gateway's member name (PostgreSQL application_name). */
  readonly gatewayName: string;
  /** The write gate's slot (engine/cluster/write-gate.ts): S3 writes wait for it to be open. */
  readonly writeGate: SharedArrayBuffer;
  /** Each partition's PostgreSQL, in partition order: listings and object facts read there. */
  readonly metadata: readonly ClusterMetadataTarget[];
}

export type ToEdge =
  | { kind: 'ShardDown'; shardId: number }
  | { kind: 'ShardPort'; shardId: number; port: MessagePort }
  | { kind: 'ReloadTls'; id: number }
  | { kind: 'Scrape'; id: number }
  /**
   * Stop listening, let requests in flight finish (http/graceful-stop.ts: cut after
   * LIMITS.shutdownDrainMs, or at once with `cut`; a second Stop cuts too), say Drained, close the
   * open connections on CloseConnections, then end.
   */
  | { kind: 'Stop'; cut: boolean }
  /** Every edge thread has drained: close the connections still open (idle keep-alive ones). */
  | { kind: 'CloseConnections' };

export type FromEdge =
  | { kind: 'Ready' }
  | { kind: 'Failed'; message: string; stack: string | undefined }
  | {
      kind: 'Reloaded';
      id: number;
      certificate: CertificateInfo | null;
      error: string | null;
      portLost: boolean;
    }
  | { kind: 'Scraped'; id: number; scrape: EdgeScrape }
  /** The thread hit an uncaught error: it closed its listen sockets and ends (then restarted). */
  | { kind: 'Dying'; message: string; stack: string | undefined }
  /** After Stop: no request of this thread is in flight any more. */
  | { kind: 'Drained' }
  | { kind: 'Stopped' };
