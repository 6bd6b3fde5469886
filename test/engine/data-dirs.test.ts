import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import {
  blockFilesIn,
  bytesOf,
  COLD_TIER,
  tierLayout,
  writeTierConfig,
} from '../helpers/data-dirs.js';
import {
  HANGAR_BIN,
  newBucket,
  randomBytesSeeded,
  TestServer,
  useTempDir,
} from '../helpers/server.js';

const root = useTempDir(test, 'hangar-data-dirs-');

test('blocks spread over a tier by capacity; STANDARD_IA goes to the cold tier', async (t) => {
  const { dataDir, config, dirs } = tierLayout(
    root,
    { big: { capacity: '3G' }, small: { capacity: '1G' }, cold: { capacity: '8T', tier: 'cold' } },
    COLD_TIER,
  );
  const { big, small, cold } = dirs;
  const server = await TestServer.start({
    dataDir,
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
        StorageClass: 'STANDARD_IA',
      }),
    );
    t.is(blockFilesIn(cold).length, 3, 'three 64 KiB blocks in the cold tier');
    t.is(blockFilesIn(big).length + blockFilesIn(small).length, 200);
    t.true((await bytesOf(server, bucket, 'frozen')).equals(frozen));
    t.true((await bytesOf(server, bucket, 'o7')).equals(randomBytesSeeded(1000, 8)));

    // A multipart upload's class decides where its parts go, and the completed object's tier.
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', StorageClass: 'STANDARD_IA' }),
    );
    const parts = [randomBytesSeeded(5 * 1024 * 1024, 51), randomBytesSeeded(70_000, 52)];
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const sent = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'mp',
          UploadId: created.UploadId,
          PartNumber: i + 1,
          Body: part,
        }),
      );
      etags.push(sent.ETag ?? '');
    }
    t.is(blockFilesIn(cold).length, 3 + 80 + 2, 'the parts went to the cold tier');
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: created.UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    t.true((await bytesOf(server, bucket, 'mp')).equals(Buffer.concat(parts)));
    t.is(blockFilesIn(big).length + blockFilesIn(small).length, 200);
  } finally {
    await server.destroy();
  }
});

/** Starts hangar expecting it to refuse: its exit code and what it said. */
function refusedStart(args: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [HANGAR_BIN, 'server', '--s3-port', '0', ...args], {
    env: { ...process.env, HANGAR_ADMIN_PORT: '0', HANGAR_WEB_PORT: '0' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('start-up refuses blocks under an unlisted data_dir and a dir whose tier changed', async (t) => {
  const base = mkdtempSync(join(root, 'refuse-'));
  const dataDir = join(base, 'meta');
  // A data directory from before tiers, with blocks under data_dir.
  const server = await TestServer.start({
    dataDir,
    shards: 1,
    env: { HANGAR_BLOCK_BYTES: '64KiB', HANGAR_INLINE_BYTES_MAX: '0' },
  });
  const bucket = await newBucket(server.client(), 'legacy');
  await server
    .client()
    .send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: randomBytesSeeded(5000, 3) }));
  await server.stop();

  const elsewhere = writeTierConfig(base, [{ path: join(base, 'new'), capacity: '1G' }]);
  const refused = refusedStart(['--config', elsewhere, '--data-dir', dataDir]);
  t.not(refused.status, 0);
  t.regex(refused.output, /data_dirs does not list data_dir/);

  // Listed as a read-only entry, its blocks are served (and drained).
  const listed = writeTierConfig(base, [
    { path: dataDir, capacity: '1G', readOnly: true },
    { path: join(base, 'new'), capacity: '1G' },
  ]);
  const again = await TestServer.start({ dataDir, args: ['--config', listed] });
  try {
    t.true((await bytesOf(again, bucket, 'k')).equals(randomBytesSeeded(5000, 3)));
  } finally {
    await again.stop();
  }

  const retiered = writeTierConfig(
    base,
    [
      { path: dataDir, capacity: '1G' },
      { path: join(base, 'new'), capacity: '1G', tier: 'cold' },
    ],
    '[tiers.cold]\nclasses = ["GLACIER"]\n',
  );
  const changed = refusedStart(['--config', retiered, '--data-dir', dataDir]);
  t.not(changed.status, 0);
  t.regex(changed.output, /tier cannot change/);

  const bad = writeTierConfig(base, [{ path: join(base, 'x'), capacity: 'lots' }]);
  const badRun = refusedStart(['--config', bad, '--data-dir', dataDir]);
  t.not(badRun.status, 0);
  t.regex(badRun.output, /data_dirs\[0\]\.capacity/);
});
