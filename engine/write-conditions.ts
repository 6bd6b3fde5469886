/**
 * Conditional writes (If-Match / If-None-Match on PutObject, CopyObject, CompleteMultipartUpload,
 * If-Match on DeleteObject), as the owning shard evaluates them. A guard runs inside the LMDB
 * write transaction that replaces or removes the key's record, on the record it replaces: no
 * other write of the key can come between the check and the commit. Where the answer is 412
 * and where it is 409 is decided here (DECISIONS.md, "Conditional writes").
 */
import { etagMatches } from './preconditions.js';
import type { EngineFailure, WriteConditions } from './protocol/messages.js';

/** What a condition is evaluated against: the key's current object, or undefined if none. */
export type CurrentObject = { etag: string; lastModifiedMs: number } | undefined;

/** Inside a commit: why the write must not happen to `current`, or null when it may. */
export type WriteGuard = (current: CurrentObject) => EngineFailure | null;

/**
 * Why `conditions` do not hold of `current`, or null when they hold: If-None-Match fails on any
 * object, If-Match on another ETag (412) or on no object at all (404 NoSuchKey, as S3).
 */
export function conditionFailure(
  conditions: WriteConditions,
  current: CurrentObject,
): EngineFailure | null {
  if (conditions.ifNoneMatch !== undefined && current !== undefined)
    return preconditionFailed('If-None-Match');
  if (conditions.ifMatch !== undefined) {
    if (current === undefined)
      return { code: 'NoSuchKey', message: 'The specified key does not exist.' };
    if (!etagMatches(conditions.ifMatch, current.etag)) return preconditionFailed('If-Match');
  }
  return null;
}

/**
 * PutObject: the shard checked the conditions at PutBegin (a 412 or 404 then, before a byte is
 * stored), so a failure at commit means a write or delete of the key committed while the body
 * streamed: 409 ConditionalRequestConflict, whatever the condition.
 */
export function guardCheckedAtBegin(conditions: WriteConditions): WriteGuard {
  return (current) => (conditionFailure(conditions, current) === null ? null : conflict());
}

/**
 * CompleteMultipartUpload: the conditions come only with the completion, so the upload's
 * initiation is the moment they are judged against. A failure on an object written since then
 * (a write committed during the upload) is 409; any other failure is the condition's own
 * answer (412, or 404 for If-Match on a missing key).
 */
export function guardSinceUploadBegan(
  conditions: WriteConditions,
  initiatedMs: number,
): WriteGuard {
  return (current) => {
    const failure = conditionFailure(conditions, current);
    if (failure === null) return null;
    return current !== undefined && current.lastModifiedMs >= initiatedMs ? conflict() : failure;
  };
}

/**
 * CopyObject and DeleteObject: one step on the target shard, with nothing streamed to it
 * before, so the commit is when the request is judged: the condition's own answer.
 */
export function guardAtCommit(conditions: WriteConditions): WriteGuard {
  return (current) => conditionFailure(conditions, current);
}

function preconditionFailed(condition: 'If-Match' | 'If-None-Match'): EngineFailure {
  return {
    code: 'PreconditionFailed',
    message: 'At least one of the preconditions you specified did not hold.',
    condition,
  };
}

function conflict(): EngineFailure {
  return {
    code: 'ConditionalRequestConflict',
    message:
      'The conditional request cannot succeed due to a conflicting operation against this resource.',
  };
}
