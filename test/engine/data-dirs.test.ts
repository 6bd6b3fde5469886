import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { blockFilesIn, writeTierConfig } from '../helpers/data-dirs.js';
import { newBucket, randomBytesSeeded, TestServer, useTempDir } from '../helpers/server.js';

const root = useTempDir(test, 'hangar-data-dirs-');

async function bytesOf(server: TestServer, bucket: string, key: string): Promise<Buffer> {
  const got = await server.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

test('blocks spread over a tier by capacity; GLACIER goes to the cold tier', async (t) => {
  const base = mkdtempSync(join(root, 'spread-'));
  const big = join(base, 'big');
  const small = join(base, 'small');
  const cold = join(base, 'cold');
  const config = writeTierConfig(
    base,
    [
      { path: big, capacity: '3G' },
      { path: small, capacity: '1G' },
      { path: cold, capacity: '8T', tier: 'cold' },
    ],
    '[tiers.cold]\nclasses = ["GLACIER", "DEEP_ARCHIVE"]\n',
  );
  const server = await TestServer.start({
    dataDir: join(base, 'meta'),
    shards: 2,
    args: ['--config', config],
  });
  try {
    const s3 = server.client();
    const bucket = await newBucket(s3, 'spread');
    for (let i = 0; i < 200; i++) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `o${i}`,
          Body: randomBytesSeeded(1000, i + 1),
        }),
      );
    }
    const inBig = blockFilesIn(big).length;
    const inSmall = blockFilesIn(small).length;
    t.is(inBig + inSmall, 200);
    t.is(blockFilesIn(cold).length, 0);
    // 3:1 by capacity: smooth weighted round-robin per shard keeps it within a block or two.
    t.true(inBig >= 140 && inBig <= 160, `big holds ${inBig} of 200`);

    const frozen = randomBytesSeeded(150_000, 999);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'frozen',
        Body: frozen,
        StorageClass: 'GLACIER',
      }),
    );
    t.is(blockFilesIn(cold).length, 3, 'three 64 KiB blocks in the cold tier');
    t.is(blockFilesIn(big).length + blockFilesIn(small).length, 200);
    t.true((await bytesOf(server, bucket, 'frozen')).equals(frozen));
    t.true((await bytesOf(server, bucket, 'o7')).equals(randomBytesSeeded(1000, 8)));
  } finally {
    await server.destroy();
  }
});
