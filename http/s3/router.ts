/**
 * The pure S3 request router: method + path + query (+ two headers) → a typed Endpoint.
 * Modelled on Garage's src/api/s3/router.rs: one routing table per method, keyed by the
 * sub-resource keyword found in the query (`?acl`, `?uploads`, ...), with separate targets for
 * bucket-level and object-level requests. It never throws anything but S3Error.
 */

import { LIMITS } from '../../engine/limits.js';
import type { RequestSnapshot } from '../uws/request.js';
import type {
  BucketConfigIdAction,
  BucketConfigListAction,
  EncodingType,
  Endpoint,
  ObjectAnnotationEndpoint,
  PlainBucketAction,
  PlainObjectAction,
  ResponseOverrides,
  VersionedObjectAction,
} from './endpoints.js';
import { S3Error } from './errors.js';
import { checkHeaderValue } from './header-values.js';
import { checkKeyLength } from './object-key.js';
import { parseQuery } from './query.js';

export interface RouterOptions {
  /** Domains under which `<bucket>.<rootDomain>` is virtual-hosted addressing, e.g. s3.example.com. */
  readonly rootDomains: readonly string[];
}

export interface RoutedRequest {
  /** Bucket name as addressed (decoded, not validated); null for service-level requests. */
  bucket: string | null;
  /** Decoded object key; null for bucket- and service-level requests ('/bucket' and '/bucket/'). */
  key: string | null;
  style: 'path' | 'vhost';
  query: Map<string, string>;
  endpoint: Endpoint;
}

/**
 * The sub-resource keywords: query names that select an action. At most one may appear in a
 * request. Other query names (`versionId`, `uploadId`, `partNumber`, `list-type`, `x-id`,
 * `X-Amz-*`, `response-*`, ...) are parameters and never select a table entry by themselves.
 */
export const SUB_RESOURCES = [
  'abac',
  'accelerate',
  'acl',
  'analytics',
  'annotation',
  'attributes',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metadataAnnotationTable',
  'metadataConfiguration',
  'metadataInventoryTable',
  'metadataJournalTable',
  'metadataTable',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'renameObject',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'tagging',
  'torrent',
  'uploads',
  'versioning',
  'versions',
  'website',
] as const;

export type SubResource = (typeof SUB_RESOURCES)[number];

const SUB_RESOURCE_SET: ReadonlySet<string> = new Set(SUB_RESOURCES);

// ---------------------------------------------------------------------------------------------
// Parameter helpers

type Query = ReadonlyMap<string, string>;
type Headers = Readonly<Record<string, string>>;

interface BucketCtx {
  readonly bucket: string;
  readonly q: Query;
  readonly headers: Headers;
}
interface ObjectCtx extends BucketCtx {
  readonly key: string;
}

const INT32_MAX = 2147483647;

function invalidArgument(message: string, name: string, value: string | undefined): S3Error {
  const fields: Record<string, string> = { ArgumentName: name };
  if (value !== undefined) fields.ArgumentValue = value;
  return new S3Error('InvalidArgument', message, fields);
}

/** `{ [field]: value }` when the query has `name`, else `{}` (for exactOptionalPropertyTypes). */
function str<F extends string>(q: Query, name: string, field: F): { [P in F]?: string } {
  const v = q.get(name);
  return (v === undefined ? {} : { [field]: v }) as { [P in F]?: string };
}

function required(q: Query, name: string): string {
  const v = q.get(name);
  if (v === undefined) {
    throw invalidArgument(`Missing required parameter: ${name}`, name, undefined);
  }
  return v;
}

function intValue(name: string, raw: string, min: number, max: number): number {
  if (!/^[0-9]{1,15}$/.test(raw) || Number(raw) > INT32_MAX) {
    throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, raw);
  }
  const n = Number(raw);
  if (n < min || n > max) {
    throw invalidArgument(
      `Argument ${name} must be an integer between ${min} and ${max}`,
      name,
      raw,
    );
  }
  return n;
}

function int<F extends string>(
  q: Query,
  name: string,
  field: F,
  min = 0,
  max = INT32_MAX,
): { [P in F]?: number } {
  const raw = q.get(name);
  return (raw === undefined ? {} : { [field]: intValue(name, raw, min, max) }) as {
    [P in F]?: number;
  };
}

const PART_NUMBER_MESSAGE = `Part number must be an integer between 1 and ${LIMITS.multipartPartNumberMax}, inclusive`;

function partNumberValue(raw: string): number {
  if (!/^[0-9]{1,5}$/.test(raw)) throw invalidArgument(PART_NUMBER_MESSAGE, 'partNumber', raw);
  const n = Number(raw);
  if (n < 1 || n > LIMITS.multipartPartNumberMax)
    throw invalidArgument(PART_NUMBER_MESSAGE, 'partNumber', raw);
  return n;
}

function encodingType(q: Query): { encodingType?: EncodingType } {
  const raw = q.get('encoding-type');
  if (raw === undefined) return {};
  if (raw.toLowerCase() !== 'url') {
    throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', raw);
  }
  return { encodingType: 'url' };
}

function fetchOwner(q: Query): { fetchOwner?: boolean } {
  const raw = q.get('fetch-owner');
  if (raw === undefined) return {};
  const lower = raw.toLowerCase();
  if (lower === 'true') return { fetchOwner: true };
  if (lower === 'false') return { fetchOwner: false };
  throw invalidArgument('Invalid fetch-owner value, expected true or false', 'fetch-owner', raw);
}

/** A listing's `prefix`: no key is longer than 1024 bytes, and a longer one would reach LMDB. */
function keyPrefix(q: Query): { prefix?: string } {
  const prefix = q.get('prefix');
  if (prefix !== undefined) checkKeyLength(prefix);
  return prefix === undefined ? {} : { prefix };
}

/** The `response-*` parameters; each becomes a response header, so each must be a safe value. */
function responseOverrides(q: Query): ResponseOverrides {
  for (const [name, value] of q) if (name.startsWith('response-')) checkHeaderValue(name, value);
  return {
    ...str(q, 'response-cache-control', 'cacheControl'),
    ...str(q, 'response-content-disposition', 'contentDisposition'),
    ...str(q, 'response-content-encoding', 'contentEncoding'),
    ...str(q, 'response-content-language', 'contentLanguage'),
    ...str(q, 'response-content-type', 'contentType'),
    ...str(q, 'response-expires', 'expires'),
  };
}

// ---------------------------------------------------------------------------------------------
// Endpoint builders

type BucketBuilder = (c: BucketCtx) => Endpoint;
type ObjectBuilder = (c: ObjectCtx) => Endpoint;

const bucketOp =
  (action: PlainBucketAction): BucketBuilder =>
  (c) => ({ action, bucket: c.bucket });

const configId =
  (action: BucketConfigIdAction): BucketBuilder =>
  (c) => ({ action, bucket: c.bucket, id: required(c.q, 'id') });

const configList =
  (action: BucketConfigListAction): BucketBuilder =>
  (c) => ({ action, bucket: c.bucket, ...str(c.q, 'continuation-token', 'continuationToken') });

/** GET with `id` → the Get…Configuration action, without → List…Configurations. */
const configGetOrList =
  (get: BucketConfigIdAction, list: BucketConfigListAction): BucketBuilder =>
  (c) =>
    c.q.has('id') ? configId(get)(c) : configList(list)(c);

const objectOp =
  (action: PlainObjectAction): ObjectBuilder =>
  (c) => ({ action, bucket: c.bucket, key: c.key });

const versioned =
  (action: VersionedObjectAction): ObjectBuilder =>
  (c) => ({ action, bucket: c.bucket, key: c.key, ...str(c.q, 'versionId', 'versionId') });

const annotation =
  (action: ObjectAnnotationEndpoint['action']): ObjectBuilder =>
  (c) => ({
    action,
    bucket: c.bucket,
    key: c.key,
    annotationName: required(c.q, 'annotationName'),
    ...str(c.q, 'versionId', 'versionId'),
  });

const getAnnotationOrList: ObjectBuilder = (c) =>
  c.q.has('annotationName')
    ? annotation('GetObjectAnnotation')(c)
    : {
        action: 'ListObjectAnnotations',
        bucket: c.bucket,
        key: c.key,
        ...str(c.q, 'versionId', 'versionId'),
        ...int(c.q, 'max-annotation-results', 'maxAnnotationResults'),
        ...str(c.q, 'annotation-prefix', 'annotationPrefix'),
        ...str(c.q, 'continuation-token', 'continuationToken'),
      };

const listObjects: BucketBuilder = (c) => {
  const q = c.q;
  const listType = q.get('list-type');
  if (listType === undefined) {
    return {
      action: 'ListObjects',
      bucket: c.bucket,
      ...str(q, 'delimiter', 'delimiter'),
      ...encodingType(q),
      ...str(q, 'marker', 'marker'),
      ...int(q, 'max-keys', 'maxKeys'),
      ...keyPrefix(q),
    };
  }
  if (listType !== '2') {
    throw invalidArgument('Invalid List Type specified in Request', 'list-type', listType);
  }
  return {
    action: 'ListObjectsV2',
    bucket: c.bucket,
    ...str(q, 'continuation-token', 'continuationToken'),
    ...str(q, 'delimiter', 'delimiter'),
    ...encodingType(q),
    ...fetchOwner(q),
    ...int(q, 'max-keys', 'maxKeys'),
    ...keyPrefix(q),
    ...str(q, 'start-after', 'startAfter'),
  };
};

const listObjectVersions: BucketBuilder = (c) => ({
  action: 'ListObjectVersions',
  bucket: c.bucket,
  ...str(c.q, 'delimiter', 'delimiter'),
  ...encodingType(c.q),
  ...str(c.q, 'key-marker', 'keyMarker'),
  ...int(c.q, 'max-keys', 'maxKeys'),
  ...keyPrefix(c.q),
  ...str(c.q, 'version-id-marker', 'versionIdMarker'),
});

const listMultipartUploads: BucketBuilder = (c) => ({
  action: 'ListMultipartUploads',
  bucket: c.bucket,
  ...str(c.q, 'delimiter', 'delimiter'),
  ...encodingType(c.q),
  ...str(c.q, 'key-marker', 'keyMarker'),
  ...int(c.q, 'max-uploads', 'maxUploads'),
  ...keyPrefix(c.q),
  ...str(c.q, 'upload-id-marker', 'uploadIdMarker'),
});

const getOrHeadObject =
  (action: 'GetObject' | 'HeadObject'): ObjectBuilder =>
  (c) => {
    const part = c.q.get('partNumber');
    return {
      action,
      bucket: c.bucket,
      key: c.key,
      ...str(c.q, 'versionId', 'versionId'),
      ...(part === undefined ? {} : { partNumber: partNumberValue(part) }),
      responseOverrides: responseOverrides(c.q),
    };
  };

const selectObjectContent: ObjectBuilder = (c) => {
  const selectType = c.q.get('select-type');
  if (selectType !== '2') {
    throw invalidArgument('select-type must be 2', 'select-type', selectType);
  }
  return { action: 'SelectObjectContent', bucket: c.bucket, key: c.key, selectType };
};

const uploadIdOp =
  (action: 'CompleteMultipartUpload' | 'AbortMultipartUpload'): ObjectBuilder =>
  (c) => ({ action, bucket: c.bucket, key: c.key, uploadId: required(c.q, 'uploadId') });

// ---------------------------------------------------------------------------------------------
// The keyword tables, one per method

interface Targets {
  readonly bucket?: BucketBuilder;
  readonly object?: ObjectBuilder;
}
type KeywordTable = Readonly<Partial<Record<SubResource, Targets>>>;

const GET_ROUTES: KeywordTable = {
  abac: { bucket: bucketOp('GetBucketAbac') },
  accelerate: { bucket: bucketOp('GetBucketAccelerateConfiguration') },
  acl: { bucket: bucketOp('GetBucketAcl'), object: versioned('GetObjectAcl') },
  analytics: {
    bucket: configGetOrList('GetBucketAnalyticsConfiguration', 'ListBucketAnalyticsConfigurations'),
  },
  annotation: { object: getAnnotationOrList },
  attributes: { object: versioned('GetObjectAttributes') },
  cors: { bucket: bucketOp('GetBucketCors') },
  encryption: { bucket: bucketOp('GetBucketEncryption') },
  'intelligent-tiering': {
    bucket: configGetOrList(
      'GetBucketIntelligentTieringConfiguration',
      'ListBucketIntelligentTieringConfigurations',
    ),
  },
  inventory: {
    bucket: configGetOrList('GetBucketInventoryConfiguration', 'ListBucketInventoryConfigurations'),
  },
  'legal-hold': { object: versioned('GetObjectLegalHold') },
  lifecycle: { bucket: bucketOp('GetBucketLifecycleConfiguration') },
  location: { bucket: bucketOp('GetBucketLocation') },
  logging: { bucket: bucketOp('GetBucketLogging') },
  metadataConfiguration: { bucket: bucketOp('GetBucketMetadataConfiguration') },
  metadataTable: { bucket: bucketOp('GetBucketMetadataTableConfiguration') },
  metrics: {
    bucket: configGetOrList('GetBucketMetricsConfiguration', 'ListBucketMetricsConfigurations'),
  },
  notification: { bucket: bucketOp('GetBucketNotificationConfiguration') },
  'object-lock': { bucket: bucketOp('GetObjectLockConfiguration') },
  ownershipControls: { bucket: bucketOp('GetBucketOwnershipControls') },
  policy: { bucket: bucketOp('GetBucketPolicy') },
  policyStatus: { bucket: bucketOp('GetBucketPolicyStatus') },
  publicAccessBlock: { bucket: bucketOp('GetPublicAccessBlock') },
  replication: { bucket: bucketOp('GetBucketReplication') },
  requestPayment: { bucket: bucketOp('GetBucketRequestPayment') },
  retention: { object: versioned('GetObjectRetention') },
  session: { bucket: bucketOp('CreateSession') },
  tagging: { bucket: bucketOp('GetBucketTagging'), object: versioned('GetObjectTagging') },
  torrent: { object: versioned('GetObjectTorrent') },
  uploads: { bucket: listMultipartUploads },
  versioning: { bucket: bucketOp('GetBucketVersioning') },
  versions: { bucket: listObjectVersions },
  website: { bucket: bucketOp('GetBucketWebsite') },
};

const PUT_ROUTES: KeywordTable = {
  abac: { bucket: bucketOp('PutBucketAbac') },
  accelerate: { bucket: bucketOp('PutBucketAccelerateConfiguration') },
  acl: { bucket: bucketOp('PutBucketAcl'), object: versioned('PutObjectAcl') },
  analytics: { bucket: configId('PutBucketAnalyticsConfiguration') },
  annotation: { object: annotation('PutObjectAnnotation') },
  cors: { bucket: bucketOp('PutBucketCors') },
  encryption: {
    bucket: bucketOp('PutBucketEncryption'),
    object: versioned('UpdateObjectEncryption'),
  },
  'intelligent-tiering': { bucket: configId('PutBucketIntelligentTieringConfiguration') },
  inventory: { bucket: configId('PutBucketInventoryConfiguration') },
  'legal-hold': { object: versioned('PutObjectLegalHold') },
  lifecycle: { bucket: bucketOp('PutBucketLifecycleConfiguration') },
  logging: { bucket: bucketOp('PutBucketLogging') },
  metadataAnnotationTable: { bucket: bucketOp('UpdateBucketMetadataAnnotationTableConfiguration') },
  metadataInventoryTable: { bucket: bucketOp('UpdateBucketMetadataInventoryTableConfiguration') },
  metadataJournalTable: { bucket: bucketOp('UpdateBucketMetadataJournalTableConfiguration') },
  metrics: { bucket: configId('PutBucketMetricsConfiguration') },
  notification: { bucket: bucketOp('PutBucketNotificationConfiguration') },
  'object-lock': { bucket: bucketOp('PutObjectLockConfiguration') },
  ownershipControls: { bucket: bucketOp('PutBucketOwnershipControls') },
  policy: { bucket: bucketOp('PutBucketPolicy') },
  publicAccessBlock: { bucket: bucketOp('PutPublicAccessBlock') },
  renameObject: { object: objectOp('RenameObject') },
  replication: { bucket: bucketOp('PutBucketReplication') },
  requestPayment: { bucket: bucketOp('PutBucketRequestPayment') },
  retention: { object: versioned('PutObjectRetention') },
  tagging: { bucket: bucketOp('PutBucketTagging'), object: versioned('PutObjectTagging') },
  versioning: { bucket: bucketOp('PutBucketVersioning') },
  website: { bucket: bucketOp('PutBucketWebsite') },
};

const POST_ROUTES: KeywordTable = {
  delete: { bucket: bucketOp('DeleteObjects') },
  metadataConfiguration: { bucket: bucketOp('CreateBucketMetadataConfiguration') },
  metadataTable: { bucket: bucketOp('CreateBucketMetadataTableConfiguration') },
  restore: { object: versioned('RestoreObject') },
  select: { object: selectObjectContent },
  uploads: { object: objectOp('CreateMultipartUpload') },
};

const DELETE_ROUTES: KeywordTable = {
  analytics: { bucket: configId('DeleteBucketAnalyticsConfiguration') },
  annotation: { object: annotation('DeleteObjectAnnotation') },
  cors: { bucket: bucketOp('DeleteBucketCors') },
  encryption: { bucket: bucketOp('DeleteBucketEncryption') },
  'intelligent-tiering': { bucket: configId('DeleteBucketIntelligentTieringConfiguration') },
  inventory: { bucket: configId('DeleteBucketInventoryConfiguration') },
  lifecycle: { bucket: bucketOp('DeleteBucketLifecycle') },
  metadataConfiguration: { bucket: bucketOp('DeleteBucketMetadataConfiguration') },
  metadataTable: { bucket: bucketOp('DeleteBucketMetadataTableConfiguration') },
  metrics: { bucket: configId('DeleteBucketMetricsConfiguration') },
  ownershipControls: { bucket: bucketOp('DeleteBucketOwnershipControls') },
  policy: { bucket: bucketOp('DeleteBucketPolicy') },
  publicAccessBlock: { bucket: bucketOp('DeletePublicAccessBlock') },
  replication: { bucket: bucketOp('DeleteBucketReplication') },
  tagging: { bucket: bucketOp('DeleteBucketTagging'), object: versioned('DeleteObjectTagging') },
  website: { bucket: bucketOp('DeleteBucketWebsite') },
};

const HEAD_ROUTES: KeywordTable = {};

/** The no-keyword routes, which also look at uploadId / partNumber / list-type / headers. */
interface EmptyRoutes {
  readonly bucket: BucketBuilder;
  /** Returns null when the request names no action (e.g. POST on an object without uploadId). */
  readonly object: (c: ObjectCtx) => Endpoint | null;
}

const GET_EMPTY: EmptyRoutes = {
  bucket: listObjects,
  object: (c) =>
    c.q.has('uploadId')
      ? {
          action: 'ListParts',
          bucket: c.bucket,
          key: c.key,
          uploadId: required(c.q, 'uploadId'),
          ...int(c.q, 'max-parts', 'maxParts'),
          ...int(c.q, 'part-number-marker', 'partNumberMarker'),
        }
      : getOrHeadObject('GetObject')(c),
};

const HEAD_EMPTY: EmptyRoutes = {
  bucket: bucketOp('HeadBucket'),
  object: getOrHeadObject('HeadObject'),
};

const PUT_EMPTY: EmptyRoutes = {
  bucket: bucketOp('CreateBucket'),
  object: (c) => {
    const copy = c.headers['x-amz-copy-source'] !== undefined;
    if (c.q.has('partNumber') || c.q.has('uploadId')) {
      return {
        action: copy ? 'UploadPartCopy' : 'UploadPart',
        bucket: c.bucket,
        key: c.key,
        partNumber: partNumberValue(required(c.q, 'partNumber')),
        uploadId: required(c.q, 'uploadId'),
      };
    }
    return objectOp(copy ? 'CopyObject' : 'PutObject')(c);
  },
};

const POST_EMPTY: EmptyRoutes = {
  bucket: bucketOp('PostObject'),
  object: (c) => (c.q.has('uploadId') ? uploadIdOp('CompleteMultipartUpload')(c) : null),
};

const DELETE_EMPTY: EmptyRoutes = {
  bucket: bucketOp('DeleteBucket'),
  object: (c) =>
    c.q.has('uploadId') ? uploadIdOp('AbortMultipartUpload')(c) : versioned('DeleteObject')(c),
};

// ---------------------------------------------------------------------------------------------
// Dispatch

function methodNotAllowed(method: string, resourceType: 'SERVICE' | 'BUCKET' | 'OBJECT'): S3Error {
  const fields: Record<string, string> = { ResourceType: resourceType };
  if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/.test(method)) fields.Method = method;
  return new S3Error('MethodNotAllowed', undefined, fields);
}

/** The one sub-resource keyword of the query, '' when none; two or more is an error. */
function keywordOf(q: Query): SubResource | '' {
  let found: SubResource | '' = '';
  for (const name of q.keys()) {
    if (!SUB_RESOURCE_SET.has(name)) continue;
    if (found !== '') {
      throw invalidArgument(
        `Conflicting query string parameters: ${found}, ${name}`,
        name,
        undefined,
      );
    }
    found = name as SubResource;
  }
  return found;
}

function dispatch(
  method: string,
  table: KeywordTable,
  empty: EmptyRoutes,
  bucket: string,
  key: string | null,
  q: Query,
  headers: Headers,
): Endpoint {
  const keyword = keywordOf(q);
  if (key === null) {
    const build = keyword === '' ? empty.bucket : table[keyword]?.bucket;
    if (!build) throw methodNotAllowed(method, 'BUCKET');
    return build({ bucket, q, headers });
  }
  const build = keyword === '' ? empty.object : table[keyword]?.object;
  const endpoint = build?.({ bucket, key, q, headers });
  if (!endpoint) throw methodNotAllowed(method, 'OBJECT');
  return endpoint;
}

export function routeGet(bucket: string, key: string | null, q: Query, h: Headers): Endpoint {
  return dispatch('GET', GET_ROUTES, GET_EMPTY, bucket, key, q, h);
}
export function routeHead(bucket: string, key: string | null, q: Query, h: Headers): Endpoint {
  return dispatch('HEAD', HEAD_ROUTES, HEAD_EMPTY, bucket, key, q, h);
}
export function routePut(bucket: string, key: string | null, q: Query, h: Headers): Endpoint {
  return dispatch('PUT', PUT_ROUTES, PUT_EMPTY, bucket, key, q, h);
}
export function routePost(bucket: string, key: string | null, q: Query, h: Headers): Endpoint {
  return dispatch('POST', POST_ROUTES, POST_EMPTY, bucket, key, q, h);
}
export function routeDelete(bucket: string, key: string | null, q: Query, h: Headers): Endpoint {
  return dispatch('DELETE', DELETE_ROUTES, DELETE_EMPTY, bucket, key, q, h);
}

function routeService(method: string, q: Query): Endpoint {
  if (method !== 'GET') throw methodNotAllowed(method, 'SERVICE');
  if (q.get('x-id') === 'ListDirectoryBuckets' || q.has('max-directory-buckets')) {
    return {
      action: 'ListDirectoryBuckets',
      ...str(q, 'continuation-token', 'continuationToken'),
      ...int(q, 'max-directory-buckets', 'maxDirectoryBuckets', 0, 1000),
    };
  }
  return {
    action: 'ListBuckets',
    ...int(q, 'max-buckets', 'maxBuckets', 1, LIMITS.listBucketsMax),
    ...str(q, 'continuation-token', 'continuationToken'),
    ...str(q, 'prefix', 'prefix'),
    ...str(q, 'bucket-region', 'bucketRegion'),
  };
}

// ---------------------------------------------------------------------------------------------
// Addressing

const normalizedRoots = new WeakMap<readonly string[], readonly string[]>();

function rootsOf(rootDomains: readonly string[]): readonly string[] {
  let roots = normalizedRoots.get(rootDomains);
  if (roots === undefined) {
    roots = rootDomains
      .map((d) => d.trim().toLowerCase().replace(/^\.+/, '').replace(/\.+$/, ''))
      .filter((d) => d !== '')
      .sort((a, b) => b.length - a.length); // longest first: the most specific root wins
    normalizedRoots.set(rootDomains, roots);
  }
  return roots;
}

/** The bucket named by a virtual-hosted Host header, or null for path-style addressing. */
export function vhostBucket(
  host: string | undefined,
  rootDomains: readonly string[],
): string | null {
  if (host === undefined || host === '') return null;
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) return null; // IPv6 literal
  const colon = h.lastIndexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  for (const root of rootsOf(rootDomains)) {
    if (h.length > root.length + 1 && h.endsWith(root) && h[h.length - root.length - 1] === '.') {
      return h.slice(0, h.length - root.length - 1);
    }
  }
  return null;
}

/** Percent-decodes a path component ('+' stays '+'); malformed input or bad UTF-8 → InvalidURI. */
function decodePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

function addressing(
  req: RequestSnapshot,
  opts: RouterOptions,
): { bucket: string | null; key: string | null; style: 'path' | 'vhost' } {
  const rawPath = req.rawPath;
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI');
  const hostBucket = vhostBucket(req.headers.host, opts.rootDomains);
  if (hostBucket !== null) {
    const key = decodePath(rawPath.slice(1));
    return { bucket: hostBucket, key: key === '' ? null : key, style: 'vhost' };
  }
  const rest = rawPath.slice(1);
  if (rest === '') return { bucket: null, key: null, style: 'path' };
  const slash = rest.indexOf('/');
  const rawBucket = slash === -1 ? rest : rest.slice(0, slash);
  if (rawBucket === '') throw new S3Error('InvalidURI');
  const bucket = decodePath(rawBucket);
  const key = slash === -1 ? '' : decodePath(rest.slice(slash + 1));
  return { bucket, key: key === '' ? null : key, style: 'path' };
}

// ---------------------------------------------------------------------------------------------

/**
 * Routes a request to its endpoint. Pure; throws only S3Error: InvalidURI (undecodable path),
 * InvalidArgument (bad query encoding or parameter), MethodNotAllowed (no such action).
 */
export function routeRequest(req: RequestSnapshot, opts: RouterOptions): RoutedRequest {
  const { bucket, key, style } = addressing(req, opts);
  if (key !== null) checkKeyLength(key);
  const query = parseQuery(req.rawQuery);
  const method = req.method;
  const headers = req.headers;

  let endpoint: Endpoint;
  if (method === 'OPTIONS') {
    endpoint = { action: 'PreflightRequest', bucket, key };
  } else if (
    method === 'POST' &&
    req.rawPath === '/WriteGetObjectResponse' &&
    headers['x-amz-request-route'] !== undefined
  ) {
    const token = headers['x-amz-request-token'];
    endpoint = {
      action: 'WriteGetObjectResponse',
      requestRoute: headers['x-amz-request-route'],
      ...(token === undefined ? {} : { requestToken: token }),
    };
    return { bucket: null, key: null, style, query, endpoint };
  } else if (bucket === null) {
    endpoint = routeService(method, query);
  } else {
    switch (method) {
      case 'GET':
        endpoint = routeGet(bucket, key, query, headers);
        break;
      case 'HEAD':
        endpoint = routeHead(bucket, key, query, headers);
        break;
      case 'PUT':
        endpoint = routePut(bucket, key, query, headers);
        break;
      case 'POST':
        endpoint = routePost(bucket, key, query, headers);
        break;
      case 'DELETE':
        endpoint = routeDelete(bucket, key, query, headers);
        break;
      default:
        throw methodNotAllowed(method, key === null ? 'BUCKET' : 'OBJECT');
    }
  }
  return { bucket, key, style, query, endpoint };
}
