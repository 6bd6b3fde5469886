import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { s3Failure, useServer } from '../helpers/server.js';
import { errorOf } from '../helpers/xml-error.js';

/**
 * Public ACLs and the PublicAccessBlock over them, read anonymously with plain fetch: a
 * public-read object and bucket, IgnorePublicAcls taking that away again, BlockPublicAcls
 * refusing new public ACLs while the existing ones still work.
 */
const suite = useServer(test);

let counter = 0;
/** An ObjectWriter bucket without a PublicAccessBlock: public ACLs are possible. */
async function openBucket(prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++counter}`;
  await suite.s3.send(new CreateBucketCommand({ Bucket: name, ObjectOwnership: 'ObjectWriter' }));
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: name }));
  return name;
}

function anonymous(path: string): Promise<Response> {
  return fetch(`${suite.server.endpoint}/${path}`);
}

async function expectDenied(t: import('ava').ExecutionContext, path: string, what: string) {
  const response = await anonymous(path);
  t.is(response.status, 403, what);
  t.is((await errorOf(response)).code, 'AccessDenied', what);
}

test('a public-read object is read anonymously; IgnorePublicAcls takes that back', async (t) => {
  const bucket = await openBucket('aclp-object');
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'public', Body: 'for all', ACL: 'public-read' }),
  );
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private', Body: 'mine' }));
  const response = await anonymous(`${bucket}/public`);
  t.is(response.status, 200);
  t.is(await response.text(), 'for all');
  await expectDenied(t, `${bucket}/private`, 'an object without a public ACL');
  // The bucket's own ACL is private: listing is not public.
  await expectDenied(t, `${bucket}?list-type=2`, 'listing a private bucket');

  await suite.s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: { IgnorePublicAcls: true },
    }),
  );
  await expectDenied(t, `${bucket}/public`, 'IgnorePublicAcls');
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  t.is((await anonymous(`${bucket}/public`)).status, 200, 'public again without the block');

  // Back to private by PutObjectAcl.
  await suite.s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'public', ACL: 'private' }));
  await expectDenied(t, `${bucket}/public`, 'made private again');
});

test('a public-read bucket lists anonymously; authenticated-read needs a signature', async (t) => {
  const bucket = await openBucket('aclp-bucket');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'listed', Body: 'x' }));
  await suite.s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
  const listing = await anonymous(`${bucket}?list-type=2`);
  t.is(listing.status, 200);
  t.regex(await listing.text(), /<Key>listed<\/Key>/);
  // READ on the bucket lists it; it does not read its objects.
  await expectDenied(t, `${bucket}/listed`, 'objects keep their own ACL');

  await suite.s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'authenticated-read' }));
  await expectDenied(t, `${bucket}?list-type=2`, 'authenticated-read is not anonymous');
});

test('BlockPublicAcls refuses new public ACLs and leaves existing ones working', async (t) => {
  const bucket = await openBucket('aclp-block');
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'before', Body: 'old', ACL: 'public-read' }),
  );
  await suite.s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true },
    }),
  );
  for (const attempt of [
    suite.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'after', Body: 'x', ACL: 'public-read' }),
    ),
    suite.s3.send(
      new PutObjectAclCommand({ Bucket: bucket, Key: 'before', ACL: 'public-read-write' }),
    ),
    suite.s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })),
  ]) {
    const failure = await s3Failure(attempt);
    t.is(failure.name, 'AccessDenied');
    t.is(failure.status, 403);
  }
  const response = await anonymous(`${bucket}/before`);
  t.is(response.status, 200, 'BlockPublicAcls does not revoke what is there');
  t.is(await response.text(), 'old');
});
