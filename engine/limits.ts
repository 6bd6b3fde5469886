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
  /**
   * Rows a listing's open range skips to reach a later start before it opens a new range there
   * (engine/meta/seek-cursor.ts): skipping is cheaper than a reopen, which is a round trip on a
   * cluster store, until a rolled-up prefix jumps far.
   */
  listSeekSkipRowsMax: 16,
  // ---- S3 Select (SelectObjectContent) ----
  /** AWS's bound on the SQL expression ("The maximum byte-length for the SQL expression is 256 KB"). */
  selectExpressionBytesMax: 256 * 1024,
  /** Nesting depth of a SQL expression: the parser recurses, so a deep one must fail typed. */
  selectExpressionDepthMax: 64,
  /** AWS's maxCharsPerRecord: one input record (CSV row, JSON value) or output record. */
  selectRecordBytesMax: 1024 * 1024,
  /** Nesting of a JSON value Select serializes or compares (the walk recurses). */
  selectJsonDepthMax: 512,
  /** A Parquet row group Select reads: its stored bytes (one ranged read, held whole) and its
   *  decoded size (total_byte_size), each at most this; more is OverMaxParquetBlockSize. AWS's
   *  own bound is larger (512 MB); hangar's keeps one Select's memory to ~2x this. */
  selectParquetRowGroupBytesMax: tunable('selectParquetRowGroupBytesMax', 128 * 1024 * 1024),
  /** A Parquet footer (file metadata) Select parses; more is OverMaxParquetBlockSize. */
  selectParquetFooterBytesMax: 16 * 1024 * 1024,
  /** Output bytes gathered into one Records event before it is sent. */
  selectRecordsEventBytes: 64 * 1024,
  /** A scan that has sent no event for this long sends a Cont (keep-alive) event. */
  selectKeepAliveMs: tunable('selectKeepAliveMs', 1000),
  /** With RequestProgress enabled, a Progress event at most this often. */
  selectProgressIntervalMs: 1000,
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
  /** Chunk buffers (chunkBytes each) a shard keeps from ended GETs for the next ones: 4 MiB per
   *  shard, enough for a few windows; more come and go with the GC. */
  shardReadBuffersKeepMax: 16,
  /**
   * V8's young generation of each edge and shard thread, in MiB (its maxYoungGenerationSizeMb).
   * Each thread is its own isolate: left to V8, busy threads grow their nurseries until peak
   * anonymous memory passes 300 MiB (main, two edges, two shards). 16 measured best: 8 cut
   * listing throughput by a quarter, 32 and more gave the memory back (DECISIONS.md).
   */
  threadYoungGenerationMb: tunable('threadYoungGenerationMb', 16),
  /** A GET body whose client takes no bytes for this long is cut, freeing its read session. */
  readStallTimeoutMs: tunable('readStallTimeoutMs', 60_000),
  /** Shard thread deaths within the window that make the process exit non-zero, leaving the
   *  restart to its service manager; fewer are restarted in place. */
  shardDeathsMax: 3,
  shardDeathWindowMs: 60_000,
  /** Pause before a dead shard's thread is replaced (a crash loop does not spin a core). */
  shardRestartDelayMs: tunable('shardRestartDelayMs', 100),
  /** A clean stop (SIGTERM) waits this long for the requests in flight, then cuts them (each
   *  edge thread drains its own). A service manager's stop timeout must be longer
   *  (tools/systemd/hangar.service). (Edge threads share shardDeathsMax/shardDeathWindowMs/
   *  shardRestartDelayMs with shards; each per-port and per-shard bound above is divided evenly
   *  among the edge threads.) */
  shutdownDrainMs: tunable('shutdownDrainMs', 30_000),

  // ---- request bodies read before or instead of streaming (issue 11: bodies) ----
  /** PostObject, AWS's bound: the names and values of the fields before the file, together. */
  postFieldsBytesMax: 20 * 1024,
  /** A bucket policy's JSON text, as AWS's 20 KB: parsed once at PutBucketPolicy and evaluated
   *  on each request to the bucket, so its size bounds both the parse and each decision. */
  bucketPolicyBytesMax: 20 * 1024,
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
  /** PutObjectAcl: reads of the object's owner before its ACL is written on condition that the
   *  owner is still the one read (a concurrent overwrite changed it); past them, 409
   *  ConditionalRequestConflict. */
  objectAclAttemptsMax: 3,

  // ---- S3 request documents and listings (moved here from their modules, issue 11) ----
  /** PostObject: bytes between a boundary delimiter and its CRLF (RFC 2046 transport padding);
   *  more, and 400 MalformedPOSTRequest. */
  postDelimiterLineBytesMax: 256,
  /** Multipart part numbers run from 1 to this; a larger one is 400 InvalidArgument, and a
   *  CompleteMultipartUpload listing more parts is 400 MalformedXML. */
  multipartPartNumberMax: 10_000,
  /** Every part of a multipart upload but the last must be at least this big; a smaller one
   *  fails CompleteMultipartUpload with 400 EntityTooSmall. */
  multipartPartBytesMin: 5 * 1024 * 1024,
  /** ListParts and GetObjectAttributes list at most this many parts per answer (the default
   *  and the cap of max-parts); more are left for the next page. */
  listPartsMax: 1000,
  /** ListMultipartUploads lists at most this many uploads per answer (default and cap). */
  listUploadsMax: 1000,
  /** ListBuckets: the largest max-buckets accepted; more is 400 InvalidArgument. */
  listBucketsMax: 10_000,
  /** An inline body up to this stays in its object record (as before the bodies table); a
   *  larger one, up to inline_bytes_max, goes to the shard's `bodies` table, so listings and
   *  HEADs never copy it. Not a client limit. */
  recordBodyBytesMax: 4 * 1024,
  /** PutBucketCors: the document's bytes (AWS's 64 KB); more, 400 MaxMessageLengthExceeded. */
  corsBodyBytesMax: 64 * 1024,
  /** PutBucketCors: rules in one configuration; more, 400 MalformedXML. */
  corsRulesMax: 100,
  /** PutBucketCors: a rule's ID, in UTF-16 code units; longer, 400 MalformedXML. */
  corsRuleIdUnitsMax: 255,
  /** PutBucketLifecycleConfiguration: rules in one configuration; more, 400 MalformedXML. */
  lifecycleRulesMax: 1000,
  /** PutBucketLifecycleConfiguration: a rule's ID, in UTF-16 code units; longer, 400
   *  InvalidArgument. */
  lifecycleRuleIdUnitsMax: 255,
  /** PutBucketWebsite: routing rules in one configuration (AWS's); more, 400 InvalidArgument. */
  websiteRoutingRulesMax: 50,
  /** Object lock default retention, in days (Years count 365 days each; AWS's 100 years); more,
   *  400 InvalidArgument. */
  objectLockRetentionDaysMax: 36_500,
  /** Tags on one object; more, 400 BadRequest (AWS's answer). */
  objectTagsMax: 10,
  /** Tags on one bucket; more, 400 InvalidTag. */
  bucketTagsMax: 50,
  /** A tag key, in UTF-16 code units (S3 stores tags as UTF-16); longer, 400 InvalidTag. */
  tagKeyUnitsMax: 128,
  /** A tag value, in UTF-16 code units; longer, 400 InvalidTag. */
  tagValueUnitsMax: 256,
  /** Analytics configurations on one bucket (AWS's bound); more, 400 TooManyConfigurations. */
  analyticsConfigurationsMax: 1000,
  /** Metrics configurations on one bucket (AWS's bound); more, 400 TooManyConfigurations. */
  metricsConfigurationsMax: 1000,
  /** Intelligent-Tiering configurations on one bucket (AWS's bound); more, 400 TooManyConfigurations. */
  intelligentTieringConfigurationsMax: 1000,
  /** An analytics, metrics or inventory configuration's Id, in characters of [A-Za-z0-9._-] (AWS's);
   *  longer, 400 InvalidArgument. */
  bucketConfigIdCharsMax: 64,
  /** Configurations on one page of ListBucketAnalytics/Metrics/InventoryConfigurations (AWS's
   *  100). */
  bucketConfigListPageMax: 100,
  /** A Prefix in an analytics or metrics filter or an export destination, in UTF-16 code units
   *  (an object key's bound); longer, 400 InvalidArgument. */
  bucketConfigPrefixUnitsMax: 1024,
  /** An ARN in a configuration (export bucket, access point), in characters; longer, 400
   *  InvalidArgument. */
  bucketConfigArnCharsMax: 2048,
  /** Grants in one ACL (AWS's bound); more, 400 MalformedACLError (XML) or InvalidArgument (headers). */
  aclGrantsMax: 100,

  // ---- Authorization (issue 15) ----
  /** Buckets whose decoded configurations (access record, versioning, lifecycle, ...) each
   *  thread keeps (Catalog.getBucketConfig); past it the cache starts over. */
  bucketConfigsCachedMax: 10_000,

  // ---- SigV4 and aws-chunked bodies (moved here from http/sigv4, issue 11) ----
  /** A request signed further than this from the server's clock is 403 RequestTimeTooSkewed
   *  (and a presigned URL signed further in the future, 403 AccessDenied). */
  clockSkewMaxMs: 15 * 60 * 1000,
  /** A presigned URL's X-Amz-Expires (AWS's week); more, 400 AuthorizationQueryParametersError. */
  presignedExpiresMaxSeconds: 604_800,
  /** One aws-chunked chunk's declared size; more, 400 InvalidRequest before its bytes are read. */
  awsChunkBytesMax: 16 * 1024 * 1024,
  /** Every signed aws-chunked data chunk but the last must be at least this big (AWS's);
   *  a smaller one is 400 InvalidChunkSizeError. */
  awsChunkBytesMin: 8192,
  /** One aws-chunked chunk-header or trailer line; longer is garbage, 400 IncompleteBody. */
  awsChunkLineBytesMax: 4096,
  /** An aws-chunked body's trailer section, all lines together; more, 400 MalformedTrailerError. */
  awsChunkTrailerBytesMax: 16 * 1024,
  /** Derived signing keys kept in memory; past it the oldest is dropped (and derived again). */
  signingKeyCacheEntriesMax: 256,

  // ---- Admin API (moved here from http/admin, issue 11) ----
  /** An admin request body; larger, 413 PayloadTooLarge and the connection closed. */
  adminBodyBytesMax: 1024 * 1024,
  /** GetClusterHealth and friends: a shard that does not answer a ping within this is down. */
  adminPingTimeoutMs: 5_000,
  /** /health readiness: a shard that does not answer a ping within this is not ready (503). */
  readyPingTimeoutMs: 2_000,
  /** /health readiness: less free space than this on the data directory's filesystem is not
   *  ready (503): writes are about to fail. */
  readyFreeBytesMin: 64 * 1024 * 1024,
  /** /metrics: a shard whose Stats do not arrive within this is left out of the scrape. */
  metricsStatsTimeoutMs: 2_000,
  /** GetBlockInfo: references listed per shard at most (a scan); more are left out. */
  blockBacklinksMax: 1000,
  /** CleanupIncompleteUploads: upload records one shard request reads at most; more take
   *  further requests, so no one request holds a shard long. */
  cleanupBatchUploads: 1000,

  // ---- Background workers: batches and periods (moved here, issue 11) ----
  /** How often every bucket's lifecycle rules run (besides at start-up and on demand). */
  lifecycleIntervalMs: 24 * 60 * 60 * 1000,
  /**
   * RestoreObject: how long a restore takes per tier before the object is readable. AWS takes
   * minutes to hours; hangar's bytes are on its own disks, so these only keep the API's states
   * (ongoing, then done) visible. Config restore_delay_ms replaces all three (tests).
   */
  restoreDelayMs: { Expedited: 1_000, Standard: 5_000, Bulk: 10_000 },
  /** RestoreObject's Days at most (AWS documents no bound; 100 years). */
  restoreDaysMax: 36_500,
  /** How often the restore worker looks for restores to complete or expire. */
  restoreCheckIntervalMs: 250,
  /** Restore steps one shard request takes at most; more take further requests. */
  restoreBatchRows: 1000,
  /** Lifecycle: records one shard request reads at most; more take further requests. */
  lifecycleBatchRecords: 1000,
  /** Data directories (issue 18): one with less free space than this takes no new blocks. */
  dataDirFreeBytesMin: 256 * 1024 * 1024,
  /** How often a shard checks its data directories' free space (statfs). */
  dataDirFreeCheckMs: 10_000,
  /** How long a data directory whose block write failed is skipped for new blocks. */
  dataDirSkipMs: 60_000,
  /** Drain: block keys one shard moves per request (a batch stays short). */
  drainBatchBlocks: 32,
  /** Drain: pause between batches, so a drain leaves the disks to clients. */
  drainPauseMs: 50,
  /** Drain: pause after a batch that could move nothing (blocks held by readers), or failed. */
  drainBusyRetryMs: 1000,
  /** Drain: how often a finished drain looks at the read-only directories again. */
  drainRecheckMs: 10 * 60 * 1000,
  /** How often the orphan sweep walks the block directories. */
  orphanSweepIntervalMs: 24 * 60 * 60 * 1000,
  /** Scrub: blocks one shard checks per request, and the bytes it reads at most; more take
   *  further requests, so a batch stays short. */
  scrubBatchBlocks: 64,
  scrubBatchBytes: 64 * 1024 * 1024,
  /** Scrub: a full pass starts this long after the last one, plus up to scrubPassJitterMs
   *  (Garage's 25 to 35 days). */
  scrubPassIntervalMinMs: 25 * 24 * 60 * 60 * 1000,
  scrubPassJitterMs: 10 * 24 * 60 * 60 * 1000,
  /** Scrub: how often it checks whether a pass is due. */
  scrubScheduleCheckMs: 60 * 60 * 1000,
  /** Scrub: the 'pause' command stops it for this long, then it resumes by itself. */
  scrubPauseCommandMs: 24 * 60 * 60 * 1000,
  /** Scrub: the wait after a failed batch before the next try. */
  scrubErrorBackoffMs: 10_000,
  /** Scrub: the longest sleep between two batches, whatever the tranquility (timers cap at
   *  2^31-1 ms). */
  scrubSleepMaxMs: 60 * 60 * 1000,
  /** Scrub tranquility (sleep this many times the time worked); a larger setting is refused. */
  scrubTranquilityMax: 1000,

  // ---- hangar doctor, and the same checks at server start (issue 12) ----
  /** Free bytes on the data directory's filesystem: below the first the server refuses to
   *  start (LMDB and block writes would fail mid-request), below the second it warns. */
  doctorFreeBytesMin: 128 * 1024 * 1024,
  doctorFreeBytesWarn: 1024 ** 3,
  /** Free inodes there, where the filesystem reports them (every block is a file). */
  doctorFreeInodesMin: 1000,
  doctorFreeInodesWarn: 100_000,
  /** RLIMIT_NOFILE (after Node raises the soft limit to the hard one): every connection, shard
   *  environment and block being read holds a descriptor. */
  doctorOpenFilesMin: 256,
  doctorOpenFilesWarn: 4096,
  /** The wall clock behind the build or the data directory's newest write: from this much on
   *  start-up is refused (SigV4's RequestTimeTooSkewed window), from doctorClockBehindWarnMs
   *  on it warns. */
  doctorClockBehindMaxMs: 15 * 60 * 1000,
  doctorClockBehindWarnMs: 2000,
  /** An fsync faster than this cannot have reached a disk: it warns that fsync may be a no-op. */
  doctorFsyncNoOpBelowMicros: 20,
  /** How long `timedatectl` may take to say whether the clock is NTP-synchronised. */
  doctorNtpQueryTimeoutMs: 2000,
  // ---- SSE-S3 / SSE-KMS (issue 16) ----
  /** Keys in the built-in keyring (the default aws/s3 key included): more are refused. */
  kmsKeysMax: 1000,
  /** Material versions one keyring key keeps (each rotation adds one; old ones stay to decrypt). */
  kmsKeyVersionsMax: 100,
  /** x-amz-server-side-encryption-context as sent (base64 of a JSON object), in bytes. */
  sseContextBytesMax: 4096,
  /** A key id, ARN or alias in x-amz-server-side-encryption-aws-kms-key-id, in bytes. */
  kmsKeyRefBytesMax: 2048,
  /** ScheduleKmsKeyDeletion's waiting period, in days: AWS KMS's bounds (7 to 30, default 30). */
  kmsDeletionWindowDaysMin: 7,
  kmsDeletionWindowDaysMax: 30,
  // ---- event notifications (issue 16) ----
  /** Notification configurations in one PutBucketNotificationConfiguration (AWS: 100). */
  notifyRulesMax: 100,
  /** Notification targets the admin API may store (beside the config file's). */
  notifyTargetsStoredMax: 64,
  /** A stored target's URL and HMAC secret, in characters. */
  notifyTargetUrlCharsMax: 2048,
  notifyTargetSecretCharsMax: 256,
  /** Outbox events one delivery pass reads from each shard. */
  notifyBatchMax: 256,
  /** Idle wait between delivery passes when no event was pending. */
  notifyPollMs: 200,
  /** One webhook POST or NATS publish+flush, then it counts as a failed attempt. */
  notifyDeliveryTimeoutMs: 10_000,
  /** First retry delay after a failed attempt; doubled per attempt up to notifyBackoffMaxMs. */
  notifyBackoffBaseMs: 250,
  notifyBackoffMaxMs: 60_000,
  /** An event still undelivered this long after its change is given up (counted as failed). */
  notifyEventAgeMaxMs: 24 * 3600 * 1000,

  // ---- bucket replication (issue 16) ----
  /** Rules in one ReplicationConfiguration (AWS's bound). */
  replicationRulesMax: 1000,
  /** Operator-registered remotes (replication destinations) in the catalog. */
  replicationRemotesMax: 1000,
  /** Queue rows a replication pass reads from one shard at a time (not a client limit). */
  replicationBatchMax: 64,
  /** The replication worker's idle wait between passes over empty queues (tunable). */
  replicationPollMs: tunable('replicationPollMs', 250),
  /** Attempts at one object before it is marked FAILED and leaves the queue (repair re-queues). */
  replicationAttemptsMax: tunable('replicationAttemptsMax', 8),
  /** First retry delay of a remote after a failed attempt; doubled up to the max. */
  replicationBackoffBaseMs: tunable('replicationBackoffBaseMs', 500),
  replicationBackoffMaxMs: tunable('replicationBackoffMaxMs', 60_000),
  /** One request to a remote (a PUT or a part streams up to a GiB or so: sized for that). */
  replicationRequestTimeoutMs: 15 * 60 * 1000,
  /** The largest object replicated (S3's object bound): larger ones FAIL at once. */
  replicationObjectBytesMax: 5 * 1024 ** 4,
  /** Objects a repair pass checks against the destination per bucket page. */
  replicationRepairPageMax: 1000,
  /** S3 Replication Time Control's threshold (RTC's 15 minutes; tunable: tests lower it to see
   *  the threshold events without waiting). */
  replicationTimeThresholdMs: tunable('replicationTimeThresholdMs', 15 * 60 * 1000),
  /** A change still queued this long under RTC is no longer tracked (OperationNotTracked). */
  replicationTrackingWindowMs: tunable('replicationTrackingWindowMs', 24 * 60 * 60 * 1000),
  /** Queue rows remembered as having missed their RTC threshold (each event is sent once). */
  replicationThresholdMissesMax: 100_000,

  // ---- server access logs (issue 16) ----
  /** Access log records wait in an edge thread's memory at most this long before they are
   *  appended to its spool and fdatasync'ed (tunable: tests shorten it). */
  accessLogFlushIntervalMs: tunable('accessLogFlushIntervalMs', 1000),
  /** ...or until this many bytes of records gather, whichever comes first. */
  accessLogFlushBytes: 64 * 1024,
  /** One edge thread's spool file; records past it are dropped (counted) until delivery
   *  empties it. A batch being delivered is a second file of at most this size. */
  accessLogSpoolBytesMax: 32 * 1024 * 1024,
  /** How often an edge thread delivers its spooled records as log objects (tunable). */
  accessLogDeliveryIntervalMs: tunable('accessLogDeliveryIntervalMs', 5 * 60 * 1000),
  /** One log object's size at most; a larger group of records becomes several objects. */
  accessLogObjectBytesMax: 256 * 1024,

  // ---- GetObjectTorrent (issue 18) ----
  /** The smallest torrent piece; larger objects get larger (power-of-two) pieces. */
  torrentPieceBytesMin: 256 * 1024,
  /** Pieces one torrent lists at most: its SHA-1 list (20 bytes each) stays under 40 KiB. */
  torrentPiecesMax: 2048,
  /** AWS serves torrents of objects under 5 GB only; larger answer InvalidRequest. */
  torrentObjectBytesMax: 5 * 1024 ** 3,
  /** Computed piece lists one edge thread keeps (LRU): an object is read whole once per
   *  version, not once per torrent request. */
  torrentPieceCacheEntriesMax: 1024,

  // ---- inventory (issue 18) ----
  /** Inventory configurations one bucket may have (AWS: 1,000). */
  inventoryConfigsMax: 1000,
  /** How often the inventory worker looks for reports that are due (tunable). */
  inventoryCheckIntervalMs: tunable('inventoryCheckIntervalMs', 60 * 60 * 1000),
  /** Versions one ListVersions batch of an inventory run reads from a shard. */
  inventoryListBatch: 1000,
  /** Row bytes one data file holds (CSV before gzip, Parquet before encoding): the file travels
   *  whole with one PutBegin (chunkBytes), so the worker buffers at most this much per run. */
  inventoryDataFileCsvBytesMax: 192 * 1024,

  // ---- block compression (issue 18) ----
  /** zstd level of new compressed block files (1 fastest .. 19; 3 is zstd's own default). */
  blockCompressionZstdLevel: 3,
  /** A block is stored compressed only if zstd saves at least this share of its bytes, in
   *  percent (12.5 = 1/8); less (random or already-compressed data) is stored plain, where a
   *  read costs no decompression. */
  blockCompressionSavedPercentMin: 12.5,

  // ---- cluster metadata store, PostgreSQL (issue 19, engine/meta/pg-kv) ----
  /** A key's encoded bytes at most: LMDB's maximum key size, so both stores refuse alike. */
  pgKvKeyBytesMax: 1978,
  /** Rows one range fetch reads at most (a page; a scan that needs more fetches again). */
  pgKvPageRows: 500,
  /** Runs of one transaction's work at most (each unfetched read costs a run): a work that
   *  keeps reading new keys fails instead of looping. */
  pgKvRunsMax: 2048,
  /** Rows one transaction may fetch in all: its cache is memory. */
  pgKvTxnRowsMax: 200_000,
  /** Attempts of one transaction that PostgreSQL aborts for a serialization failure or a
   *  deadlock (another gateway changed what it read) before it fails. */
  pgKvAttemptsMax: 32,
  /** The random wait before a retried attempt is at most this many ms times the attempt. */
  pgKvRetryBackoffMs: 2,
  /** Opening a connection to PostgreSQL at most. */
  pgKvConnectTimeoutMs: 5000,
  /** One statement's round trip at most (then the connection counts as lost). */
  pgKvQueryTimeoutMs: 30_000,
  /** How long a transaction waits for a Patroni cluster to have a primary again (a failover
   *  takes about one Patroni ttl) before it fails with 503 ServiceUnavailable. */
  pgPrimaryWaitMs: 25_000,
  /** Rows each counter (a bucket's objects and bytes, a partition's block totals) is spread
   *  over in a cluster store, so concurrent writes rarely meet on one row. */
  clusterCounterSlots: 64,
  /** Connections one pool to a partition's PostgreSQL primary keeps at most (a gateway has a
   *  pool per shard, and per edge thread and partition): transactions beyond wait their turn. */
  pgKvPoolConnectionsMax: 4,
  /** Point reads one run of a cluster metadata transaction may guess "not stored" and go on
   *  past, to fetch them all in one round trip; the next miss ends the run. */
  pgKvGuessesMax: 256,
  /** The pause between two searches for the primary (each asks every member). */
  pgPrimaryProbeGapMs: 250,
  /** Connecting to and asking one member whether it is the primary, at most. */
  pgPrimaryProbeTimeoutMs: 2000,
  // ---- cluster mode: the catalog in PostgreSQL, an LMDB replica per gateway (issue 19) ----
  /** How often a gateway reads PostgreSQL's catalog version to re-sync its replica when an etcd
   *  announcement was missed (etcd down, a watch broken): the longest a change (a revoked key)
   *  may go unseen by a gateway that gets no lookup miss. */
  catalogPollIntervalMs: tunable('catalogPollIntervalMs', 5000),
  /** Catalog rows (buckets' aliases, keys, grants, configurations, KMS keys, ...) a re-sync
   *  copies at most: a larger catalog is not re-synced (logged) rather than held in memory. */
  catalogReplicaRowsMax: 100_000,
  /** PostgreSQL connections each catalog handle (the main thread, each edge thread) pools:
   *  catalog writes and catch-ups are rare. */
  catalogPgConnectionsMax: 2,
  // ---- cluster mode: etcd (issue 19, engine/cluster/) ----
  /** TTL of a gateway's etcd lease; a gateway that has not renewed it for this long stops
   *  accepting writes (the split-brain guard) and its member key and leaderships expire. */
  clusterLeaseTtlS: tunable('clusterLeaseTtlS', 10),
  /** Deadline of one unary etcd call (get, put, transaction, lease grant). */
  clusterEtcdCallTimeoutMs: tunable('clusterEtcdCallTimeoutMs', 5000),
  /** Bytes of one layout value read from etcd; more is a corrupt layout, not a buffer to fill. */
  clusterLayoutValueBytesMax: 256 * 1024,
  /** Metadata shards a layout may name, and PostgreSQL targets one shard may list. */
  clusterShardsMax: 1024,
  clusterShardTargetsMax: 16,
  /** Keys one listing of members, buckets or election candidates reads from etcd. */
  clusterListKeysMax: 10_000,
  /** Attempts of one bucket placement transaction before it gives up (each loses only to a
   *  concurrent placement, so a retry sees fresher loads). */
  clusterPlacementAttemptsMax: 64,
  /** Longest random wait before retrying a placement transaction that lost a race. */
  clusterPlacementBackoffMsMax: 100,
  /** Wait between two tries to re-register a gateway that lost its lease. */
  clusterReregisterDelayMs: 500,
  /** Bytes of the file `[cluster] pg_password_file` names (its first line is the password). */
  clusterPasswordFileBytesMax: 4096,
  /** How often the main thread republishes the write gate's deadline to the edge threads
   *  (renewals extend it; a late publication only makes the gate stricter). */
  clusterWriteGatePublishMs: 100,
  /** PostgreSQL connections one edge thread holds at most to one partition (listings, object
   *  facts): edge threads × partitions × this is what a gateway's edges may open. */
  clusterEdgeReadConnectionsMax: tunable('clusterEdgeReadConnectionsMax', 2),
  /** Object records one request reads at once from PostgreSQL for its authorization decisions
   *  (DeleteObjects' keys, cluster mode). */
  clusterFactsReadsInFlightMax: 16,
  /** How often the leader of 'orphan-gc' runs the block GC hook (cluster mode). */
  clusterOrphanGcIntervalMs: tunable('clusterOrphanGcIntervalMs', 10 * 60_000),
  // ---- cluster mode: Ceph RADOS blocks (issue 19) ----
  /** How long librados waits to reach the monitors and authenticate (client_mount_timeout). */
  radosConnectTimeoutMs: tunable('radosConnectTimeoutMs', 30_000),
  /** How long one RADOS operation may wait on the OSDs or monitors before it fails with
   *  ETIMEDOUT (rados_osd_op_timeout, rados_mon_op_timeout; librados' default is forever). */
  radosOpTimeoutMs: tunable('radosOpTimeoutMs', 60_000),
  /** The most bytes one RADOS read asks for: a block (config blockBytes is at most 64 MiB);
   *  the read buffer is native memory allocated before the read. */
  radosReadBytesMax: 64 * 1024 * 1024,
  /** RADOS operations one block store keeps in flight; more wait their turn. Below librados'
   *  own throttle (objecter_inflight_ops 1024, objecter_inflight_op_bytes 100 MiB), so a
   *  queued call never blocks the thread that issues it. */
  radosInFlightMax: tunable('radosInFlightMax', 32),
  /** Cluster block GC (cluster-design §4.4): how long a block row stays at zero references (or
   *  a RADOS object without a row) before the GC may delete its bytes. A gateway's PUT claims a
   *  block (resetting this clock) before writing it and must commit within it. */
  clusterBlockGcGraceMs: tunable('clusterBlockGcGraceMs', 10 * 60_000),
  /** Block rows one GC pass marks dying and deletes (the rest wait for the next pass). */
  clusterBlockGcBatchMax: 1000,
  /** RADOS objects one orphan sweep pass looks at (a namespace is listed from its start). */
  clusterOrphanSweepNamesMax: 100_000,
  /** How long a PUT waits for a dying block row to be deleted before it rewrites the block. */
  clusterBlockDyingWaitMs: 30_000,
  /** Wait between two looks at a dying block row. */
  clusterBlockDyingPollMs: 50,

  // ---- hangar fsck (engine/fsck/) ----
  /** Records one page of a paged table scan reads (engine/meta/scan.ts: fsck, queue counts at
   *  open): a cluster store fetches a page in a couple of round trips and runs its read work
   *  again per fetch, so a whole table in one read would cost runs quadratic in its size (and
   *  exceed pgKvTxnRowsMax). */
  kvScanPageRows: 1000,
  /** Block rows fsck reads again in one read to confirm what a live cluster may have changed
   *  between its metadata scan and its RADOS listing (point reads, fetched in batches). */
  fsckRecheckRowsMax: 200,
  /** RADOS stats (or reads, with --verify) fsck keeps in flight at once. */
  fsckRadosInFlightMax: 16,
} as const;

// Start-up checks that stand in for compile-time assertions.
if (LIMITS.windowBytes < 2 * LIMITS.chunkBytes) throw new Error('windowBytes must hold 2 chunks');
if (LIMITS.accessLogObjectBytesMax > LIMITS.chunkBytes) {
  throw new Error('a log object must travel whole with its PutBegin (chunkBytes)');
}
if (LIMITS.chunkBytes % 4096 !== 0) throw new Error('chunkBytes must be a multiple of 4096');
