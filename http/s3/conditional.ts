import { evaluatePreconditions, type Preconditions } from '../../engine/preconditions.js';
import type { ObjectInfo } from '../../engine/protocol/messages.js';
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

/** A 304 carries the validators only. */
export function notModifiedHeaders(
  headers: ReadonlyArray<[string, string]>,
): Array<[string, string]> {
  return headers.filter(([name]) => name === 'etag' || name === 'last-modified');
}
