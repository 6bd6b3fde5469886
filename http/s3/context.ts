import type { BucketAccess } from '../../engine/catalog/access.js';
import type { BucketRecord, Catalog, KeyRecord } from '../../engine/catalog/catalog.js';
import type { WriteGate } from '../../engine/cluster/write-gate.js';
import type { HangarConfig } from '../../engine/config.js';
import type { Logger } from '../../engine/log.js';
import type { ObjectReader } from '../../engine/meta/object-reader.js';
import { shardOf } from '../../engine/pool/placement.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import type { ShardClients } from '../../engine/pool/shard-clients.js';
import type { BufferPool } from '../../engine/protocol/flow.js';
import { bucketAccessOf } from '../access/access-record.js';
import type { RequestFacts } from '../access/facts.js';
import type { Principal } from '../access/principal.js';
import type { AccessLog } from '../access-log/access-log.js';
import type { AuthResult, PayloadMode } from '../sigv4/verify.js';
import type { IncomingBody } from '../uws/incoming-body.js';
import type { RequestSnapshot } from '../uws/request.js';
import type { Responder } from '../uws/response.js';
import type { AuthorizedObject } from './auth.js';
import { S3Error } from './errors.js';
import type { RoutedRequest } from './router.js';

/** What lives as long as the server: configuration, the catalog, the shard actors. */
export interface ServerState {
  readonly config: HangarConfig;
  readonly catalog: Catalog;
  /** This thread's handles on the shards (an edge thread's lanes, or the main thread's pool). */
  readonly pool: ShardClients;
  readonly logger: Logger;
  readonly buffers: BufferPool;
  /**
   * Edge threads: a read-only view of each shard's objects (by shard id), for HEAD and inline
   * GETs without a shard round trip (engine/meta/object-reader.ts). Absent on the main thread.
   */
  readonly readers?: readonly ObjectReader[];
  /** Edge threads of a gateway in cluster mode: S3 writes wait for it (http/s3/write-gate.ts). */
  readonly writeGate?: WriteGate;
  /** Edge threads: server access logging's spool and delivery (http/access-log/). */
  accessLog?: AccessLog;
}

/**
 * One authenticated S3 request, captured before the first await (uWS's HttpRequest dies with
 * the route callback). Handlers get this and nothing else.
 */
export interface RequestContext {
  readonly state: ServerState;
  readonly req: RequestSnapshot;
  readonly routed: RoutedRequest;
  readonly res: Responder;
  readonly body: IncomingBody;
  /** The signature's verdict; null for an anonymous request. */
  readonly auth: AuthResult | null;
  /** How the body is protected: the signature's mode, or what an anonymous request declares. */
  readonly payload: PayloadMode;
  /** The signing key; null for an anonymous request. */
  readonly key: KeyRecord | null;
  readonly principal: Principal;
  /** What the authorization decision may ask of this request (policy conditions). */
  readonly facts: RequestFacts;
  readonly requestId: string;
  /** The bucket authorization read for this request (null: none), for requireBucket. */
  readonly bucket?: BucketRecord | null;
  /** That bucket's access record (ACL, policy, public access block, ownership). */
  readonly access?: BucketAccess | null;
  /** The object record authorization read for the decision, if it read one (auth.ts). */
  readonly authorizedObject?: AuthorizedObject | null;
}

/** The shard that owns `key` of `bucket`. */
export function shardFor(state: ServerState, bucket: BucketRecord, key: string): ShardClient {
  return state.pool.client(shardOf(bucket.id, key, state.pool.size));
}

/**
 * The request's own bucket record when `bucketId` is its id (configurations are then read from
 * the thread's cache, Catalog.getBucketConfig), else the id (read from the catalog).
 */
export function bucketRef(ctx: RequestContext, bucketId: string): BucketRecord | string {
  return ctx.bucket?.id === bucketId ? ctx.bucket : bucketId;
}

/** The access record the request's authorization read (or, for a second bucket, its own). */
export function accessOf(ctx: RequestContext, bucket: BucketRecord): BucketAccess {
  return ctx.bucket?.id === bucket.id && ctx.access != null
    ? ctx.access
    : bucketAccessOf(ctx.state.catalog, bucket);
}

/**
 * A second bucket a request names (a copy's source): as requireBucket, but in cluster mode a name
 * this gateway's replica does not know yet is first looked for in PostgreSQL (Catalog.catchUp).
 */
export async function requireOtherBucket(ctx: RequestContext, name: string): Promise<BucketRecord> {
  const catalog = ctx.state.catalog;
  if (catalog.replicated && ctx.bucket?.name !== name && catalog.getBucket(name) === undefined) {
    await catalog.catchUp();
  }
  return requireBucket(ctx, name);
}

/** The bucket a request names; NoSuchBucket if it does not exist. */
export function requireBucket(ctx: RequestContext, name: string): BucketRecord {
  const bucket = ctx.bucket?.name === name ? ctx.bucket : ctx.state.catalog.getBucket(name);
  if (bucket === undefined) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
  return bucket;
}
