import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { useServer } from '../helpers/server.js';

const suite = useServer(test);

test('an SDK client with default settings puts and gets an object', async (t) => {
  const s3 = suite.server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'smoke' }));
  const put = await s3.send(
    new PutObjectCommand({ Bucket: 'smoke', Key: 'hello.txt', Body: 'hello world' }),
  );
  t.is(put.ETag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
  const got = await s3.send(new GetObjectCommand({ Bucket: 'smoke', Key: 'hello.txt' }));
  t.is(await got.Body?.transformToString(), 'hello world');
});
