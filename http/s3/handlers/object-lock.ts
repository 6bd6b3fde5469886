import { LIMITS } from '../../../engine/limits.js';
import type { LockChange, ObjectLock } from '../../../engine/protocol/messages.js';
import { requireBodyDigest } from '../checksum-headers.js';
import { type RequestContext, requireBucket, shardFor } from '../context.js';
import type { VersionedObjectEndpoint } from '../endpoints.js';
import { S3Error } from '../errors.js';
import { notifyField } from '../notifications.js';
import {
  lockCheckOf,
  lockNowMs,
  type ObjectLockConfig,
  objectLockOf,
  parseRetainUntil,
  requireObjectLock,
  retentionModeOf,
} from '../object-lock.js';
import { replicatedMetadataNotify } from '../replica.js';
import { sendEmpty, sendXml } from '../reply.js';
import { readSignedBody } from '../signed-body.js';
import { versionIdField, versionIdHeader, versioningOf } from '../versioning.js';
import { isoTime, parseXml, textOf, type XmlNode, type XmlValue } from '../xml.js';

// ---- bucket configuration ----

/**
 * PutObjectLockConfiguration: ObjectLockEnabled (Enabled, and once enabled it stays) and an
 * optional default retention (Mode with Days or Years). A bucket created without object lock
 * may enable it once its versioning is Enabled (AWS allows this since 2023).
 */
export async function handlePutObjectLockConfiguration(
  ctx: RequestContext,
  name: string,
): Promise<void> {
  const bucket = requireBucket(ctx, name);
  const body = await readSignedBody(ctx);
  requireBodyDigest(ctx.req.headers, body);
  const config = lockConfigFromXml(body.toString('utf8'));
  if (
    objectLockOf(ctx.state.catalog, bucket) === undefined &&
    versioningOf(ctx.state.catalog, bucket) !== 'Enabled'
  ) {
    throw new S3Error(
      'InvalidBucketState',
      "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
    );
  }
  await ctx.state.catalog.putBucketConfig(bucket.id, 'object-lock', config);
  sendEmpty(ctx, 200);
}

function lockConfigFromXml(text: string): ObjectLockConfig {
  const doc = parseXml(text, 'ObjectLockConfiguration');
  if (textOf(doc['ObjectLockEnabled']) !== 'Enabled') throw new S3Error('MalformedXML');
  // The parser makes every Rule an array (lifecycle and CORS repeat it); here there is one.
  const rules = doc['Rule'];
  if (rules === undefined) return { enabled: true };
  if (!Array.isArray(rules) || rules.length !== 1) throw new S3Error('MalformedXML');
  const retention = childNode(childNode(rules[0])['DefaultRetention']);
  const mode = retentionModeOf(textOf(retention['Mode']));
  const days = textOf(retention['Days']);
  const years = textOf(retention['Years']);
  if (mode === undefined || (days === undefined) === (years === undefined)) {
    throw new S3Error('MalformedXML');
  }
  const count = retentionPeriod(days ?? years ?? '', days !== undefined ? 1 : 365);
  return {
    enabled: true,
    rule: days !== undefined ? { mode, days: count } : { mode, years: count },
  };
}

/** Days or Years: a positive integer, at most LIMITS.objectLockRetentionDaysMax days in all. */
function retentionPeriod(text: string, daysEach: number): number {
  const count = /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : 0;
  if (count <= 0) {
    throw new S3Error(
      'InvalidArgument',
      'Default retention period must be a positive integer value',
    );
  }
  if (count * daysEach > LIMITS.objectLockRetentionDaysMax) {
    throw new S3Error('InvalidArgument', 'Default retention period too large');
  }
  return count;
}

function childNode(value: XmlValue): XmlNode {
  if (typeof value !== 'object' || Array.isArray(value)) throw new S3Error('MalformedXML');
  return value;
}

/** GetObjectLockConfiguration; ObjectLockConfigurationNotFoundError without object lock. */
export function handleGetObjectLockConfiguration(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const config = objectLockOf(ctx.state.catalog, bucket);
  if (config === undefined) {
    throw new S3Error('ObjectLockConfigurationNotFoundError', undefined, { BucketName: name });
  }
  const doc: XmlNode = { ObjectLockEnabled: 'Enabled' };
  if (config.rule !== undefined) {
    const period =
      config.rule.days !== undefined ? { Days: config.rule.days } : { Years: config.rule.years };
    doc.Rule = { DefaultRetention: { Mode: config.rule.mode, ...period } };
  }
  sendXml(ctx, 'ObjectLockConfiguration', doc);
}

// ---- a version's retention and legal hold ----

async function readLockDocument(ctx: RequestContext, root: string): Promise<XmlNode> {
  const body = await readSignedBody(ctx);
  // S3 requires Content-MD5 or a checksum on both lock writes.
  requireBodyDigest(ctx.req.headers, body);
  return parseXml(body.toString('utf8'), root);
}

/** A Retention document: Mode and RetainUntilDate together (or neither: remove it). */
function retentionChange(ctx: RequestContext, doc: XmlNode): LockChange {
  const modeText = textOf(doc['Mode']);
  const dateText = textOf(doc['RetainUntilDate']);
  if (modeText === undefined && dateText === undefined) {
    return { kind: 'retention', mode: null, retainUntilMs: null };
  }
  const mode = retentionModeOf(modeText);
  if (mode === undefined || dateText === undefined) throw new S3Error('MalformedXML');
  const retainUntilMs = parseRetainUntil(dateText);
  if (retainUntilMs === undefined) throw new S3Error('MalformedXML');
  if (retainUntilMs <= lockNowMs(ctx.state)) {
    throw new S3Error('InvalidArgument', 'The retain until date must be in the future!');
  }
  return { kind: 'retention', mode, retainUntilMs };
}

async function changeLock(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
  root: string,
  parse: (doc: XmlNode) => LockChange,
): Promise<void> {
  const version = versionIdField(e.versionId);
  const bucket = requireBucket(ctx, e.bucket);
  requireObjectLock(ctx, bucket);
  const change = parse(await readLockDocument(ctx, root));
  const stored = await shardFor(ctx.state, bucket, e.key).call(
    {
      kind: 'SetLock',
      bucketId: bucket.id,
      key: e.key,
      change,
      check: lockCheckOf(ctx, bucket),
      ...version,
      ...replicatedMetadataNotify(ctx, bucket, e.key, notifyField(ctx, bucket)),
    },
    'Lock',
  );
  sendEmpty(ctx, 200, versionIdHeader(stored.versionId));
}

/** PutObjectRetention: extends freely; shortens, removes or changes mode only as allowed. */
export function handlePutObjectRetention(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  return changeLock(ctx, e, 'Retention', (doc) => retentionChange(ctx, doc));
}

/** PutObjectLegalHold: Status ON or OFF. */
export function handlePutObjectLegalHold(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  return changeLock(ctx, e, 'LegalHold', (doc) => {
    const status = textOf(doc['Status']);
    if (status !== 'ON' && status !== 'OFF') throw new S3Error('MalformedXML');
    return { kind: 'legalHold', on: status === 'ON' };
  });
}

async function readLock(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<{ lock: ObjectLock; versionId?: string }> {
  const version = versionIdField(e.versionId);
  const bucket = requireBucket(ctx, e.bucket);
  requireObjectLock(ctx, bucket);
  return shardFor(ctx.state, bucket, e.key).call(
    { kind: 'GetLock', bucketId: bucket.id, key: e.key, ...version },
    'Lock',
  );
}

/** GetObjectRetention; NoSuchObjectLockConfiguration when the version has none. */
export async function handleGetObjectRetention(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  const { lock, versionId } = await readLock(ctx, e);
  if (lock.mode === undefined || lock.retainUntilMs === undefined) {
    throw new S3Error('NoSuchObjectLockConfiguration');
  }
  sendXml(
    ctx,
    'Retention',
    { Mode: lock.mode, RetainUntilDate: isoTime(lock.retainUntilMs) },
    versionIdHeader(versionId),
  );
}

/** GetObjectLegalHold; NoSuchObjectLockConfiguration when none was ever set. */
export async function handleGetObjectLegalHold(
  ctx: RequestContext,
  e: VersionedObjectEndpoint,
): Promise<void> {
  const { lock, versionId } = await readLock(ctx, e);
  if (lock.legalHold === undefined) throw new S3Error('NoSuchObjectLockConfiguration');
  sendXml(ctx, 'LegalHold', { Status: lock.legalHold ? 'ON' : 'OFF' }, versionIdHeader(versionId));
}
