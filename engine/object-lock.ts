import type { LockChange, LockCheck, ObjectLock } from './protocol/messages.js';

/**
 * S3 Object Lock's rules over one version's lock, as pure functions: the shards evaluate them
 * inside the write transaction that would remove or change the version, so no request racing
 * a lock change can slip between the check and the write.
 */

/** Whether the version's retention still runs at `nowMs` (a date in the past protects nothing). */
export function retentionActive(lock: ObjectLock | undefined, nowMs: number): boolean {
  return lock?.mode !== undefined && lock.retainUntilMs !== undefined && lock.retainUntilMs > nowMs;
}

/** Whether nothing at all may remove the version now: a legal hold or a running retention. */
export function lockHolds(lock: ObjectLock | undefined, nowMs: number): boolean {
  return lock?.legalHold === true || retentionActive(lock, nowMs);
}

/**
 * Whether removing the version for good is refused: a legal hold always; a running retention
 * in COMPLIANCE always; in GOVERNANCE unless the request may bypass it. Root included: hangar's
 * root key gets the bypass (it holds every grant) but never past COMPLIANCE or a legal hold.
 */
export function removalRefused(lock: ObjectLock | undefined, check: LockCheck): boolean {
  if (lock?.legalHold === true) return true;
  if (!retentionActive(lock, check.nowMs)) return false;
  return lock?.mode === 'COMPLIANCE' || !check.bypassGovernance;
}

/**
 * Whether a retention change is refused. A running COMPLIANCE retention can only be extended
 * (same mode, a date no earlier); a running GOVERNANCE one can be extended in GOVERNANCE, and
 * anything else (shortened, removed, turned into COMPLIANCE) needs the bypass, as AWS answers
 * (Ceph RGW and MinIO check the same). A retention that has passed can be replaced freely.
 */
export function retentionChangeRefused(
  lock: ObjectLock | undefined,
  mode: ObjectLock['mode'] | null,
  retainUntilMs: number | null,
  check: LockCheck,
): boolean {
  if (!retentionActive(lock, check.nowMs)) return false;
  const current = lock?.retainUntilMs ?? 0;
  const extends_ = mode === lock?.mode && retainUntilMs !== null && retainUntilMs >= current;
  if (extends_) return false;
  return lock?.mode === 'COMPLIANCE' || !check.bypassGovernance;
}

/** The version's lock after a change (undefined when nothing is left of it). */
export function changedLock(
  lock: ObjectLock | undefined,
  change: LockChange,
): ObjectLock | undefined {
  const next: ObjectLock = { ...lock };
  if (change.kind === 'legalHold') next.legalHold = change.on;
  else if (change.mode === null || change.retainUntilMs === null) {
    delete next.mode;
    delete next.retainUntilMs;
  } else {
    next.mode = change.mode;
    next.retainUntilMs = change.retainUntilMs;
  }
  return Object.keys(next).length === 0 ? undefined : next;
}
