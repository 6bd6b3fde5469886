import { evaluatePreconditions, type Preconditions } from '../../engine/preconditions.js';
import type { ObjectInfo, WriteConditions } from '../../engine/protocol/messages.js';
import { S3Error } from './errors.js';

export type { Preconditions };

/**
 * RFC 7232 evaluation as S3 does it (engine/preconditions.ts): throws 412 PreconditionFailed,
 * or says whether a read answers 304. For copy sources every failure is 412 (`notModifiedIs412`).
 */
export function checkPreconditions(
  info: ObjectInfo,
  conditions: Preconditions,
  notModifiedIs412 = false,
): 'ok' | 'not-modified' {
  const outcome = evaluatePreconditions(info, conditions, notModifiedIs412);
  if (outcome.kind === 'failed')
    throw new S3Error('PreconditionFailed', undefined, { Condition: outcome.condition });
  return outcome.kind;
}

/** The If-* headers of a GET or HEAD. */
export function requestPreconditions(h: Readonly<Record<string, string>>): Preconditions {
  return {
    ifMatch: h['if-match'],
    ifNoneMatch: h['if-none-match'],
    ifModifiedSince: h['if-modified-since'],
    ifUnmodifiedSince: h['if-unmodified-since'],
  };
}

/**
 * The If-Match / If-None-Match of a write (PutObject, CopyObject's target, CompleteMultipartUpload;
 * undefined: unconditional). If-None-Match takes only "*" on a write: another value asks for what
 * S3 does not do, and AWS answers it 501 NotImplemented.
 */
export function writeConditionsOf(
  h: Readonly<Record<string, string>>,
): WriteConditions | undefined {
  const ifMatch = h['if-match'];
  const ifNoneMatch = h['if-none-match'];
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*')
    throw new S3Error('NotImplemented', undefined, { Header: 'If-None-Match' });
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return {
    ...(ifMatch !== undefined ? { ifMatch } : {}),
    ...(ifNoneMatch !== undefined ? { ifNoneMatch: '*' as const } : {}),
  };
}

/** Spreads a request's write conditions into a shard message (nothing when unconditional). */
export function withConditions(conditions: WriteConditions | undefined): {
  conditions?: WriteConditions;
} {
  return conditions === undefined ? {} : { conditions };
}

/** A 304 carries the validators only. */
export function notModifiedHeaders(
  headers: ReadonlyArray<[string, string]>,
): Array<[string, string]> {
  return headers.filter(([name]) => name === 'etag' || name === 'last-modified');
}
