/**
 * What may appear in an HTTP/1.1 header line (RFC 9110 §5.1, §5.5). A response header whose
 * name or value breaks these rules could split the response (CR/LF) or be read differently by
 * the client and a proxy in between, so hangar refuses such values where they enter (400) and
 * asserts at the one place headers are written that none ever goes out.
 */

/** field-name = token: visible ASCII except the separators. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Control characters other than HTAB, and DEL: never part of a field value. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

export function isHeaderValue(value: string): boolean {
  return !CONTROL.test(value);
}

/** The first header of `headers` that may not be written, or null when all may. */
export function firstUnsafeHeader(
  headers: Iterable<readonly [string, string]>,
): readonly [string, string] | null {
  for (const header of headers) {
    if (!isHeaderName(header[0]) || !isHeaderValue(header[1])) return header;
  }
  return null;
}
