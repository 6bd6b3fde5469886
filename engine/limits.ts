/**
 * A load bound an operator (or a test) may lower or raise through the environment; the name is
 * HANGAR_ plus the limit's name in upper snake case (HANGAR_SHARD_IN_FLIGHT_MAX). Shard threads
 * inherit the environment, so both sides of the protocol read the same value.
 */
function tunable(name: string, fallback: number): number {
  const raw = process.env[`HANGAR_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) {
    throw new Error(`hangar: the limit ${name} must be a positive integer, not '${raw}'`);
  }
  return Number(raw);
}

/** Every bound hangar enforces, in one place. Units are in the names. */
export const LIMITS = {
  /** Size of the staging buffers that carry body bytes between the HTTP thread and a shard. */
  chunkBytes: 256 * 1024,
  /** Body bytes one request may have in flight between the HTTP thread and its shard. */
  windowBytes: 1024 * 1024,
  /** S3's limits. */
  keyBytesMax: 1024,
  userMetadataBytesMax: 2 * 1024,
  putObjectBytesMax: 5 * 1024 ** 3,
  deleteObjectsKeysMax: 1000,
  listKeysMax: 1000,
  /** Cap on request bodies hangar buffers whole (XML documents). */
  xmlBodyBytesMax: 2 * 1024 * 1024,
  /** An error answered before the body was read: up to this much of the rest is read and
   *  thrown away so the connection stays open; more, and the connection is closed. */
  errorDrainBytesMax: 8 * 1024 * 1024,
  errorDrainTimeoutMs: 10_000,
  // ---- Load shedding, shard supervision, read sessions (issue 11, rows 8-11) ----
  /** Requests a shard serves at once (its mailbox's depth in requests); more are refused with
   *  503 SlowDown rather than queued without bound. */
  shardInFlightMax: tunable('shardInFlightMax', 512),
  /** Requests one port (S3, website) serves at once; more are answered 503 SlowDown and their
   *  connection closed, before a byte of their body is read. Bounds the edge's memory:
   *  each request holds at most ~2 windowBytes (early body bytes + upload or read window). */
  requestsInFlightMax: tunable('requestsInFlightMax', 1024),
  /** The Retry-After a SlowDown or ServiceUnavailable answer carries. */
  retryAfterSeconds: 1,
  /** GET bodies streaming from one shard at once, and from all shards together: each pins a
   *  shard read session and up to windowBytes of buffers. More are refused with SlowDown. */
  readSessionsPerShardMax: tunable('readSessionsPerShardMax', 128),
  readSessionsTotalMax: tunable('readSessionsTotalMax', 512),
  /** A GET body whose client takes no bytes for this long is cut, freeing its read session. */
  readStallTimeoutMs: tunable('readStallTimeoutMs', 60_000),
  /** Shard thread deaths within the window that make the process exit non-zero, leaving the
   *  restart to its service manager; fewer are restarted in place. */
  shardDeathsMax: 3,
  shardDeathWindowMs: 60_000,
  /** Pause before a dead shard's thread is replaced (a crash loop does not spin a core). */
  shardRestartDelayMs: tunable('shardRestartDelayMs', 100),

  // ---- request bodies read before or instead of streaming (issue 11: bodies) ----
  /** PostObject, AWS's bound: the names and values of the fields before the file, together. */
  postFieldsBytesMax: 20 * 1024,
  /** PostObject: one field's value (the policy document is the largest real one, a few KiB). */
  postFieldValueBytesMax: 16 * 1024,
  /** PostObject: fields before the file (real forms send a few dozen). Bounds the parsed list
   *  even when every field is empty and so counts no name or value bytes. */
  postFieldsMax: 1000,
  /** PostObject: one part's header section (Content-Disposition, Content-Type). */
  postPartHeaderBytesMax: 8 * 1024,
  /** PostObject: every byte on the wire before the file part (preamble, boundaries, part
   *  headers, values): past it, MaxPostPreDataLengthExceededError, whatever the fields are. */
  postPreFileBytesMax: 64 * 1024,
  /** PostObject refused before its end: up to this much of the rest is read and dropped first,
   *  so a browser (which sends the whole form before reading) sees the error; more, and the
   *  answer goes out at once and the connection is closed. */
  postErrorDrainBytesMax: 1024 * 1024,
  /** An aws-chunked XML body may take this many times xmlBodyBytesMax on the wire (framing). */
  xmlChunkedWireFactor: 2,

  // --- HTTP edge: header hygiene (issue 11, rows 4 and 12) ---
  /** The request's whole header section ("name: value\r\n" per header, request line excluded).
   *  AWS: "The PUT request header is limited to 8 KB in size"; past it, 400
   *  RequestHeaderSectionTooLarge and the connection closed. (uWS 20.30 itself drops, without an
   *  answer, a header section over 4 KiB that does not arrive in one read.) */
  requestHeaderBytesMax: 8 * 1024,
  /** A port configured as 0: free ports tried (each found by the kernel, then listened on by
   *  name; another process can take one in between). */
  freePortAttempts: 8,
} as const;

// Start-up checks that stand in for compile-time assertions.
if (LIMITS.windowBytes < 2 * LIMITS.chunkBytes) throw new Error('windowBytes must hold 2 chunks');
if (LIMITS.chunkBytes % 4096 !== 0) throw new Error('chunkBytes must be a multiple of 4096');
