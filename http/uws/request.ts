/**
 * A plain copy of everything hangar needs from a uWS HttpRequest. uWS's HttpRequest is stack
 * allocated and dies when the route callback returns, so it is copied synchronously, once.
 */
export interface RequestSnapshot {
  /** Upper-case method, e.g. "PUT". */
  readonly method: string;
  /** URL path exactly as received (still percent-encoded), starting with "/", without the query. */
  readonly rawPath: string;
  /** Query string exactly as received, without the leading "?" ("" when absent). */
  readonly rawQuery: string;
  /** Header names lower-cased; repeated headers joined with ",". */
  readonly headers: Readonly<Record<string, string>>;
}

export function header(req: RequestSnapshot, name: string): string | undefined {
  return req.headers[name];
}
