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
  /** Requests a shard serves at once; more are refused with SlowDown rather than queued forever. */
  shardInFlightMax: 4096,

  // --- HTTP edge: header hygiene (issue 11, rows 4 and 12) ---
  /** The request's whole header section ("name: value\r\n" per header, request line excluded).
   *  AWS: "The PUT request header is limited to 8 KB in size"; past it, 400
   *  RequestHeaderSectionTooLarge and the connection closed. (uWS 20.30 itself drops, without an
   *  answer, a header section over 4 KiB that does not arrive in one read.) */
  requestHeaderBytesMax: 8 * 1024,
} as const;

// Start-up checks that stand in for compile-time assertions.
if (LIMITS.windowBytes < 2 * LIMITS.chunkBytes) throw new Error('windowBytes must hold 2 chunks');
if (LIMITS.chunkBytes % 4096 !== 0) throw new Error('chunkBytes must be a multiple of 4096');
