import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';

const suite = useServer(test, { shards: 1 });

// A small part's body reaches the shard with its PutEnd before the refusal of its PutBegin
// reaches the HTTP thread: the shard's "refused" state drops them instead of asserting.
test('UploadPart to an aborted upload answers NoSuchUpload and trips no assertion', async (t) => {
  const { s3, server } = suite;
  const bucket = await newBucket(s3, 'refused');
  for (let round = 0; round < 20; round++) {
    const key = `object-${round}`;
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    const failure = await s3Failure(
      s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: 1,
          Body: Buffer.from(`small part ${round}`),
        }),
      ),
    );
    t.is(failure.status, 404);
    t.is(failure.name, 'NoSuchUpload');
  }
  // The server still serves, and its log holds no assertion or stack.
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'after' }),
  );
  const part = await s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: 'after', UploadId, PartNumber: 1, Body: 'ok' }),
  );
  t.truthy(part.ETag);
  t.notRegex(server.log, /AssertionError|PutEnd follows PutBegin|Uncaught|at .*\.js:\d+/);
});
