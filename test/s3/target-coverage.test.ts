import { createHash } from 'node:crypto';
import test from 'ava';
import { TestServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

/**
 * The 92 endpoints of the yardstick (../shared/s3-target.md's endpoint table, Garage's
 * compatibility table with its peers): each is sent a well-formed request through the real
 * server, and none may answer 501 NotImplemented (issue 18's "done when"). The requests are in
 * an order that gives each the state it needs (a bucket, an object, a configuration to read
 * back), so most answer 2xx; the few that answer 4xx answer AWS's error for that state.
 */

const BUCKET = 'coverage';
const LOCKED = 'coverage-locked';

interface Call {
  endpoint: string;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** What a well-behaved server answers (AWS's status for this request and state). */
  status: number;
}

const xml = (name: string, inner: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><${name} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${name}>`;

const SELECT_REQUEST = xml(
  'SelectObjectContentRequest',
  '<Expression>SELECT s._1 FROM S3Object s</Expression><ExpressionType>SQL</ExpressionType>' +
    '<InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization>',
);
const ID_FILTER = '<Filter><Prefix>p/</Prefix></Filter>';
const INVENTORY =
  `<Id>inv</Id><IsEnabled>true</IsEnabled><Destination><S3BucketDestination><Bucket>arn:aws:s3:::${BUCKET}</Bucket>` +
  '<Format>CSV</Format></S3BucketDestination></Destination><Schedule><Frequency>Daily</Frequency></Schedule>' +
  '<IncludedObjectVersions>Current</IncludedObjectVersions>';
const TIERING =
  '<Id>it</Id><Status>Enabled</Status><Tiering><Days>90</Days><AccessTier>ARCHIVE_ACCESS</AccessTier></Tiering>';
const RETAIN_UNTIL = new Date(Date.now() + 24 * 3600 * 1000).toISOString();

/** Every endpoint of the table, each once, in the order sent. */
const CALLS: Call[] = [
  // buckets
  { endpoint: 'ListBuckets', method: 'GET', path: '/', status: 200 },
  { endpoint: 'CreateBucket', method: 'PUT', path: `/${BUCKET}`, status: 200 },
  { endpoint: 'HeadBucket', method: 'HEAD', path: `/${BUCKET}`, status: 200 },
  { endpoint: 'GetBucketLocation', method: 'GET', path: `/${BUCKET}?location`, status: 200 },
  // objects
  { endpoint: 'PutObject', method: 'PUT', path: `/${BUCKET}/k`, body: 'a,b\n1,2\n', status: 200 },
  { endpoint: 'GetObject', method: 'GET', path: `/${BUCKET}/k`, status: 200 },
  { endpoint: 'HeadObject', method: 'HEAD', path: `/${BUCKET}/k`, status: 200 },
  {
    endpoint: 'CopyObject',
    method: 'PUT',
    path: `/${BUCKET}/copy`,
    headers: { 'x-amz-copy-source': `/${BUCKET}/k` },
    status: 200,
  },
  { endpoint: 'DeleteObject', method: 'DELETE', path: `/${BUCKET}/copy`, status: 204 },
  {
    endpoint: 'DeleteObjects',
    method: 'POST',
    path: `/${BUCKET}?delete`,
    body: xml('Delete', '<Object><Key>gone</Key></Object>'),
    status: 200,
  },
  // listing
  { endpoint: 'ListObjects', method: 'GET', path: `/${BUCKET}`, status: 200 },
  { endpoint: 'ListObjectsV2', method: 'GET', path: `/${BUCKET}?list-type=2`, status: 200 },
  // browser upload: a form without a policy's fields is refused as AWS refuses it
  {
    endpoint: 'PostObject',
    method: 'POST',
    path: `/${BUCKET}`,
    body: '--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nform\r\n--b--\r\n',
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
    status: 400,
  },
  // multipart (UploadPart, UploadPartCopy, ListParts and Complete/Abort name the upload: see below)
  { endpoint: 'CreateMultipartUpload', method: 'POST', path: `/${BUCKET}/mp?uploads`, status: 200 },
  { endpoint: 'ListMultipartUploads', method: 'GET', path: `/${BUCKET}?uploads`, status: 200 },
  // website
  {
    endpoint: 'PutBucketWebsite',
    method: 'PUT',
    path: `/${BUCKET}?website`,
    body: xml('WebsiteConfiguration', '<IndexDocument><Suffix>index.html</Suffix></IndexDocument>'),
    status: 200,
  },
  { endpoint: 'GetBucketWebsite', method: 'GET', path: `/${BUCKET}?website`, status: 200 },
  { endpoint: 'DeleteBucketWebsite', method: 'DELETE', path: `/${BUCKET}?website`, status: 204 },
  // CORS
  {
    endpoint: 'PutBucketCors',
    method: 'PUT',
    path: `/${BUCKET}?cors`,
    body: xml(
      'CORSConfiguration',
      '<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>',
    ),
    status: 200,
  },
  { endpoint: 'GetBucketCors', method: 'GET', path: `/${BUCKET}?cors`, status: 200 },
  { endpoint: 'DeleteBucketCors', method: 'DELETE', path: `/${BUCKET}?cors`, status: 204 },
  // lifecycle, transitions included
  {
    endpoint: 'PutBucketLifecycleConfiguration',
    method: 'PUT',
    path: `/${BUCKET}?lifecycle`,
    body: xml(
      'LifecycleConfiguration',
      '<Rule><ID>r</ID><Filter><Prefix>old/</Prefix></Filter><Status>Enabled</Status>' +
        '<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>' +
        '<Expiration><Days>365</Days></Expiration></Rule>',
    ),
    status: 200,
  },
  {
    endpoint: 'GetBucketLifecycleConfiguration',
    method: 'GET',
    path: `/${BUCKET}?lifecycle`,
    status: 200,
  },
  {
    endpoint: 'DeleteBucketLifecycle',
    method: 'DELETE',
    path: `/${BUCKET}?lifecycle`,
    status: 204,
  },
  // versioning
  {
    endpoint: 'PutBucketVersioning',
    method: 'PUT',
    path: `/${BUCKET}?versioning`,
    body: xml('VersioningConfiguration', '<Status>Enabled</Status>'),
    status: 200,
  },
  { endpoint: 'GetBucketVersioning', method: 'GET', path: `/${BUCKET}?versioning`, status: 200 },
  { endpoint: 'ListObjectVersions', method: 'GET', path: `/${BUCKET}?versions`, status: 200 },
  // ACL (new buckets enforce bucket-owner ownership: a canned private ACL is still accepted)
  { endpoint: 'GetBucketAcl', method: 'GET', path: `/${BUCKET}?acl`, status: 200 },
  {
    endpoint: 'PutBucketAcl',
    method: 'PUT',
    path: `/${BUCKET}?acl`,
    headers: { 'x-amz-acl': 'private' },
    status: 200,
  },
  { endpoint: 'GetObjectAcl', method: 'GET', path: `/${BUCKET}/k?acl`, status: 200 },
  {
    endpoint: 'PutObjectAcl',
    method: 'PUT',
    path: `/${BUCKET}/k?acl`,
    headers: { 'x-amz-acl': 'private' },
    status: 200,
  },
  // policy
  {
    endpoint: 'PutBucketPolicy',
    method: 'PUT',
    path: `/${BUCKET}?policy`,
    body: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${BUCKET}/private/*`,
        },
      ],
    }),
    status: 204,
  },
  { endpoint: 'GetBucketPolicy', method: 'GET', path: `/${BUCKET}?policy`, status: 200 },
  {
    endpoint: 'GetBucketPolicyStatus',
    method: 'GET',
    path: `/${BUCKET}?policyStatus`,
    status: 200,
  },
  { endpoint: 'DeleteBucketPolicy', method: 'DELETE', path: `/${BUCKET}?policy`, status: 204 },
  // object lock, on a bucket created with it
  {
    endpoint: 'CreateBucket',
    method: 'PUT',
    path: `/${LOCKED}`,
    headers: { 'x-amz-bucket-object-lock-enabled': 'true' },
    status: 200,
  },
  {
    endpoint: 'PutObjectLockConfiguration',
    method: 'PUT',
    path: `/${LOCKED}?object-lock`,
    body: xml('ObjectLockConfiguration', '<ObjectLockEnabled>Enabled</ObjectLockEnabled>'),
    status: 200,
  },
  {
    endpoint: 'GetObjectLockConfiguration',
    method: 'GET',
    path: `/${LOCKED}?object-lock`,
    status: 200,
  },
  { endpoint: 'PutObject', method: 'PUT', path: `/${LOCKED}/k`, body: 'locked', status: 200 },
  {
    endpoint: 'PutObjectRetention',
    method: 'PUT',
    path: `/${LOCKED}/k?retention`,
    body: xml(
      'Retention',
      `<Mode>GOVERNANCE</Mode><RetainUntilDate>${RETAIN_UNTIL}</RetainUntilDate>`,
    ),
    status: 200,
  },
  { endpoint: 'GetObjectRetention', method: 'GET', path: `/${LOCKED}/k?retention`, status: 200 },
  {
    endpoint: 'PutObjectLegalHold',
    method: 'PUT',
    path: `/${LOCKED}/k?legal-hold`,
    body: xml('LegalHold', '<Status>OFF</Status>'),
    status: 200,
  },
  { endpoint: 'GetObjectLegalHold', method: 'GET', path: `/${LOCKED}/k?legal-hold`, status: 200 },
  // tagging
  {
    endpoint: 'PutBucketTagging',
    method: 'PUT',
    path: `/${BUCKET}?tagging`,
    body: xml('Tagging', '<TagSet><Tag><Key>team</Key><Value>a</Value></Tag></TagSet>'),
    status: 204,
  },
  { endpoint: 'GetBucketTagging', method: 'GET', path: `/${BUCKET}?tagging`, status: 200 },
  { endpoint: 'DeleteBucketTagging', method: 'DELETE', path: `/${BUCKET}?tagging`, status: 204 },
  {
    endpoint: 'PutObjectTagging',
    method: 'PUT',
    path: `/${BUCKET}/k?tagging`,
    body: xml('Tagging', '<TagSet><Tag><Key>t</Key><Value>1</Value></Tag></TagSet>'),
    status: 200,
  },
  { endpoint: 'GetObjectTagging', method: 'GET', path: `/${BUCKET}/k?tagging`, status: 200 },
  { endpoint: 'DeleteObjectTagging', method: 'DELETE', path: `/${BUCKET}/k?tagging`, status: 204 },
  // bucket encryption
  {
    endpoint: 'PutBucketEncryption',
    method: 'PUT',
    path: `/${BUCKET}?encryption`,
    body: xml(
      'ServerSideEncryptionConfiguration',
      '<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>',
    ),
    status: 200,
  },
  { endpoint: 'GetBucketEncryption', method: 'GET', path: `/${BUCKET}?encryption`, status: 200 },
  {
    endpoint: 'DeleteBucketEncryption',
    method: 'DELETE',
    path: `/${BUCKET}?encryption`,
    status: 204,
  },
  // notifications (an empty configuration turns them off)
  {
    endpoint: 'PutBucketNotificationConfiguration',
    method: 'PUT',
    path: `/${BUCKET}?notification`,
    body: xml('NotificationConfiguration', ''),
    status: 200,
  },
  {
    endpoint: 'GetBucketNotificationConfiguration',
    method: 'GET',
    path: `/${BUCKET}?notification`,
    status: 200,
  },
  // replication: no remote is registered, so the destination is refused as AWS refuses an
  // unknown bucket ARN
  {
    endpoint: 'PutBucketReplication',
    method: 'PUT',
    path: `/${BUCKET}?replication`,
    body: xml(
      'ReplicationConfiguration',
      '<Role>arn:aws:iam::000000000000:role/r</Role><Rule><ID>r</ID><Priority>1</Priority><Status>Enabled</Status>' +
        '<Filter><Prefix></Prefix></Filter><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>' +
        '<Destination><Bucket>arn:aws:s3:::nowhere</Bucket></Destination></Rule>',
    ),
    status: 400,
  },
  { endpoint: 'GetBucketReplication', method: 'GET', path: `/${BUCKET}?replication`, status: 404 },
  {
    endpoint: 'DeleteBucketReplication',
    method: 'DELETE',
    path: `/${BUCKET}?replication`,
    status: 204,
  },
  // torrent
  { endpoint: 'GetObjectTorrent', method: 'GET', path: `/${BUCKET}/k?torrent`, status: 200 },
  // access control extras
  {
    endpoint: 'PutPublicAccessBlock',
    method: 'PUT',
    path: `/${BUCKET}?publicAccessBlock`,
    body: xml('PublicAccessBlockConfiguration', '<BlockPublicAcls>true</BlockPublicAcls>'),
    status: 200,
  },
  {
    endpoint: 'GetPublicAccessBlock',
    method: 'GET',
    path: `/${BUCKET}?publicAccessBlock`,
    status: 200,
  },
  {
    endpoint: 'DeletePublicAccessBlock',
    method: 'DELETE',
    path: `/${BUCKET}?publicAccessBlock`,
    status: 204,
  },
  {
    endpoint: 'PutBucketOwnershipControls',
    method: 'PUT',
    path: `/${BUCKET}?ownershipControls`,
    body: xml(
      'OwnershipControls',
      '<Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule>',
    ),
    status: 200,
  },
  {
    endpoint: 'GetBucketOwnershipControls',
    method: 'GET',
    path: `/${BUCKET}?ownershipControls`,
    status: 200,
  },
  {
    endpoint: 'DeleteBucketOwnershipControls',
    method: 'DELETE',
    path: `/${BUCKET}?ownershipControls`,
    status: 204,
  },
  // server access logs (an empty status turns logging off)
  {
    endpoint: 'PutBucketLogging',
    method: 'PUT',
    path: `/${BUCKET}?logging`,
    body: xml('BucketLoggingStatus', ''),
    status: 200,
  },
  { endpoint: 'GetBucketLogging', method: 'GET', path: `/${BUCKET}?logging`, status: 200 },
  // bucket configurations addressed by id
  ...idConfig('Metrics', 'metrics', `<Id>m</Id>${ID_FILTER}`, 'm'),
  ...idConfig('Inventory', 'inventory', INVENTORY, 'inv'),
  ...idConfig('Analytics', 'analytics', `<Id>an</Id>${ID_FILTER}<StorageClassAnalysis/>`, 'an'),
  ...idConfig('IntelligentTiering', 'intelligent-tiering', TIERING, 'it'),
  {
    endpoint: 'PutBucketAccelerateConfiguration',
    method: 'PUT',
    path: `/${BUCKET}?accelerate`,
    body: xml('AccelerateConfiguration', '<Status>Suspended</Status>'),
    status: 200,
  },
  {
    endpoint: 'GetBucketAccelerateConfiguration',
    method: 'GET',
    path: `/${BUCKET}?accelerate`,
    status: 200,
  },
  {
    endpoint: 'PutBucketRequestPayment',
    method: 'PUT',
    path: `/${BUCKET}?requestPayment`,
    body: xml('RequestPaymentConfiguration', '<Payer>BucketOwner</Payer>'),
    status: 200,
  },
  {
    endpoint: 'GetBucketRequestPayment',
    method: 'GET',
    path: `/${BUCKET}?requestPayment`,
    status: 200,
  },
  // query
  {
    endpoint: 'SelectObjectContent',
    method: 'POST',
    path: `/${BUCKET}/k?select&select-type=2`,
    body: SELECT_REQUEST,
    status: 200,
  },
  // archive: k is a STANDARD object, which AWS refuses to restore
  {
    endpoint: 'RestoreObject',
    method: 'POST',
    path: `/${BUCKET}/k?restore`,
    body: xml('RestoreRequest', '<Days>1</Days>'),
    status: 403,
  },
];

/** Put, Get, List and Delete of one id-addressed configuration family. */
function idConfig(family: string, query: string, inner: string, id: string): Call[] {
  const element = `${family}Configuration`;
  return [
    {
      endpoint: `PutBucket${family}Configuration`,
      method: 'PUT',
      path: `/${BUCKET}?${query}&id=${id}`,
      body: xml(element, inner),
      status: 200,
    },
    {
      endpoint: `GetBucket${family}Configuration`,
      method: 'GET',
      path: `/${BUCKET}?${query}&id=${id}`,
      status: 200,
    },
    {
      endpoint: `ListBucket${family}Configurations`,
      method: 'GET',
      path: `/${BUCKET}?${query}`,
      status: 200,
    },
    {
      endpoint: `DeleteBucket${family}Configuration`,
      method: 'DELETE',
      path: `/${BUCKET}?${query}&id=${id}`,
      status: 204,
    },
  ];
}

/** The multipart calls that name the upload created above, and the final deletes. */
function uploadCalls(uploadId: string): Call[] {
  const upload = `/${BUCKET}/mp?uploadId=${encodeURIComponent(uploadId)}`;
  return [
    {
      endpoint: 'UploadPart',
      method: 'PUT',
      path: `/${BUCKET}/mp?partNumber=1&uploadId=${encodeURIComponent(uploadId)}`,
      body: 'part one',
      status: 200,
    },
    {
      endpoint: 'UploadPartCopy',
      method: 'PUT',
      path: `/${BUCKET}/mp?partNumber=2&uploadId=${encodeURIComponent(uploadId)}`,
      headers: { 'x-amz-copy-source': `/${BUCKET}/k` },
      status: 200,
    },
    { endpoint: 'ListParts', method: 'GET', path: upload, status: 200 },
    { endpoint: 'AbortMultipartUpload', method: 'DELETE', path: upload, status: 204 },
  ];
}

async function send(server: TestServer, call: Call): Promise<{ status: number; text: string }> {
  const body = call.body === undefined ? undefined : Buffer.from(call.body);
  const headers: Record<string, string> = { ...call.headers };
  if (body !== undefined) {
    headers['content-md5'] = createHash('md5').update(body).digest('base64');
  }
  const response = await signedFetch(server.endpoint, {
    method: call.method,
    path: call.path,
    ...(body === undefined ? {} : { body }),
    headers,
  });
  return { status: response.status, text: call.method === 'HEAD' ? '' : await response.text() };
}

test('every endpoint of the yardstick table answers, none with 501 NotImplemented', async (t) => {
  const server = await TestServer.start();
  try {
    const answered = new Set<string>();
    const wrong: string[] = [];
    const check = (call: Call, answer: { status: number; text: string }): void => {
      answered.add(call.endpoint);
      const code = /<Code>([^<]+)<\/Code>/.exec(answer.text)?.[1] ?? '';
      if (answer.status === 501 || code === 'NotImplemented' || answer.status !== call.status) {
        wrong.push(`${call.endpoint}: ${answer.status} ${code} (expected ${call.status})`);
      }
    };
    let uploadId = '';
    for (const call of CALLS) {
      const answer = await send(server, call);
      check(call, answer);
      if (call.endpoint === 'CreateMultipartUpload') {
        uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(answer.text)?.[1] ?? '';
        t.not(uploadId, '', answer.text);
        for (const uploadCall of uploadCalls(uploadId)) {
          check(uploadCall, await send(server, uploadCall));
        }
      }
    }
    // CompleteMultipartUpload of an upload that is gone, and the bucket deletes, come last.
    const last: Call[] = [
      {
        endpoint: 'CompleteMultipartUpload',
        method: 'POST',
        path: `/${BUCKET}/mp?uploadId=${encodeURIComponent(uploadId)}`,
        body: xml(
          'CompleteMultipartUpload',
          '<Part><PartNumber>1</PartNumber><ETag>"0"</ETag></Part>',
        ),
        status: 404,
      },
      { endpoint: 'DeleteBucket', method: 'DELETE', path: `/${BUCKET}`, status: 409 },
    ];
    for (const call of last) check(call, await send(server, call));
    t.deepEqual(wrong, []);
    t.is(answered.size, 92, [...answered].sort().join(' '));
  } finally {
    await server.destroy();
  }
});
