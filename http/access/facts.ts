import type { PrefetchedObjects } from './object-facts.js';
/**
 * What a policy condition may ask of a request (aws:SourceIp, aws:SecureTransport, s3:prefix,
 * s3:x-amz-acl, s3:ExistingObjectTag/<key>, ...), captured by the edge for the one decision.
 * Everything costly is lazy: a request on a bucket without a policy never computes it.
 */
export interface RequestFacts {
  /** The peer's address as uWS gives it (dotted IPv4, or IPv6 text). */
  readonly sourceIp: () => string;
  /** TLS to hangar itself, or a proxy in front saying so (X-Forwarded-Proto: https). */
  readonly secureTransport: boolean;
  readonly nowMs: number;
  /** s3:signatureversion: "AWS" (V2), "AWS4-HMAC-SHA256" (V4); null when anonymous. */
  readonly signatureVersion: 'AWS' | 'AWS4-HMAC-SHA256' | null;
  /** s3:authType: how the request was signed; null when anonymous. */
  readonly authType: 'REST-HEADER' | 'REST-QUERY-STRING' | 'POST' | null;
  /** Request headers, names lower-cased (s3:x-amz-acl, s3:x-amz-server-side-encryption, ...). */
  readonly headers: Readonly<Record<string, string>>;
  /** Decoded query parameters (s3:prefix, s3:delimiter, s3:max-keys). */
  readonly query: ReadonlyMap<string, string>;
  /** s3:VersionId: the version the request names, if any. */
  readonly versionId?: string;
  /**
   * s3:ExistingObjectTag/<key>: the tags of the object the request targets (undefined: no such
   * object). Read from the edge's view of the shard on first use.
   */
  readonly existingObjectTags?: () => ReadonlyMap<string, string> | undefined;
  /**
   * Cluster mode: the object records this request's decisions may look at, read before them
   * (http/access/object-facts.ts prefetchObjectFacts); decisions are synchronous, PostgreSQL
   * is not. Absent in embedded mode (they read LMDB when they need to).
   */
  readonly prefetched?: PrefetchedObjects;
}
