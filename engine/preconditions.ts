/**
 * RFC 7232 evaluation as S3 does it, as plain data: the shard runs it to know whether a GET
 * needs a read session at all (a 304 or 412 answer sends no body), the HTTP thread runs it on
 * the same ObjectInfo to answer; being one pure function, both always agree.
 */

/** The If-* values of a request (GET/HEAD headers, or a copy's x-amz-copy-source-if-*). */
export interface Preconditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  ifUnmodifiedSince?: string | undefined;
}

/** The outcome: serve, answer 304, or fail with 412 naming the condition. */
export type PreconditionOutcome =
  | { kind: 'ok' }
  | { kind: 'not-modified' }
  | { kind: 'failed'; condition: 'If-Match' | 'If-Unmodified-Since' | 'If-None-Match' };

/**
 * If-Match, else If-Unmodified-Since, may fail; then If-None-Match, else If-Modified-Since, may
 * answer 304 for reads. For copy sources every failure is a 412 (`notModifiedIs412`).
 */
export function evaluatePreconditions(
  object: { etag: string; lastModifiedMs: number },
  conditions: Preconditions,
  notModifiedIs412 = false,
): PreconditionOutcome {
  if (conditions.ifMatch !== undefined) {
    if (!etagMatches(conditions.ifMatch, object.etag))
      return { kind: 'failed', condition: 'If-Match' };
  } else if (conditions.ifUnmodifiedSince !== undefined) {
    const since = parseHttpDate(conditions.ifUnmodifiedSince);
    if (since !== null && truncateToSeconds(object.lastModifiedMs) > since)
      return { kind: 'failed', condition: 'If-Unmodified-Since' };
  }
  let notModified = false;
  if (conditions.ifNoneMatch !== undefined) {
    notModified = etagMatches(conditions.ifNoneMatch, object.etag);
  } else if (conditions.ifModifiedSince !== undefined) {
    const since = parseHttpDate(conditions.ifModifiedSince);
    notModified = since !== null && truncateToSeconds(object.lastModifiedMs) <= since;
  }
  if (!notModified) return { kind: 'ok' };
  return notModifiedIs412
    ? { kind: 'failed', condition: 'If-None-Match' }
    : { kind: 'not-modified' };
}

/** Whether a comma-separated list of entity tags (or "*") names `etag`. Weak tags compare equal. */
export function etagMatches(list: string, etag: string): boolean {
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
