/**
 * What a GET, HEAD or PUT costs on the shard protocol, counted by the shards themselves
 * (hangar_shard_messages_total). A HEAD, a GET of an inline object and a GET answered 304 or 412
 * send none: the edge thread reads the shard's LMDB itself (engine/meta/object-reader.ts). A GET
 * that streams from blocks still opens a read session on the shard. A PUT of a body of at most
 * one chunk (256 KiB) is one message: the body rides with its PutBegin. (The block-streaming path
 * is measured elsewhere: read-sessions.test.ts, memory.test.ts.)
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import {
  newBucket,
  objectBytes,
  randomBytesSeeded,
  s3Failure,
  TestServer,
} from '../helpers/server.js';

const BLOCK_BYTES = 64 * 1024;

async function shardMessages(server: TestServer): Promise<number> {
  return metricValue(await scrapeMetrics(server), 'hangar_shard_messages_total');
}

test('GET and HEAD that stream nothing from blocks send no shard message', async (t) => {
  t.timeout(60_000);
  const server = await TestServer.start({
    shards: 1,
    env: { HANGAR_BLOCK_BYTES: String(BLOCK_BYTES) },
  });
  try {
    const s3 = server.client();
    const bucket = await newBucket(s3, 'messages');
    const small = randomBytesSeeded(4096, 7);
    const large = randomBytesSeeded(3 * BLOCK_BYTES + 17, 8);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: small }));
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'large', Body: large }));
    const etag = put.ETag ?? '';

    const before = await shardMessages(server);
    const rounds = 5;
    for (let i = 0; i < rounds; i++) {
      t.deepEqual(await objectBytes(s3, bucket, 'small'), small, 'inline GET body');
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large' }));
      t.is(head.ContentLength, large.length);
      const notModified = await s3Failure(
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large', IfNoneMatch: etag })),
      );
      t.is(notModified.status, 304);
      const failed = await s3Failure(
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large', IfMatch: '"nope"' })),
      );
      t.is(failed.status, 412);
    }
    const after = await shardMessages(server);
    // Only the Stats message of the second scrape.
    t.is(after - before, 1);

    // The objects in blocks still stream whole, through the shard's read session.
    t.deepEqual(await objectBytes(s3, bucket, 'large'), large);
    t.true((await shardMessages(server)) - after > 2, 'a block GET goes to its shard');
  } finally {
    await server.stop();
  }
});

test('a PUT of at most one chunk takes one shard message, whatever its signing', async (t) => {
  t.timeout(60_000);
  const server = await TestServer.start({ shards: 1 });
  try {
    const s3 = server.client();
    const bucket = await newBucket(s3, 'put-messages');
    // The SDK sends aws-chunked bodies with a CRC32 trailer; the presigned PUT a plain one.
    const bodies = [
      randomBytesSeeded(4096, 1),
      Buffer.alloc(0),
      randomBytesSeeded(256 * 1024, 2),
      randomBytesSeeded(200 * 1024 + 3, 3),
    ];
    const before = await shardMessages(server);
    for (const [i, body] of bodies.entries()) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i}`, Body: body }));
    }
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned' }));
    const presignedBody = randomBytesSeeded(4096, 4);
    const put = await fetch(url, { method: 'PUT', body: presignedBody });
    t.is(put.status, 200);
    const after = await shardMessages(server);
    // One message per PUT, and the Stats message of the second scrape.
    t.is(after - before, bodies.length + 1 + 1);
    for (const [i, body] of bodies.entries()) {
      t.deepEqual(await objectBytes(s3, bucket, `k${i}`), body, `k${i} reads back whole`);
    }
    t.deepEqual(await objectBytes(s3, bucket, 'presigned'), presignedBody);
  } finally {
    await server.stop();
  }
});
