// Shared by the main thread (http/edge-threads.ts) and the edge threads (http/edge/thread.ts):
// what they tell each other over the edge thread's parentPort.
import type { MessagePort } from 'node:worker_threads';
import type { HangarConfig } from '../../engine/config.js';
import type { EdgeScrape } from '../admin/metrics.js';
import type { CertificateInfo } from '../uws/listen.js';

/** An edge thread's workerData. */
export interface EdgeData {
  readonly config: HangarConfig;
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
}

export type ToEdge =
  | { kind: 'ShardDown'; shardId: number }
  | { kind: 'ShardPort'; shardId: number; port: MessagePort }
  | { kind: 'ReloadTls'; id: number }
  | { kind: 'Scrape'; id: number }
  /** Stop listening, let requests in flight finish (cut them after `drainMs`), then end. */
  | { kind: 'Stop'; drainMs: number };

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
  | { kind: 'Stopped' }
  /** JSON log lines, batched per event-loop turn, for the main thread's log stream. */
  | { kind: 'Log'; lines: string };
