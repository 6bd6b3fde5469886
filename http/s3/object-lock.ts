import type { BucketRecord, Catalog } from '../../engine/catalog/catalog.js';
import type { LockCheck, ObjectLock, RetentionMode } from '../../engine/protocol/messages.js';
import { mayAlso } from './auth.js';
import { accessOf, type RequestContext, type ServerState } from './context.js';
import { S3Error } from './errors.js';

/**
 * S3 Object Lock on the HTTP side: a bucket's configuration (catalog), the request headers that
 * lock a new version, the clock retention is judged by, and the headers HEAD/GET report. The
 * rules themselves run on the shards (engine/object-lock.ts), inside the write transaction.
 */

/** A bucket's object lock configuration, stored with its other configs (kind 'object-lock'). */
export interface ObjectLockConfig {
  enabled: true;
  /** The default retention new versions get when they bring no retention of their own. */
  rule?: { mode: RetentionMode; days?: number; years?: number };
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function objectLockOf(
  catalog: Catalog,
  bucket: BucketRecord | string,
): ObjectLockConfig | undefined {
  return catalog.getBucketConfig<ObjectLockConfig>(bucket, 'object-lock');
}

/**
 * The clock retention is judged by: the wall clock plus the testing-only offset
 * (HANGAR_CLOCK_OFFSET_MS), the same clock lifecycle uses, so a test can pass a date.
 */
export function lockNowMs(state: ServerState): number {
  return Date.now() + state.config.clockOffsetMs;
}

/**
 * The clock and the bypass a removal or retention change is judged with: GOVERNANCE yields to
 * `x-amz-bypass-governance-retention: true` from a key with the bucket's owner grant (hangar's
 * s3:BypassGovernanceRetention); the header from any other key is ignored (AccessDenied follows).
 */
export function lockCheckOf(ctx: RequestContext, bucket: BucketRecord): LockCheck {
  const header = ctx.req.headers['x-amz-bypass-governance-retention'];
  const asked = header?.trim().toLowerCase() === 'true';
  return {
    nowMs: lockNowMs(ctx.state),
    bypassGovernance:
      asked &&
      mayAlso(ctx, {
        action: 's3:BypassGovernanceRetention',
        grant: 'owner',
        bucket,
        access: accessOf(ctx, bucket),
        objectKey: ctx.routed.key,
      }),
  };
}

/** AWS's answer to an object lock request on a bucket without object lock. */
export function missingLockConfiguration(): S3Error {
  return new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
}

/** The bucket's object lock configuration, or AWS's InvalidRequest. */
export function requireObjectLock(ctx: RequestContext, bucket: BucketRecord): ObjectLockConfig {
  const config = objectLockOf(ctx.state.catalog, bucket);
  if (config === undefined) throw missingLockConfiguration();
  return config;
}

/** A retention mode as AWS spells it; anything else is undefined. */
export function retentionModeOf(text: string | undefined): RetentionMode | undefined {
  return text === 'GOVERNANCE' || text === 'COMPLIANCE' ? text : undefined;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 date-time (RetainUntilDate), or undefined when it is not one. */
export function parseRetainUntil(text: string): number | undefined {
  if (!ISO_8601.test(text.trim())) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The lock the request's x-amz-object-lock-* headers ask for (PutObject, CopyObject,
 * CreateMultipartUpload): undefined when it sends none. Mode and date come together; the date
 * must be in the future; the bucket must have object lock. AWS's errors for each.
 */
export function lockFromHeaders(
  state: ServerState,
  bucket: BucketRecord,
  fields: Readonly<Record<string, string>>,
): ObjectLock | undefined {
  const modeText = fields['x-amz-object-lock-mode'];
  const dateText = fields['x-amz-object-lock-retain-until-date'];
  const holdText = fields['x-amz-object-lock-legal-hold'];
  if (modeText === undefined && dateText === undefined && holdText === undefined) return undefined;
  if (objectLockOf(state.catalog, bucket) === undefined) throw missingLockConfiguration();
  const lock: ObjectLock = {};
  if (modeText !== undefined || dateText !== undefined) {
    if (modeText === undefined || dateText === undefined) {
      throw new S3Error(
        'InvalidArgument',
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
      );
    }
    const mode = retentionModeOf(modeText);
    if (mode === undefined) throw new S3Error('InvalidArgument', 'Unknown wormMode directive.');
    const retainUntilMs = parseRetainUntil(dateText);
    if (retainUntilMs === undefined) {
      throw new S3Error(
        'InvalidArgument',
        'The retain until date must be provided in ISO 8601 format',
      );
    }
    if (retainUntilMs <= lockNowMs(state)) {
      throw new S3Error('InvalidArgument', 'The retain until date must be in the future!');
    }
    lock.mode = mode;
    lock.retainUntilMs = retainUntilMs;
  }
  if (holdText !== undefined) {
    if (holdText !== 'ON' && holdText !== 'OFF') {
      throw new S3Error('InvalidArgument', "Legal Hold must be either of 'ON' or 'OFF'");
    }
    lock.legalHold = holdText === 'ON';
  }
  return lock;
}

/** The bucket's default retention for a version written now (undefined: none configured). */
export function defaultRetention(state: ServerState, bucket: BucketRecord): ObjectLock | undefined {
  const rule = objectLockOf(state.catalog, bucket)?.rule;
  if (rule === undefined) return undefined;
  const days = rule.days ?? (rule.years ?? 0) * 365;
  return { mode: rule.mode, retainUntilMs: lockNowMs(state) + days * DAY_MS };
}

/**
 * The lock of a new version: the request's headers, the bucket's default retention where they
 * name no retention of their own. Undefined: the version is not locked.
 */
export function newVersionLock(
  state: ServerState,
  bucket: BucketRecord,
  explicit: ObjectLock | undefined,
): ObjectLock | undefined {
  if (explicit?.mode !== undefined) return explicit;
  const fallback = defaultRetention(state, bucket);
  if (fallback === undefined) return explicit;
  return { ...fallback, ...explicit };
}

/** `{ lock }` for a shard request, `{}` when the version is not locked. */
export function lockField(lock: ObjectLock | undefined): { lock?: ObjectLock } {
  return lock === undefined ? {} : { lock };
}

/**
 * S3 requires Content-MD5 or an additional checksum on a PutObject that sets object lock
 * parameters, so that a corrupted body is never locked in.
 */
export function requireDigestForLock(
  fields: Readonly<Record<string, string>>,
  explicit: ObjectLock | undefined,
  hasChecksum: boolean,
): void {
  if (explicit === undefined || hasChecksum || fields['content-md5'] !== undefined) return;
  throw new S3Error(
    'InvalidRequest',
    'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
  );
}

/** The x-amz-object-lock-* headers HEAD and GET report for a version. */
export function lockResponseHeaders(lock: ObjectLock | undefined): Array<[string, string]> {
  if (lock === undefined) return [];
  const out: Array<[string, string]> = [];
  if (lock.mode !== undefined && lock.retainUntilMs !== undefined) {
    out.push(['x-amz-object-lock-mode', lock.mode]);
    out.push(['x-amz-object-lock-retain-until-date', new Date(lock.retainUntilMs).toISOString()]);
  }
  if (lock.legalHold !== undefined) {
    out.push(['x-amz-object-lock-legal-hold', lock.legalHold ? 'ON' : 'OFF']);
  }
  return out;
}
