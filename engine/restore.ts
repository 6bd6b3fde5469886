import { assert } from './assert.js';
import type { RestoreState } from './protocol/messages.js';
import { isArchiveClass } from './storage-classes.js';

/** What of a version decides whether its bytes may be read (ObjectRecord, ObjectInfo). */
interface Archived {
  storageClass?: string;
  restore?: RestoreState;
  /** Intelligent tiering's archive access tier (absent: read directly). */
  accessTier?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whether a version's restore is done and not yet expired at `nowMs`. */
export function isRestored(restore: RestoreState | undefined, nowMs: number): boolean {
  return restore !== undefined && restore.expiryMs !== null && restore.expiryMs > nowMs;
}

/** Whether a version's bytes may not be read at `nowMs`: archived and not restored (AWS 403). */
export function isUnreadableArchive(version: Archived, nowMs: number): boolean {
  // An INTELLIGENT_TIERING version in an archive access tier is unreadable until a restore
  // brings it back to the frequent tier (which clears accessTier: no temporary copy).
  if (version.accessTier !== undefined) return true;
  return (
    version.storageClass !== undefined &&
    isArchiveClass(version.storageClass) &&
    !isRestored(version.restore, nowMs)
  );
}

/**
 * When a restore completed at `completedMs` for `days` days expires: the completion plus the
 * days, rounded up to the next midnight UTC, as AWS computes a restore's expiry-date.
 */
export function restoreExpiryMs(completedMs: number, days: number): number {
  assert(Number.isInteger(days) && days >= 1, 'a restore lasts whole days');
  const plus = completedMs + days * DAY_MS;
  return Math.floor(plus / DAY_MS) * DAY_MS + DAY_MS;
}

/**
 * x-amz-restore as HEAD and GET show it (absent: no restore, or an expired one):
 * `ongoing-request="true"` while in progress, then its expiry-date.
 */
export function restoreHeaderValue(
  restore: RestoreState | undefined,
  nowMs: number,
): string | undefined {
  if (restore === undefined) return undefined;
  if (restore.expiryMs === null) return 'ongoing-request="true"';
  if (restore.expiryMs <= nowMs) return undefined;
  return `ongoing-request="false", expiry-date="${new Date(restore.expiryMs).toUTCString()}"`;
}
