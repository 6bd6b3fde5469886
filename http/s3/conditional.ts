import type { ObjectInfo } from '../../engine/protocol/messages.js';
import { S3Error } from './errors.js';

export interface Preconditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  ifUnmodifiedSince?: string | undefined;
}

/**
 * RFC 7232 evaluation as S3 does it: If-Match, else If-Unmodified-Since, may fail with 412;
 * then If-None-Match, else If-Modified-Since, may answer 304 for reads. For copy sources every
 * failure is 412 (`notModifiedIs412`).
 */
export function checkPreconditions(
  info: ObjectInfo,
  conditions: Preconditions,
  notModifiedIs412 = false,
): 'ok' | 'not-modified' {
  if (conditions.ifMatch !== undefined) {
    if (!etagMatches(conditions.ifMatch, info.etag))
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  } else if (conditions.ifUnmodifiedSince !== undefined) {
    const since = parseHttpDate(conditions.ifUnmodifiedSince);
    if (since !== null && truncateToSeconds(info.lastModifiedMs) > since) {
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Unmodified-Since' });
    }
  }
  let notModified = false;
  if (conditions.ifNoneMatch !== undefined) {
    notModified = etagMatches(conditions.ifNoneMatch, info.etag);
  } else if (conditions.ifModifiedSince !== undefined) {
    const since = parseHttpDate(conditions.ifModifiedSince);
    notModified = since !== null && truncateToSeconds(info.lastModifiedMs) <= since;
  }
  if (!notModified) return 'ok';
  if (notModifiedIs412)
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
  return 'not-modified';
}

/** Whether a comma-separated list of entity tags (or "*") names `etag`. Weak tags compare equal. */
function etagMatches(list: string, etag: string): boolean {
  const bare = unquote(etag);
  return list.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || unquote(tag.replace(/^W\//, '')) === bare;
  });
}

function unquote(tag: string): string {
  return tag.startsWith('"') && tag.endsWith('"') && tag.length >= 2 ? tag.slice(1, -1) : tag;
}

function parseHttpDate(text: string): number | null {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** HTTP dates have whole seconds; Last-Modified is compared at that precision. */
function truncateToSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
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
