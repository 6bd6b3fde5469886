import test from 'ava';
import {
  authorizationOf,
  type Endpoint,
  endpointBucket,
  endpointKey,
  endpointName,
  S3_ACTIONS,
  type S3Action,
} from '../../http/s3/endpoints.js';
import { S3Error } from '../../http/s3/errors.js';
import { parseQuery } from '../../http/s3/query.js';
import { type RoutedRequest, routeRequest } from '../../http/s3/router.js';
import type { RequestSnapshot } from '../../http/uws/request.js';

const ROOTS = ['s3.example.com', 'localhost', 's3.eu-west-1.internal.test'] as const;
const OPTS = { rootDomains: ROOTS };

function snapshot(
  method: string,
  target: string,
  headers: Record<string, string> = {},
): RequestSnapshot {
  const q = target.indexOf('?');
  return {
    method,
    rawPath: q === -1 ? target : target.slice(0, q),
    rawQuery: q === -1 ? '' : target.slice(q + 1),
    headers: { host: '127.0.0.1:3900', ...headers },
  };
}

function route(method: string, target: string, headers: Record<string, string> = {}) {
  return routeRequest(snapshot(method, target, headers), OPTS);
}

function routeError(method: string, target: string, headers: Record<string, string> = {}) {
  try {
    const r = route(method, target, headers);
    throw new Error(`expected an S3Error for ${method} ${target}, got ${r.endpoint.action}`);
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Request lines from the AWS S3 API reference (request syntax and examples), bucket-relative.
// Every one is routed path-style (/my-bucket + line) and virtual-hosted (my-bucket.s3.example.com).

const COPY = { 'x-amz-copy-source': '/source-bucket/source-key' };

type Case = readonly [
  method: string,
  line: string,
  action: S3Action,
  headers?: Record<string, string>,
];

const AWS_DOC_EXAMPLES: readonly Case[] = [
  [
    'DELETE',
    '/example-object?uploadId=VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZ',
    'AbortMultipartUpload',
  ],
  ['DELETE', '/Key+?uploadId=UploadId', 'AbortMultipartUpload'],
  [
    'POST',
    '/example-object?uploadId=AAAsb2FkIElEIGZvciBlbHZpbmcncyWeeS1tb3ZpZS5tMnRzIRRwbG9hZA',
    'CompleteMultipartUpload',
  ],
  ['POST', '/Key+?uploadId=UploadId', 'CompleteMultipartUpload'],
  ['PUT', '/my-second-image.jpg', 'CopyObject', COPY],
  ['PUT', '/{Key+}?x-id=CopyObject', 'CopyObject', COPY],
  ['PUT', '/', 'CreateBucket'],
  ['POST', '/?metadataConfiguration', 'CreateBucketMetadataConfiguration'],
  ['POST', '/?metadataTable', 'CreateBucketMetadataTableConfiguration'],
  ['POST', '/example-object?uploads', 'CreateMultipartUpload'],
  ['POST', '/{Key+}?uploads', 'CreateMultipartUpload'],
  ['GET', '/?session', 'CreateSession'],
  ['DELETE', '/', 'DeleteBucket'],
  ['DELETE', '/?analytics&id=list1', 'DeleteBucketAnalyticsConfiguration'],
  ['DELETE', '/?cors', 'DeleteBucketCors'],
  ['DELETE', '/?encryption', 'DeleteBucketEncryption'],
  ['DELETE', '/?intelligent-tiering&id=Id', 'DeleteBucketIntelligentTieringConfiguration'],
  ['DELETE', '/?inventory&id=list1', 'DeleteBucketInventoryConfiguration'],
  ['DELETE', '/?lifecycle', 'DeleteBucketLifecycle'],
  ['DELETE', '/?metadataConfiguration', 'DeleteBucketMetadataConfiguration'],
  ['DELETE', '/?metadataTable', 'DeleteBucketMetadataTableConfiguration'],
  ['DELETE', '/?metrics&id=ExampleMetrics', 'DeleteBucketMetricsConfiguration'],
  ['DELETE', '/?ownershipControls', 'DeleteBucketOwnershipControls'],
  ['DELETE', '/?policy', 'DeleteBucketPolicy'],
  ['DELETE', '/?replication', 'DeleteBucketReplication'],
  ['DELETE', '/?tagging', 'DeleteBucketTagging'],
  ['DELETE', '/?website', 'DeleteBucketWebsite'],
  ['DELETE', '/my-second-image.jpg', 'DeleteObject'],
  [
    'DELETE',
    '/my-third-image.jpg?versionId=UIORUnfndfiufdisojhr398493jfdkjFJjkndnqUifhnw89493jJFJ',
    'DeleteObject',
  ],
  [
    'DELETE',
    '/{Key+}?annotation&annotationName=AnnotationName&versionId=VersionId',
    'DeleteObjectAnnotation',
  ],
  ['POST', '/?delete', 'DeleteObjects'],
  ['DELETE', '/exampleobject?tagging', 'DeleteObjectTagging'],
  ['DELETE', '/{Key+}?tagging&versionId=VersionId', 'DeleteObjectTagging'],
  ['DELETE', '/?publicAccessBlock', 'DeletePublicAccessBlock'],
  ['GET', '/?abac', 'GetBucketAbac'],
  ['GET', '/?accelerate', 'GetBucketAccelerateConfiguration'],
  ['GET', '/?acl', 'GetBucketAcl'],
  ['GET', '/?analytics&id=Id', 'GetBucketAnalyticsConfiguration'],
  [
    'GET',
    '/?analytics&x-id=GetBucketAnalyticsConfiguration&id=report1',
    'GetBucketAnalyticsConfiguration',
  ],
  ['GET', '/?cors', 'GetBucketCors'],
  ['GET', '/?encryption', 'GetBucketEncryption'],
  ['GET', '/?intelligent-tiering&id=Id', 'GetBucketIntelligentTieringConfiguration'],
  ['GET', '/?inventory&id=list1', 'GetBucketInventoryConfiguration'],
  ['GET', '/?lifecycle', 'GetBucketLifecycleConfiguration'],
  ['GET', '/?location', 'GetBucketLocation'],
  ['GET', '/?logging', 'GetBucketLogging'],
  ['GET', '/?metadataConfiguration', 'GetBucketMetadataConfiguration'],
  ['GET', '/?metadataTable', 'GetBucketMetadataTableConfiguration'],
  ['GET', '/?metrics&id=Documents', 'GetBucketMetricsConfiguration'],
  ['GET', '/?notification', 'GetBucketNotificationConfiguration'],
  ['GET', '/?ownershipControls', 'GetBucketOwnershipControls'],
  ['GET', '/?policy', 'GetBucketPolicy'],
  ['GET', '/?policyStatus', 'GetBucketPolicyStatus'],
  ['GET', '/?replication', 'GetBucketReplication'],
  ['GET', '/?requestPayment', 'GetBucketRequestPayment'],
  ['GET', '/?tagging', 'GetBucketTagging'],
  ['GET', '/?versioning', 'GetBucketVersioning'],
  ['GET', '/?website', 'GetBucketWebsite'],
  ['GET', '/my-image.jpg', 'GetObject'],
  ['GET', '/myObject?versionId=3/L4kqtJlcpXroDTDmpUMLUo', 'GetObject'],
  [
    'GET',
    '/Junk3.txt?response-cache-control=No-cache&response-content-disposition=attachment%3B%20filename%3Dtesting.txt&response-content-encoding=x-gzip&response-content-language=mi%2C%20en&response-expires=Thu%2C%2001%20Dec%201994%2016:00:00%20GMT',
    'GetObject',
  ],
  [
    'GET',
    '/Key+?partNumber=1&response-cache-control=ResponseCacheControl&response-content-disposition=ResponseContentDisposition&response-content-encoding=ResponseContentEncoding&response-content-language=ResponseContentLanguage&response-content-type=ResponseContentType&response-expires=ResponseExpires&versionId=VersionId',
    'GetObject',
  ],
  ['GET', '/{Key+}?x-id=GetObject', 'GetObject'],
  ['GET', '/my-image.jpg?acl', 'GetObjectAcl'],
  ['GET', '/my-image.jpg?versionId=3/L4kqtJlcpXroDVBH40Nr8X8gdRQBpUMLUo&acl', 'GetObjectAcl'],
  [
    'GET',
    '/{Key+}?annotation&annotationName=AnnotationName&versionId=VersionId',
    'GetObjectAnnotation',
  ],
  ['GET', '/{Key+}?attributes&versionId=VersionId', 'GetObjectAttributes'],
  ['GET', '/{Key+}?legal-hold&versionId=VersionId', 'GetObjectLegalHold'],
  ['GET', '/?object-lock', 'GetObjectLockConfiguration'],
  ['GET', '/{Key+}?retention&versionId=VersionId', 'GetObjectRetention'],
  ['GET', '/example-object?tagging', 'GetObjectTagging'],
  ['GET', '/{Key+}?tagging&versionId=VersionId', 'GetObjectTagging'],
  ['GET', '/quotes/Nelson?torrent', 'GetObjectTorrent'],
  ['GET', '/?publicAccessBlock', 'GetPublicAccessBlock'],
  ['HEAD', '/', 'HeadBucket'],
  ['HEAD', '/my-image.jpg', 'HeadObject'],
  ['HEAD', '/my-image.jpg?versionId=3HL4kqCxf3vjVBH40Nrjfkd', 'HeadObject'],
  ['HEAD', '/Key+?partNumber=3&versionId=VersionId', 'HeadObject'],
  ['GET', '/?analytics', 'ListBucketAnalyticsConfigurations'],
  ['GET', '/?analytics&continuation-token=ContinuationToken', 'ListBucketAnalyticsConfigurations'],
  ['GET', '/?intelligent-tiering', 'ListBucketIntelligentTieringConfigurations'],
  ['GET', '/?inventory&continuation-token=ContinuationToken', 'ListBucketInventoryConfigurations'],
  ['GET', '/?metrics', 'ListBucketMetricsConfigurations'],
  ['GET', '/?uploads&max-uploads=3', 'ListMultipartUploads'],
  ['GET', '/?uploads&delimiter=/&prefix=photos/2006/', 'ListMultipartUploads'],
  [
    'GET',
    '/?uploads&delimiter=D&encoding-type=url&key-marker=KeyMarker&max-uploads=1&prefix=Prefix&upload-id-marker=UploadIdMarker',
    'ListMultipartUploads',
  ],
  [
    'GET',
    '/{Key+}?annotation&x-id=ListObjectAnnotations&max-annotation-results=10',
    'ListObjectAnnotations',
  ],
  ['GET', '/', 'ListObjects'],
  ['GET', '/?prefix=N&marker=Ned&max-keys=40', 'ListObjects'],
  ['GET', '/?prefix=photos/2006/&delimiter=/', 'ListObjects'],
  ['GET', '/?delimiter=D&encoding-type=url&marker=Marker&max-keys=1&prefix=Prefix', 'ListObjects'],
  ['GET', '/?list-type=2', 'ListObjectsV2'],
  ['GET', '/?list-type=2&max-keys=3&prefix=E&start-after=ExampleGuide.pdf', 'ListObjectsV2'],
  ['GET', '/?list-type=2&prefix=photos/2006/&delimiter=/', 'ListObjectsV2'],
  [
    'GET',
    '/?list-type=2&continuation-token=1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=',
    'ListObjectsV2',
  ],
  [
    'GET',
    '/?list-type=2&continuation-token=ContinuationToken&delimiter=D&encoding-type=url&fetch-owner=true&max-keys=1&prefix=Prefix&start-after=StartAfter',
    'ListObjectsV2',
  ],
  ['GET', '/?versions', 'ListObjectVersions'],
  [
    'GET',
    '/?versions&key-marker=key3&version-id-marker=t46Z0menlYTZBnj&max-keys=3',
    'ListObjectVersions',
  ],
  ['GET', '/?versions&prefix=photos/2006/&delimiter=/', 'ListObjectVersions'],
  [
    'GET',
    '/example-object?uploadId=XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA&max-parts=2&part-number-marker=1',
    'ListParts',
  ],
  ['GET', '/Key+?max-parts=2&part-number-marker=2&uploadId=UploadId', 'ListParts'],
  ['POST', '/', 'PostObject', { 'content-type': 'multipart/form-data; boundary=9431149156168' }],
  [
    'OPTIONS',
    '/my-image.jpg',
    'PreflightRequest',
    { origin: 'http://www.example.com', 'access-control-request-method': 'PUT' },
  ],
  ['OPTIONS', '/', 'PreflightRequest'],
  ['PUT', '/?abac', 'PutBucketAbac'],
  ['PUT', '/?accelerate', 'PutBucketAccelerateConfiguration'],
  ['PUT', '/?acl', 'PutBucketAcl'],
  ['PUT', '/?analytics&id=report1', 'PutBucketAnalyticsConfiguration'],
  ['PUT', '/?cors', 'PutBucketCors'],
  ['PUT', '/?encryption', 'PutBucketEncryption'],
  ['PUT', '/?intelligent-tiering&id=Id', 'PutBucketIntelligentTieringConfiguration'],
  ['PUT', '/?inventory&id=report1', 'PutBucketInventoryConfiguration'],
  ['PUT', '/?lifecycle', 'PutBucketLifecycleConfiguration'],
  ['PUT', '/?logging', 'PutBucketLogging'],
  ['PUT', '/?metrics&id=EntireBucket', 'PutBucketMetricsConfiguration'],
  ['PUT', '/?notification', 'PutBucketNotificationConfiguration'],
  ['PUT', '/?ownershipControls', 'PutBucketOwnershipControls'],
  ['PUT', '/?policy', 'PutBucketPolicy'],
  ['PUT', '/?replication', 'PutBucketReplication'],
  ['PUT', '/?requestPayment', 'PutBucketRequestPayment'],
  ['PUT', '/?tagging', 'PutBucketTagging'],
  ['PUT', '/?versioning', 'PutBucketVersioning'],
  ['PUT', '/?website', 'PutBucketWebsite'],
  ['PUT', '/my-image.jpg', 'PutObject'],
  ['PUT', '/Key+?x-id=PutObject', 'PutObject'],
  ['PUT', '/my-image.jpg?acl', 'PutObjectAcl'],
  [
    'PUT',
    '/my-image.jpg?acl&versionId=3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nrjfkd',
    'PutObjectAcl',
  ],
  [
    'PUT',
    '/{Key+}?annotation&annotationName=AnnotationName&versionId=VersionId',
    'PutObjectAnnotation',
  ],
  ['PUT', '/{Key+}?legal-hold&versionId=VersionId', 'PutObjectLegalHold'],
  ['PUT', '/?object-lock', 'PutObjectLockConfiguration'],
  ['PUT', '/{Key+}?retention&versionId=VersionId', 'PutObjectRetention'],
  ['PUT', '/object-key?tagging', 'PutObjectTagging'],
  ['PUT', '/{Key+}?tagging&versionId=VersionId', 'PutObjectTagging'],
  ['PUT', '/?publicAccessBlock', 'PutPublicAccessBlock'],
  ['PUT', '/{Key+}?renameObject', 'RenameObject', { 'x-amz-rename-source': '/my-bucket/old-key' }],
  ['POST', '/object-one.csv?restore', 'RestoreObject'],
  ['POST', '/{Key+}?restore&versionId=VersionId', 'RestoreObject'],
  ['POST', '/exampleobject.csv?select&select-type=2', 'SelectObjectContent'],
  ['PUT', '/?metadataAnnotationTable', 'UpdateBucketMetadataAnnotationTableConfiguration'],
  ['PUT', '/?metadataInventoryTable', 'UpdateBucketMetadataInventoryTableConfiguration'],
  ['PUT', '/?metadataJournalTable', 'UpdateBucketMetadataJournalTableConfiguration'],
  ['PUT', '/{Key+}?encryption&versionId=VersionId', 'UpdateObjectEncryption'],
  [
    'PUT',
    '/my-movie.m2ts?partNumber=1&uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR',
    'UploadPart',
  ],
  ['PUT', '/Key+?partNumber=2&uploadId=UploadId', 'UploadPart'],
  [
    'PUT',
    '/newobject?partNumber=2&uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR',
    'UploadPartCopy',
    COPY,
  ],
  ['PUT', '/Key+?partNumber=3&uploadId=UploadId&x-id=UploadPartCopy', 'UploadPartCopy', COPY],
];

/** Service-level request lines (no bucket). */
const SERVICE_EXAMPLES: readonly Case[] = [
  ['GET', '/', 'ListBuckets'],
  ['GET', '/?x-id=ListBuckets', 'ListBuckets'],
  [
    'GET',
    '/?max-buckets=10&continuation-token=ContinuationToken&prefix=Prefix&bucket-region=eu-west-1',
    'ListBuckets',
  ],
  ['GET', '/?x-id=ListDirectoryBuckets', 'ListDirectoryBuckets'],
  ['GET', '/?continuation-token=ContinuationToken&max-directory-buckets=5', 'ListDirectoryBuckets'],
  [
    'POST',
    '/WriteGetObjectResponse',
    'WriteGetObjectResponse',
    { 'x-amz-request-route': 'io-use1-001', 'x-amz-request-token': 'OutputToken' },
  ],
  ['OPTIONS', '/', 'PreflightRequest'],
];

test('AWS API reference request lines route to their action, path-style and vhost', (t) => {
  t.true(AWS_DOC_EXAMPLES.length >= 60);
  for (const [method, line, action, headers] of AWS_DOC_EXAMPLES) {
    const path = route(method, `/my-bucket${line}`, headers);
    t.is(path.endpoint.action, action, `${method} /my-bucket${line}`);
    t.is(path.style, 'path');
    t.is(path.bucket, 'my-bucket');

    const vhost = route(method, line, { host: 'my-bucket.s3.example.com', ...headers });
    t.is(vhost.endpoint.action, action, `${method} ${line} (vhost)`);
    t.is(vhost.style, 'vhost');
    t.is(vhost.bucket, 'my-bucket');
    t.deepEqual(vhost.endpoint, path.endpoint, `${method} ${line}: same endpoint both ways`);
    t.is(vhost.key, path.key);
  }
  for (const [method, line, action, headers] of SERVICE_EXAMPLES) {
    const r = route(method, line, headers);
    t.is(r.endpoint.action, action, `${method} ${line}`);
    t.is(r.bucket, null);
  }
});

test('every action is reachable from the examples', (t) => {
  const seen = new Set<S3Action>();
  for (const [method, line, , headers] of AWS_DOC_EXAMPLES) {
    seen.add(route(method, `/my-bucket${line}`, headers).endpoint.action);
  }
  for (const [method, line, , headers] of SERVICE_EXAMPLES) {
    seen.add(route(method, line, headers).endpoint.action);
  }
  const missing = S3_ACTIONS.filter((a) => !seen.has(a));
  t.deepEqual(missing, []);
  t.true(S3_ACTIONS.length >= 100, `${S3_ACTIONS.length} actions`);
});

// ---------------------------------------------------------------------------------------------
// Parameters

test('core endpoints carry their typed parameters', (t) => {
  t.deepEqual(route('GET', '/').endpoint, { action: 'ListBuckets' });
  t.deepEqual(route('PUT', '/b').endpoint, { action: 'CreateBucket', bucket: 'b' });
  t.deepEqual(route('HEAD', '/b/').endpoint, { action: 'HeadBucket', bucket: 'b' });
  t.deepEqual(route('GET', '/b?list-type=2&prefix=photos&max-keys=0&fetch-owner=TRUE').endpoint, {
    action: 'ListObjectsV2',
    bucket: 'b',
    prefix: 'photos',
    maxKeys: 0,
    fetchOwner: true,
  });
  t.deepEqual(route('GET', '/b?marker=m%20x&max-keys=1000&encoding-type=url').endpoint, {
    action: 'ListObjects',
    bucket: 'b',
    marker: 'm x',
    maxKeys: 1000,
    encodingType: 'url',
  });
  t.deepEqual(
    route('GET', '/b/k?versionId=v1&partNumber=7&response-content-type=text%2Fplain').endpoint,
    {
      action: 'GetObject',
      bucket: 'b',
      key: 'k',
      versionId: 'v1',
      partNumber: 7,
      responseOverrides: { contentType: 'text/plain' },
    },
  );
  t.deepEqual(route('HEAD', '/b/k').endpoint, {
    action: 'HeadObject',
    bucket: 'b',
    key: 'k',
    responseOverrides: {},
  });
  t.deepEqual(route('PUT', '/b/k?partNumber=10000&uploadId=u').endpoint, {
    action: 'UploadPart',
    bucket: 'b',
    key: 'k',
    partNumber: 10000,
    uploadId: 'u',
  });
  t.deepEqual(route('GET', '/b/k?uploadId=u&max-parts=5').endpoint, {
    action: 'ListParts',
    bucket: 'b',
    key: 'k',
    uploadId: 'u',
    maxParts: 5,
  });
  t.deepEqual(route('DELETE', '/b/k?uploadId=u').endpoint, {
    action: 'AbortMultipartUpload',
    bucket: 'b',
    key: 'k',
    uploadId: 'u',
  });
  t.deepEqual(route('DELETE', '/b/k?versionId=null').endpoint, {
    action: 'DeleteObject',
    bucket: 'b',
    key: 'k',
    versionId: 'null',
  });
  t.deepEqual(route('GET', '/b?analytics&id=a%2Bb').endpoint, {
    action: 'GetBucketAnalyticsConfiguration',
    bucket: 'b',
    id: 'a+b',
  });
  t.deepEqual(route('GET', '/b?uploads&key-marker=k&max-uploads=2').endpoint, {
    action: 'ListMultipartUploads',
    bucket: 'b',
    keyMarker: 'k',
    maxUploads: 2,
  });
  t.deepEqual(route('GET', '/b?versions&version-id-marker=v&prefix=').endpoint, {
    action: 'ListObjectVersions',
    bucket: 'b',
    versionIdMarker: 'v',
    prefix: '',
  });
  // Presigned-URL parameters and the SDK's x-id hint are ignored.
  t.is(
    route('GET', '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc&x-id=GetObject')
      .endpoint.action,
    'GetObject',
  );
});

test('authorization classes', (t) => {
  const auth = (method: string, target: string, h: Record<string, string> = {}) =>
    authorizationOf(route(method, target, h).endpoint);
  t.is(auth('GET', '/'), 'none');
  t.is(auth('PUT', '/b'), 'create-bucket');
  t.is(auth('GET', '/b/k'), 'read');
  t.is(auth('HEAD', '/b'), 'read');
  t.is(auth('GET', '/b?list-type=2'), 'read');
  t.is(auth('GET', '/b?uploads'), 'read');
  t.is(auth('GET', '/b/k?uploadId=u'), 'read');
  t.is(auth('PUT', '/b/k'), 'write');
  t.is(auth('PUT', '/b/k', COPY), 'write');
  t.is(auth('POST', '/b?delete'), 'write');
  t.is(auth('POST', '/b/k?uploads'), 'write');
  t.is(auth('PUT', '/b/k?partNumber=1&uploadId=u'), 'write');
  t.is(auth('DELETE', '/b'), 'owner');
  t.is(auth('GET', '/b?cors'), 'owner');
  t.is(auth('PUT', '/b?versioning'), 'owner');
  t.is(auth('DELETE', '/b?website'), 'owner');
  const e = route('GET', '/b?location').endpoint;
  t.is(endpointName(e), 'GetBucketLocation');
});

// ---------------------------------------------------------------------------------------------
// Addressing

test('path-style vs virtual-hosted addressing with several root domains', (t) => {
  const cases: [
    host: string | undefined,
    path: string,
    bucket: string | null,
    key: string | null,
  ][] = [
    ['s3.example.com', '/b/a/b/c', 'b', 'a/b/c'],
    ['s3.example.com:9000', '/', null, null],
    ['photos.s3.example.com', '/a/b/c', 'photos', 'a/b/c'],
    ['Photos.S3.Example.COM:443', '/k', 'photos', 'k'],
    ['photos.s3.example.com.', '/k', 'photos', 'k'],
    ['my.dotted.bucket.s3.example.com', '/', 'my.dotted.bucket', null],
    ['bucket.localhost:3900', '/x', 'bucket', 'x'],
    ['localhost:3900', '/bucket/x', 'bucket', 'x'],
    ['bkt.s3.eu-west-1.internal.test', '/deep/key/', 'bkt', 'deep/key/'],
    ['other.example.org', '/b/k', 'b', 'k'],
    ['nots3.example.com', '/b/k', 'b', 'k'],
    ['[::1]:9000', '/b/k', 'b', 'k'],
    ['10.0.0.1', '/b', 'b', null],
    [undefined, '/b/', 'b', null],
  ];
  for (const [host, path, bucket, key] of cases) {
    const headers: Record<string, string> = host === undefined ? {} : { host };
    const req: RequestSnapshot = { method: 'GET', rawPath: path, rawQuery: '', headers };
    const r = routeRequest(req, OPTS);
    t.is(r.bucket, bucket, `${host} ${path}`);
    t.is(r.key, key, `${host} ${path}`);
  }
  // The most specific root domain wins.
  const r = routeRequest(snapshot('GET', '/k', { host: 'b.s3.example.com' }), {
    rootDomains: ['example.com', 's3.example.com'],
  });
  t.is(r.bucket, 'b');
  t.is(r.style, 'vhost');
  // No root domains: always path style.
  const p = routeRequest(snapshot('GET', '/b/k', { host: 'x.s3.example.com' }), {
    rootDomains: [],
  });
  t.is(p.style, 'path');
  t.is(p.bucket, 'b');
  t.is(p.key, 'k');
});

test('"/bucket" and "/bucket/" are both bucket-level; "//" keeps leading slashes in keys', (t) => {
  t.is(route('GET', '/b').endpoint.action, 'ListObjects');
  t.is(route('GET', '/b/').endpoint.action, 'ListObjects');
  t.is(route('GET', '/b/').key, null);
  t.is(route('GET', '/b//k').key, '/k');
  t.is(route('GET', '/k/', { host: 'b.localhost' }).key, 'k/');
  t.is(route('GET', '//', { host: 'b.localhost' }).key, '/');
});

test('keys are percent-decoded, "+" stays "+", unicode survives', (t) => {
  t.is(route('GET', '/b/%26%2B%3F%25%C3%A9/something').key, '&+?%é/something');
  t.is(route('GET', '/b/a+b').key, 'a+b');
  t.is(route('GET', '/b/a%20b').key, 'a b');
  t.is(route('GET', '/b/%E6%97%A5%E6%9C%AC%E8%AA%9E/%F0%9F%98%80').key, '日本語/😀');
  t.is(route('GET', '/b/%2F%2Fx').key, '//x');
  t.is(route('GET', '/%C3%A9/k', { host: 'b.s3.example.com' }).key, 'é/k');
  const e = route('PUT', '/b/dir%2Ffile%3Fname.txt').endpoint;
  t.is(e.action, 'PutObject');
  t.is(endpointKey(e), 'dir/file?name.txt');
});

test('undecodable paths are InvalidURI', (t) => {
  for (const bad of [
    '/b/%',
    '/b/%zz',
    '/b/%C3',
    '/b/%C3%28',
    '/b/%C0%AF',
    '/b/%ED%A0%80',
    '/%FF/k',
  ]) {
    const err = routeError('GET', bad);
    t.is(err.code, 'InvalidURI', bad);
    t.is(err.status, 400);
    t.is(err.message, "Couldn't parse the specified URI.");
  }
  t.is(routeError('GET', 'b/k').code, 'InvalidURI');
  t.is(routeError('GET', '//k').code, 'InvalidURI');
});

// ---------------------------------------------------------------------------------------------
// Validation and errors

test('numeric and enumerated parameters are validated', (t) => {
  for (const v of ['-1', 'abc', '1.5', '', '99999999999', '2147483648']) {
    const err = routeError('GET', `/b?list-type=2&max-keys=${v}`);
    t.is(err.code, 'InvalidArgument', `max-keys=${v}`);
    t.is(err.fields.ArgumentName, 'max-keys');
  }
  t.is(route('GET', '/b?max-keys=2147483647').endpoint.action, 'ListObjects');
  for (const v of ['0', '10001', 'x', '-1', '1e3']) {
    const err = routeError('PUT', `/b/k?partNumber=${v}&uploadId=u`);
    t.is(err.code, 'InvalidArgument');
    t.is(err.message, 'Part number must be an integer between 1 and 10000, inclusive');
    t.is(err.fields.ArgumentName, 'partNumber');
    t.is(err.fields.ArgumentValue, v);
    t.is(routeError('GET', `/b/k?partNumber=${v}`).code, 'InvalidArgument');
  }
  t.is(routeError('GET', '/b?uploads&max-uploads=x').fields.ArgumentName, 'max-uploads');
  t.is(routeError('GET', '/b/k?uploadId=u&max-parts=-2').fields.ArgumentName, 'max-parts');
  t.is(routeError('GET', '/b?list-type=2&fetch-owner=maybe').fields.ArgumentName, 'fetch-owner');
  t.is(routeError('GET', '/b?encoding-type=base64').fields.ArgumentName, 'encoding-type');
  t.is(routeError('GET', '/b?list-type=3').fields.ArgumentName, 'list-type');
  t.is(routeError('GET', '/?max-buckets=0').fields.ArgumentName, 'max-buckets');
  t.is(routeError('POST', '/b/k?select').fields.ArgumentName, 'select-type');
  t.is(routeError('PUT', '/b?metrics').fields.ArgumentName, 'id');
  t.is(routeError('PUT', '/b/k?partNumber=1').fields.ArgumentName, 'uploadId');
  t.is(routeError('PUT', '/b/k?uploadId=u').fields.ArgumentName, 'partNumber');
  t.is(routeError('PUT', '/b/k?annotation').fields.ArgumentName, 'annotationName');
});

test('conflicting sub-resources are InvalidArgument', (t) => {
  const err = routeError('GET', '/b?acl&tagging');
  t.is(err.code, 'InvalidArgument');
  t.regex(err.message, /Conflicting query string parameters/);
});

test('actions that do not exist are MethodNotAllowed', (t) => {
  const cases: [string, string, string][] = [
    ['PUT', '/', 'SERVICE'],
    ['DELETE', '/', 'SERVICE'],
    ['HEAD', '/', 'SERVICE'],
    ['POST', '/', 'SERVICE'],
    ['POST', '/b/k', 'OBJECT'],
    ['GET', '/b/k?website', 'OBJECT'],
    ['GET', '/b/k?uploads', 'OBJECT'],
    ['PUT', '/b?uploads', 'BUCKET'],
    ['GET', '/b?torrent', 'BUCKET'],
    ['DELETE', '/b?versioning', 'BUCKET'],
    ['HEAD', '/b?acl', 'BUCKET'],
    ['PATCH', '/b/k', 'OBJECT'],
    ['PROPFIND', '/b', 'BUCKET'],
    ['TRACE', '/', 'SERVICE'],
  ];
  for (const [method, target, resourceType] of cases) {
    const err = routeError(method, target);
    t.is(err.code, 'MethodNotAllowed', `${method} ${target}`);
    t.is(err.status, 405);
    t.is(err.fields.ResourceType, resourceType, `${method} ${target}`);
    t.is(err.fields.Method, method);
  }
  // Without the route header, POST /WriteGetObjectResponse is an ordinary path-style POST.
  t.is(route('POST', '/WriteGetObjectResponse').endpoint.action, 'PostObject');
});

test('WriteGetObjectResponse and preflight carry their parameters', (t) => {
  const w = route('POST', '/WriteGetObjectResponse', {
    host: 'io-use1-001.s3-object-lambda.us-east-1.amazonaws.com',
    'x-amz-request-route': 'io-use1-001',
    'x-amz-request-token': 'tok',
  });
  t.deepEqual(w.endpoint, {
    action: 'WriteGetObjectResponse',
    requestRoute: 'io-use1-001',
    requestToken: 'tok',
  });
  t.is(w.bucket, null);
  t.deepEqual(route('OPTIONS', '/b/k%20x').endpoint, {
    action: 'PreflightRequest',
    bucket: 'b',
    key: 'k x',
  });
  t.deepEqual(route('OPTIONS', '/k', { host: 'b.s3.example.com' }).endpoint, {
    action: 'PreflightRequest',
    bucket: 'b',
    key: 'k',
  });
});

// ---------------------------------------------------------------------------------------------
// parseQuery

test('parseQuery decodes like URLSearchParams and keeps the first value', (t) => {
  const q = parseQuery('a&b=1&b=2&c=&d=x+y%2Bz&e%20f=%C3%A9&&g==h&');
  t.deepEqual(
    [...q],
    [
      ['a', ''],
      ['b', '1'],
      ['c', ''],
      ['d', 'x y+z'],
      ['e f', 'é'],
      ['g', '=h'],
    ],
  );
  t.is(parseQuery('').size, 0);
  t.is(parseQuery('=v').get(''), 'v');
  for (const bad of ['a=%', 'a=%G1', '%zz', 'a=%C3', 'a=%ED%A0%80']) {
    const err = t.throws(() => parseQuery(bad), { instanceOf: S3Error });
    t.is(err?.code, 'InvalidArgument', bad);
  }
  t.is(routeError('GET', '/b?prefix=%E0%A4').code, 'InvalidArgument');
});

// ---------------------------------------------------------------------------------------------
// Property test: random requests either route or throw an S3Error, never anything else.

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

test('random requests route or throw S3Error (2000 cases)', (t) => {
  const rnd = xorshift(0x5eed1234);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const methods = [
    'GET',
    'HEAD',
    'PUT',
    'POST',
    'DELETE',
    'OPTIONS',
    'PATCH',
    'get',
    '',
    'X\u0000',
  ];
  const pathPieces = [
    '/',
    'b',
    'my-bucket',
    'k',
    'a+b',
    '%',
    '%2',
    '%zz',
    '%20',
    '%2F',
    '%C3',
    '%C3%A9',
    '%ED%A0%80',
    '%F0%9F%98%80',
    '%00',
    '\u0000',
    'é',
    '\uD800',
    '..',
    '?',
    '#',
    'WriteGetObjectResponse',
    '//',
  ];
  const queryNames = [
    ...[
      'acl',
      'tagging',
      'uploads',
      'uploadId',
      'partNumber',
      'versionId',
      'list-type',
      'max-keys',
    ],
    ...[
      'delete',
      'select',
      'select-type',
      'id',
      'analytics',
      'annotation',
      'annotationName',
      'x-id',
    ],
    ...[
      'fetch-owner',
      'encoding-type',
      'max-parts',
      'max-buckets',
      'session',
      'versions',
      '%',
      '+',
    ],
  ];
  const queryValues = [
    '',
    '1',
    '2',
    '0',
    '10000',
    '10001',
    '-1',
    'url',
    'true',
    '%',
    '%zz',
    '%C3',
    'x+y',
    '\u0000',
  ];
  const hosts = [
    undefined,
    'localhost',
    'b.localhost:80',
    'x.s3.example.com',
    'S3.EXAMPLE.COM',
    '[::1]',
    ':',
    '.',
    '',
  ];
  const headerSets: Record<string, string>[] = [
    {},
    COPY,
    { 'x-amz-request-route': 'r' },
    { 'x-amz-copy-source': '' },
  ];
  const randomChars = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(Math.floor(rnd() * 256))).join('');

  let routed = 0;
  let rejected = 0;
  for (let i = 0; i < 2000; i++) {
    let rawPath = rnd() < 0.05 ? randomChars(4) : '/';
    const segments = Math.floor(rnd() * 4);
    for (let s = 0; s < segments; s++) {
      rawPath += pick(pathPieces) + (rnd() < 0.3 ? randomChars(2) : '') + (rnd() < 0.6 ? '/' : '');
    }
    const params: string[] = [];
    const nParams = Math.floor(rnd() * 4);
    for (let p = 0; p < nParams; p++) {
      const name = rnd() < 0.1 ? randomChars(3) : pick(queryNames);
      params.push(
        rnd() < 0.3 ? name : `${name}=${rnd() < 0.1 ? randomChars(3) : pick(queryValues)}`,
      );
    }
    const host = pick(hosts);
    const headers: Record<string, string> = { ...pick(headerSets) };
    if (host !== undefined) headers.host = host;
    const req: RequestSnapshot = {
      method: rnd() < 0.05 ? randomChars(3) : pick(methods),
      rawPath,
      rawQuery: params.join('&'),
      headers,
    };
    let r: RoutedRequest;
    try {
      r = routeRequest(req, OPTS);
    } catch (err) {
      if (!(err instanceof S3Error)) {
        t.fail(`non-S3Error ${String(err)} for ${JSON.stringify(req)}`);
        return;
      }
      rejected++;
      continue;
    }
    routed++;
    const e: Endpoint = r.endpoint;
    if (!S3_ACTIONS.includes(e.action)) t.fail(`unknown action ${e.action}`);
    if (endpointBucket(e) !== r.bucket || endpointKey(e) !== r.key) {
      t.fail(`bucket/key mismatch for ${JSON.stringify(req)}`);
    }
    authorizationOf(e);
  }
  t.true(routed > 200, `routed ${routed}`);
  t.true(rejected > 200, `rejected ${rejected}`);
});
