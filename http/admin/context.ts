import type { WorkerRegistry } from '../../engine/workers/registry.js';
import type { ServerState } from '../s3/context.js';
import type { S3Listener } from './console.js';

/** What lives as long as the admin endpoint. */
export interface AdminState {
  readonly server: ServerState;
  /** When the server started (Date.now()). */
  readonly startedMs: number;
  readonly shardCount: number;
  /** The background workers (scrub, orphan cleanup, lifecycle) and their variables. */
  readonly workers: WorkerRegistry;
  /**
   * The token generated into `<dataDir>/admin.token` when none is configured (null when one is):
   * accepted only from a loopback peer.
   */
  readonly localToken: string | null;
  /** Where the S3 port listens: the web console's browser talks to it directly. */
  readonly s3Listener: S3Listener;
  /** Wakes the replication worker (a remote was added). */
  readonly replicationAdded?: () => void;
  /**
   * A cluster gateway's split-brain guard (engine/cluster/write-gate.ts): while it is shut, the
   * admin API refuses what changes state, as the S3 edge does (server.ts refuseWhileFenced).
   */
  readonly writeGate?: { open(): boolean };
}

/** One admin request, read whole before its handler runs. */
export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body; undefined when the request had none. */
  readonly body: unknown;
}

/** A handler's answer: JSON (the default), or raw text (the OpenAPI document, metrics). */
export type AdminReply =
  | { readonly status?: number; readonly json: unknown }
  | { readonly status?: number; readonly contentType: string; readonly text: string };

export type AdminHandler = (
  state: AdminState,
  req: AdminRequest,
) => AdminReply | Promise<AdminReply>;

/** Which token a route requires: the admin token, the metrics token (or the admin one), none. */
export type AdminAuth = 'admin' | 'metrics' | 'none';
