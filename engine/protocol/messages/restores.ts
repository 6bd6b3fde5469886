/** RestoreObject and the restore worker. Part of the one protocol (../messages.ts). */

import type { NotifyContext } from './events.js';
import type { RestoreTier } from './objects.js';

/** A restore's next step, as the shard's `restores` table queues it. */
export interface RestoreRow {
  /** When the step is due (server clock, test offset applied). */
  dueMs: number;
  bucketId: string;
  key: string;
  /** The version as S3 shows it ('null' for the null version and unversioned objects). */
  versionId: string;
  /** 'complete': the restore is done (readable); 'expire': its restored days are over. */
  step: 'complete' | 'expire';
  /** The restore the row belongs to (RestoreState.requestedMs): a later one is not its. */
  requestedMs: number;
}

/** The restore family of ShardRequest. */
export type RestoreRequest =
  | {
      /**
       * RestoreObject: starts a restore of an archived version (the record says so at once) or
       * extends a done one's expiry (Days counted from now). The shard judges, in one
       * transaction: not archived (InvalidObjectState), in progress (RestoreAlreadyInProgress).
       */
      kind: 'RestoreObject';
      reqId: number;
      bucketId: string;
      key: string;
      versionId?: string;
      days: number;
      tier: RestoreTier;
      /** The server's clock now, and when a restore begun now completes (its tier's delay). */
      nowMs: number;
      readyAtMs: number;
      notify?: NotifyContext;
    }
  /** The restore steps due at `nowMs`, oldest first, at most `limit` (the restore worker). */
  | { kind: 'DueRestores'; reqId: number; nowMs: number; limit: number }
  /**
   * Takes due steps: completes restores (ObjectRestore:Completed) and expires them
   * (ObjectRestore:Delete), each in the transaction that removes its row; `notify` by bucket id.
   */
  | {
      kind: 'SettleRestores';
      reqId: number;
      nowMs: number;
      rows: RestoreRow[];
      notify: Record<string, NotifyContext>;
    };

/** The restore family of ShardResult. */
export type RestoreResult =
  /** `started`: a new restore (202); false: a done restore's expiry was extended (200). */
  | { kind: 'Restore'; started: boolean; versionId?: string }
  | { kind: 'RestoresDue'; rows: RestoreRow[] }
  | { kind: 'RestoresSettled'; completed: number; expired: number };
