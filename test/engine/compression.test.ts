import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { onNode } from '../helpers/admin.js';
import { listedCorrupt, scrubNow } from '../helpers/block-health.js';
import { flipByte, shardPath } from '../helpers/blocks.js';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { metricValue, type Sample, scrapeMetrics } from '../helpers/metrics.js';
import { newBucket, objectBytes, s3Failure, TestServer, useServer } from '../helpers/server.js';

/**
 * zstd block compression (block_compression = "zstd", the default tier's setting): a block is
 * stored as `<hash>.zst` (hash of the UNCOMPRESSED bytes) when zstd saves at least 1/8 of it,
 * else plain `<hash>`; every read decodes and checks a compressed block against its name before
 * serving a byte. Plain and compressed blocks live side by side, so a data directory written
 * with either setting is read with the other.
 */

const MiB = 1024 * 1024;
const SHARDS = 2;
const ZSTD = { HANGAR_BLOCK_COMPRESSION: 'zstd' };

const suite = useServer(test, { shards: SHARDS, env: ZSTD });

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'bucket', 'object', 'shard', 'block'];

/** Log-like text from a seed: compresses several times over, and no two seeds alike. */
function textLike(bytes: number, seed: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  let x = seed >>> 0 || 1;
  for (let n = 0; length < bytes; n++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const line = `${seed} ${n} ${WORDS[(x >>> 0) % WORDS.length]} ${(x >>> 8) % 1000} ok\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The names (hashes) of the 1 MiB blocks of `data`. */
function blockHashes(data: Buffer): string[] {
  const hashes = [];
  for (let at = 0; at < data.byteLength; at += MiB)
    hashes.push(sha256(data.subarray(at, at + MiB)));
  return hashes;
}

/** Every file of a block in a data directory, across shards, plain or compressed. */
function filesOf(dataDir: string, hash: string): Array<{ path: string; compressed: boolean }> {
  const found = [];
  for (let shard = 0; shard < SHARDS; shard++) {
    for (const compressed of [false, true]) {
      const name = compressed ? `${hash}.zst` : hash;
      const path = join(shardPath(dataDir, shard), 'blocks', hash.slice(0, 2), name);
      if (existsSync(path)) found.push({ path, compressed });
    }
  }
  return found;
}

/** Bytes the distinct inodes of a set of block files take (hard links counted once). */
function diskBytes(paths: readonly string[]): number {
  const inodes = new Map<number, number>();
  for (const path of paths) {
    const { ino, size } = statSync(path);
    inodes.set(ino, size);
  }
  return [...inodes.values()].reduce((sum, size) => sum + size, 0);
}

async function getRange(s3: S3Client, bucket: string, key: string, range: string) {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
}

async function metrics(server: TestServer): Promise<(name: string) => number> {
  const samples: Sample[] = await scrapeMetrics(server);
  return (name) => metricValue(samples, name);
}

test.serial(
  'a compressible object is stored smaller and reads back whole, ranges too',
  async (t) => {
    const { server, s3 } = suite;
    const bucket = await newBucket(s3, 'zstd');
    const data = textLike(10 * MiB, 1);
    const before = await metrics(server);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'text', Body: data }));
    const files = blockHashes(data).flatMap((hash) => filesOf(server.dataDir, hash));
    t.is(files.length, 10, 'one file per block');
    t.true(
      files.every((f) => f.compressed),
      'every block is stored compressed',
    );
    const stored = diskBytes(files.map((f) => f.path));
    t.true(stored < data.byteLength / 2, `${stored} bytes on disk for ${data.byteLength}`);
    t.true((await objectBytes(s3, bucket, 'text')).equals(data), 'read back byte for byte');
    const ranges: Array<[number, number]> = [
      [0, 0],
      [MiB - 1, MiB],
      [MiB - 5, 2 * MiB + 5],
      [3 * MiB, 4 * MiB - 1],
      [5 * MiB + 123, 5 * MiB + 456],
      [10 * MiB - 7, 10 * MiB - 1],
    ];
    for (const [first, last] of ranges) {
      const part = await getRange(s3, bucket, 'text', `bytes=${first}-${last}`);
      t.true(part.equals(data.subarray(first, last + 1)), `bytes=${first}-${last}`);
    }
    t.true((await getRange(s3, bucket, 'text', 'bytes=-10')).equals(data.subarray(-10)));
    const after = await metrics(server);
    const grew = (name: string): number => after(name) - before(name);
    t.is(grew('hangar_blocks_compressed_total'), 10);
    t.is(grew('hangar_blocks_compressed_logical_bytes_total'), data.byteLength);
    t.is(grew('hangar_blocks_compressed_physical_bytes_total'), stored);
    t.is(grew('hangar_block_compression_saved_bytes_total'), data.byteLength - stored);
    t.is(grew('hangar_blocks_incompressible_total'), 0);
  },
);

test.serial('random bytes are stored plain and counted as incompressible', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'zstd-random');
  const data = randomBytes(3 * MiB);
  const before = await metrics(server);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'noise', Body: data }));
  const files = blockHashes(data).flatMap((hash) => filesOf(server.dataDir, hash));
  t.deepEqual(
    files.map((f) => f.compressed),
    [false, false, false],
  );
  t.true((await objectBytes(s3, bucket, 'noise')).equals(data));
  t.true(
    (await getRange(s3, bucket, 'noise', `bytes=${MiB - 3}-${MiB + 3}`)).equals(
      data.subarray(MiB - 3, MiB + 4),
    ),
  );
  const after = await metrics(server);
  t.is(
    after('hangar_blocks_incompressible_total') - before('hangar_blocks_incompressible_total'),
    3,
  );
  t.is(
    after('hangar_blocks_incompressible_bytes_total') -
      before('hangar_blocks_incompressible_bytes_total'),
    3 * MiB,
  );
  t.is(after('hangar_blocks_compressed_total'), before('hangar_blocks_compressed_total'));
});

test.serial('identical objects and copies share one compressed file per block', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'zstd-dedup');
  const data = textLike(3 * MiB, 2);
  const before = await metrics(server);
  for (let i = 0; i < 6; i++) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `same-${i}`, Body: data }));
  }
  // Copies across shards link the source's compressed file under the same name.
  for (let i = 0; i < 6; i++) {
    await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: `copy-${i}`, CopySource: `${bucket}/same-0` }),
    );
  }
  for (const hash of blockHashes(data)) {
    const files = filesOf(server.dataDir, hash);
    t.true(files.length >= 1 && files.length <= SHARDS, `at most a name per shard: ${hash}`);
    t.true(
      files.every((f) => f.compressed),
      hash,
    );
    t.is(new Set(files.map((f) => statSync(f.path).ino)).size, 1, `one inode: ${hash}`);
  }
  const after = await metrics(server);
  t.is(
    after('hangar_blocks_compressed_total') - before('hangar_blocks_compressed_total'),
    3,
    'each block compressed and stored once',
  );
  t.true(after('hangar_blocks_deduplicated_total') > before('hangar_blocks_deduplicated_total'));
  for (const key of ['same-5', 'copy-3', 'copy-4', 'copy-5']) {
    t.true((await objectBytes(s3, bucket, key)).equals(data), key);
  }
});

function quarantinedAs(dataDir: string, name: string): boolean {
  for (let shard = 0; shard < SHARDS; shard++) {
    const dir = join(shardPath(dataDir, shard), 'quarantine');
    if (existsSync(dir) && readdirSync(dir).some((entry) => entry.startsWith(`${name}.`))) {
      return true;
    }
  }
  return false;
}

/** The one compressed file of a block. */
function compressedFile(dataDir: string, hash: string): string {
  const [file, ...others] = filesOf(dataDir, hash);
  if (file === undefined || others.length > 0 || !file.compressed) {
    throw new Error(`block ${hash} is not one compressed file`);
  }
  return file.path;
}

test.serial(
  'a damaged .zst file fails the GET, the scrub finds another, a re-upload heals them',
  async (t) => {
    const { server, s3 } = suite;
    const bucket = await newBucket(s3, 'zstd-rot');
    const data = textLike(3 * MiB, 3);
    const [first, second] = blockHashes(data) as [string, string];
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rot', Body: data }));
    // A byte in the middle of the frame: its content, not only its header.
    const firstFile = compressedFile(server.dataDir, first);
    flipByte(firstFile, Math.floor(statSync(firstFile).size / 2));
    const failure = await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot' })));
    t.is(failure.status, 500);
    t.is(failure.name, 'InternalError');
    const range = await s3Failure(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rot', Range: 'bytes=10-20' })),
    );
    t.is(range.status, 500, 'a range inside the damaged block fails too');
    t.true(
      await eventually(
        async () =>
          (await listedCorrupt(server, first)) && quarantinedAs(server.dataDir, `${first}.zst`),
        10_000,
      ),
      'the read had the block checked, quarantined and listed',
    );
    // The second block is damaged behind the readers' back: the scrub finds it.
    flipByte(compressedFile(server.dataDir, second), 20);
    await scrubNow(server);
    t.true(await listedCorrupt(server, second), 'the scrub lists the damaged block');
    t.true(quarantinedAs(server.dataDir, `${second}.zst`));
    // The same bytes again (on the same shard: the same key) heal both blocks.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rot', Body: data }));
    t.true((await objectBytes(s3, bucket, 'rot')).equals(data), 'healed');
    t.false(await listedCorrupt(server, first));
    t.false(await listedCorrupt(server, second));
    t.is(compressedFile(server.dataDir, first).endsWith('.zst'), true);
  },
);

test.serial('orphan cleanup removes unreferenced .zst files; deletes unlink them', async (t) => {
  const { server, s3 } = suite;
  const bucket = await newBucket(s3, 'zstd-orphan');
  const data = textLike(2 * MiB, 4);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: data }));
  const hashes = blockHashes(data);
  t.is(hashes.flatMap((hash) => filesOf(server.dataDir, hash)).length, 2);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
  t.true(
    await eventually(async () =>
      hashes.every((hash) => filesOf(server.dataDir, hash).length === 0),
    ),
    'a freed compressed block is unlinked',
  );
  const orphan = sha256(Buffer.from('an orphan'));
  const orphanPath = join(
    shardPath(server.dataDir, 0),
    'blocks',
    orphan.slice(0, 2),
    `${orphan}.zst`,
  );
  writeFileSync(orphanPath, 'left behind');
  const launched = await onNode(server, 'POST', 'LaunchRepairOperation', { repairType: 'blocks' });
  t.is(launched.status, 200);
  t.true(await eventually(async () => !existsSync(orphanPath), 20_000), 'the orphan went');
});

/** A server on a data directory of its own that outlives it (the test restarts it). */
async function ownDataDir(t: ExecutionContext): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-zstd-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  return dataDir;
}

async function withServer<T>(
  dataDir: string,
  env: Record<string, string>,
  work: (s3: S3Client, server: TestServer) => Promise<T>,
): Promise<T> {
  const server = await TestServer.start({ dataDir, shards: SHARDS, env });
  const s3 = server.client();
  try {
    return await work(s3, server);
  } finally {
    s3.destroy();
    await server.stop();
  }
}

test.serial('a data directory written plain is read compressed, and the other way', async (t) => {
  const dataDir = await ownDataDir(t);
  const plain = textLike(3 * MiB + 5, 5);
  const packed = textLike(3 * MiB + 5, 6);
  const bucket = 'modes';
  await withServer(dataDir, {}, async (s3) => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: plain }));
  });
  t.true(blockHashes(plain).every((h) => filesOf(dataDir, h).every((f) => !f.compressed)));
  await withServer(dataDir, ZSTD, async (s3) => {
    t.true(
      (await objectBytes(s3, bucket, 'plain')).equals(plain),
      'plain blocks read with zstd on',
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'packed', Body: packed }));
    // The same bytes again: the plain blocks already there serve them (no second file).
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain-again', Body: plain }));
  });
  // The 5-byte last block saves nothing compressed: one object, both formats.
  t.deepEqual(
    blockHashes(packed).flatMap((h) => filesOf(dataDir, h).map((f) => f.compressed)),
    [true, true, true, false],
  );
  t.true(blockHashes(plain).every((h) => filesOf(dataDir, h).every((f) => !f.compressed)));
  await withServer(dataDir, { HANGAR_BLOCK_COMPRESSION: 'none' }, async (s3) => {
    t.true(
      (await objectBytes(s3, bucket, 'packed')).equals(packed),
      'zstd blocks read with it off',
    );
    t.true(
      (await getRange(s3, bucket, 'packed', `bytes=${MiB - 2}-${2 * MiB + 1}`)).equals(
        packed.subarray(MiB - 2, 2 * MiB + 2),
      ),
    );
    t.true((await objectBytes(s3, bucket, 'plain-again')).equals(plain));
  });
  const report = await fsckReport(dataDir);
  t.like(report, {
    missingBlocks: [],
    unreferencedBlocks: [],
    duplicateBlockFiles: [],
    refcountMismatches: [],
    counterMismatches: [],
    tempFiles: 0,
  });
  t.is(report.compressedBlockFiles, 3, "the packed object's compressible blocks");
});
