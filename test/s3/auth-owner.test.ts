import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketTaggingCommand,
  DeleteBucketWebsiteCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketTaggingCommand,
  GetBucketWebsiteCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketTaggingCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test, { type ExecutionContext } from 'ava';
import { createKey, grant } from '../helpers/keys.js';
import { randomBytesSeeded, s3Failure, useServer } from '../helpers/server.js';

/** Authorization a read+write key lacks, copies from unreadable buckets, presigned URLs. */
const suite = useServer(test);

async function deniedAccess(t: ExecutionContext, promise: Promise<unknown>, what: string) {
  const failure = await s3Failure(promise);
  t.is(failure.status, 403, `${what}: ${failure.name}`);
  t.is(failure.name, 'AccessDenied', what);
}

test('UploadPartCopy without read on the source bucket is AccessDenied 403', async (t) => {
  const { server, s3 } = suite;
  await s3.send(new CreateBucketCommand({ Bucket: 'upc-source' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'upc-target' }));
  const body = randomBytesSeeded(6 * 1024 * 1024, 3);
  await s3.send(new PutObjectCommand({ Bucket: 'upc-source', Key: 'src', Body: body }));
  const key = await createKey(server, 'part-copier');
  await grant(server, 'upc-target', key, 'read', 'write');
  const client = server.client(key);
  const upload = await client.send(
    new CreateMultipartUploadCommand({ Bucket: 'upc-target', Key: 'dst' }),
  );
  const copyPart = () =>
    client.send(
      new UploadPartCopyCommand({
        Bucket: 'upc-target',
        Key: 'dst',
        UploadId: upload.UploadId,
        PartNumber: 1,
        CopySource: 'upc-source/src',
      }),
    );
  await deniedAccess(t, copyPart(), 'no read on the source');
  // write (not read) on the source does not do either.
  await grant(server, 'upc-source', key, 'write');
  await deniedAccess(t, copyPart(), 'write but no read on the source');
  // The same call succeeds once the key may read the source: the refusal was about that read.
  await grant(server, 'upc-source', key, 'read');
  const copied = await copyPart();
  t.truthy(copied.CopyPartResult?.ETag);
});

/** A bucket-configuration call of the owner class, and a root GET showing it changed nothing. */
interface OwnerCall {
  name: string;
  call: (client: S3Client, bucket: string) => Promise<unknown>;
}

const CORS = { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] };
const WEBSITE = { IndexDocument: { Suffix: 'index.html' } };
const LIFECYCLE = {
  Rules: [
    { ID: 'r', Status: 'Enabled' as const, Filter: { Prefix: 'x/' }, Expiration: { Days: 1 } },
  ],
};
const TAGGING = { TagSet: [{ Key: 'team', Value: 'a' }] };

const OWNER_CALLS: OwnerCall[] = [
  {
    name: 'PutBucketCors',
    call: (c, b) => c.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: CORS })),
  },
  { name: 'GetBucketCors', call: (c, b) => c.send(new GetBucketCorsCommand({ Bucket: b })) },
  { name: 'DeleteBucketCors', call: (c, b) => c.send(new DeleteBucketCorsCommand({ Bucket: b })) },
  {
    name: 'PutBucketWebsite',
    call: (c, b) =>
      c.send(new PutBucketWebsiteCommand({ Bucket: b, WebsiteConfiguration: WEBSITE })),
  },
  { name: 'GetBucketWebsite', call: (c, b) => c.send(new GetBucketWebsiteCommand({ Bucket: b })) },
  {
    name: 'DeleteBucketWebsite',
    call: (c, b) => c.send(new DeleteBucketWebsiteCommand({ Bucket: b })),
  },
  {
    name: 'PutBucketLifecycleConfiguration',
    call: (c, b) =>
      c.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: b,
          LifecycleConfiguration: LIFECYCLE,
        }),
      ),
  },
  {
    name: 'GetBucketLifecycleConfiguration',
    call: (c, b) => c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })),
  },
  {
    name: 'DeleteBucketLifecycle',
    call: (c, b) => c.send(new DeleteBucketLifecycleCommand({ Bucket: b })),
  },
  {
    name: 'PutBucketTagging',
    call: (c, b) => c.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: TAGGING })),
  },
  { name: 'GetBucketTagging', call: (c, b) => c.send(new GetBucketTaggingCommand({ Bucket: b })) },
  {
    name: 'DeleteBucketTagging',
    call: (c, b) => c.send(new DeleteBucketTaggingCommand({ Bucket: b })),
  },
  { name: 'DeleteBucket', call: (c, b) => c.send(new DeleteBucketCommand({ Bucket: b })) },
];

test('owner-only calls with a read+write key are AccessDenied 403 and change nothing', async (t) => {
  const { server, s3 } = suite;
  const bucket = 'owner-calls';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // Configured by root first, so that a wrongly allowed Delete* or Put* would show.
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: CORS }));
  await s3.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: WEBSITE }));
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: LIFECYCLE,
    }),
  );
  await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: TAGGING }));
  const key = await createKey(server, 'read-writer');
  await grant(server, bucket, key, 'read', 'write');
  const client = server.client(key);
  // The key does hold read and write: it puts and gets objects.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
  await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
  for (const { name, call } of OWNER_CALLS) await deniedAccess(t, call(client, bucket), name);
  // Nothing changed: root still reads every configuration, and the bucket is still there.
  t.is((await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules?.length, 1);
  t.is(
    (await s3.send(new GetBucketWebsiteCommand({ Bucket: bucket }))).IndexDocument?.Suffix,
    'index.html',
  );
  t.is(
    (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules?.[0]?.ID,
    'r',
  );
  t.deepEqual(
    (await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet,
    TAGGING.TagSet,
  );
  await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  // With the owner grant the same key may: the refusals were about ownership.
  await grant(server, bucket, key, 'owner');
  await client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: CORS }));
  await client.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
  t.pass();
});

/** How far a client's clock may run ahead of the server's (AWS: 15 minutes). */
const MAX_SKEW_MS = 15 * 60 * 1000;

test('a presigned URL dated beyond the allowed skew is AccessDenied "Request is not yet valid"', async (t) => {
  const { s3 } = suite;
  await s3.send(new CreateBucketCommand({ Bucket: 'future' }));
  await s3.send(new PutObjectCommand({ Bucket: 'future', Key: 'k', Body: 'hello' }));
  const presign = (aheadMs: number) =>
    getSignedUrl(s3, new GetObjectCommand({ Bucket: 'future', Key: 'k' }), {
      expiresIn: 3600,
      signingDate: new Date(Date.now() + aheadMs),
    });
  const future = await fetch(await presign(MAX_SKEW_MS + 10 * 60 * 1000));
  t.is(future.status, 403);
  const body = await future.text();
  t.regex(body, /<Code>AccessDenied<\/Code>/);
  t.regex(body, /<Message>Request is not yet valid<\/Message>/);
  t.regex(body, /<ServerTime>\d{4}-\d\d-\d\dT/);
  // A clock a little ahead (inside the skew) is accepted, as AWS does.
  const close = await fetch(await presign(60 * 1000));
  t.is(close.status, 200);
  t.is(await close.text(), 'hello');
});
