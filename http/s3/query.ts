/**
 * Query-string parsing for the S3 router. Decoding follows URLSearchParams (application/
 * x-www-form-urlencoded: '+' is a space, %XX is a UTF-8 byte), but malformed input is an
 * S3 error instead of being replaced with U+FFFD, and repeated names keep their first value.
 */
import { S3Error } from './errors.js';

function decodeComponent(raw: string): string {
  const spaced = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    // URIError: a '%' not followed by two hex digits, or bytes that are not valid UTF-8.
    throw new S3Error('InvalidArgument', 'Invalid query string: malformed percent-encoding.', {
      ArgumentName: 'querystring',
    });
  }
}

/**
 * Parses a raw query string (without the leading '?'). `a&b=1&b=2&c=` gives
 * {a: '', b: '1', c: ''}. Empty segments (`a&&b`, a trailing '&') are skipped.
 * Throws S3Error('InvalidArgument') on malformed percent-encoding or invalid UTF-8.
 */
export function parseQuery(rawQuery: string): Map<string, string> {
  const out = new Map<string, string>();
  if (rawQuery === '') return out;
  for (const segment of rawQuery.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    const name = decodeComponent(eq === -1 ? segment : segment.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(segment.slice(eq + 1));
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}
