import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import test, { type ExecutionContext } from 'ava';
import { open } from 'lmdb';
import type { FsckReport } from '../../engine/fsck.js';
import { onNode } from '../helpers/admin.js';
import { editObjectRecords, shardPath } from '../helpers/blocks.js';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { newBucket, objectBytes, s3Failure, TestServer } from '../helpers/server.js';

/**
 * Medium inline bodies (over LIMITS.recordBodyBytesMax, up to inline_bytes_max) live in the
 * shard's `bodies` table, named by their SHA-256 and reference-counted like blocks: copies and
 * identical uploads share one, the last reference frees it, a damaged one is never served, and
 * a record from before the table (its body inside the record) still reads.
 */

const KiB = 1024;
const SHARDS = 2;
const INLINE_MAX = 256 * KiB;
const ENV = { HANGAR_INLINE_BYTES_MAX: String(INLINE_MAX) };

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every stored body of every shard, by `shard:hash`, in a stopped or running server. */
function storedBodies(dataDir: string): Map<string, Buffer> {
  const all = new Map<string, Buffer>();
  for (let shard = 0; shard < SHARDS; shard++) {
    const env = open({ path: join(shardPath(dataDir, shard), 'meta'), maxDbs: 12 });
    try {
      const bodies = env.openDB<Buffer, string>({ name: 'bodies', encoding: 'binary' });
      for (const { key, value } of bodies.getRange({})) all.set(`${shard}:${key}`, value);
    } finally {
      env.close();
    }
  }
  return all;
}

/** Rewrites a stored body in place (bitrot inside LMDB), in a stopped server. */
function damageBody(dataDir: string, hash: string): void {
  for (let shard = 0; shard < SHARDS; shard++) {
    const env = open({ path: join(shardPath(dataDir, shard), 'meta'), maxDbs: 12 });
    try {
      const bodies = env.openDB<Buffer, string>({ name: 'bodies', encoding: 'binary' });
      const stored = bodies.getBinary(hash);
      if (stored === undefined) continue;
      stored[1000] = ~(stored[1000] ?? 0) & 0xff;
      bodies.putSync(hash, stored);
      return;
    } finally {
      env.close();
    }
  }
  throw new Error(`no shard stores body ${hash}`);
}

function clean(t: ExecutionContext, report: FsckReport, bodies: number, what: string): void {
  t.like(
    report,
    {
      bodies,
      damagedBodies: [],
      unreferencedBodies: [],
      refcountMismatches: [],
      counterMismatches: [],
      missingBlocks: [],
      unreferencedBlocks: [],
    },
    what,
  );
}

/** The hashes ListBlockErrors reports corrupt. */
async function corruptHashes(server: TestServer): Promise<string[]> {
  const { status, node } = await onNode(server, 'GET', 'ListBlockErrors');
  if (status !== 200) throw new Error(`ListBlockErrors: ${status}`);
  return (node as Array<{ blockHash: string; kind: string }>)
    .filter((e) => e.kind === 'corrupt')
    .map((e) => e.blockHash);
}

async function put(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

test.serial('bodies are shared by copies and equal uploads, and freed by the last', async (t) => {
  const server = await TestServer.start({ shards: SHARDS, env: ENV });
  const s3 = server.client();
  try {
    const bucket = await newBucket(s3, 'bodies');
    const x = randomBytes(64 * KiB);
    const y = randomBytes(200 * KiB);
    await put(s3, bucket, 'a', x);
    clean(t, await fsckReport(server.dataDir), 1, 'one upload, one body, no block file');
    t.is((await fsckReport(server.dataDir)).blockFiles, 0);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'b', CopySource: `${bucket}/a` }));
    await put(s3, bucket, 'c', x);
    const shared = await fsckReport(server.dataDir);
    // Keys spread over shards: a body is stored once per shard that holds a key naming it.
    t.true(shared.bodies >= 1 && shared.bodies <= SHARDS, 'copies and equal uploads share');
    clean(t, shared, shared.bodies, 'after a copy and an equal upload');
    await put(s3, bucket, 'a', y);
    t.true((await objectBytes(s3, bucket, 'a')).equals(y));
    t.true((await objectBytes(s3, bucket, 'b')).equals(x), 'the copy keeps the old body');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'b' }));
    t.true((await objectBytes(s3, bucket, 'c')).equals(x), 'an equal upload keeps it too');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'c' }));
    clean(t, await fsckReport(server.dataDir), 1, 'only the overwrite body is left');
    const left = [...storedBodies(server.dataDir).keys()].map((name) => name.split(':')[1]);
    t.deepEqual(left, [sha256(y)]);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a' }));
    clean(t, await fsckReport(server.dataDir), 0, 'the last delete frees the body');
  } finally {
    s3.destroy();
    await server.destroy();
  }
});

test.serial('a body of unknown length (PostObject) grows inline up to the limit', async (t) => {
  const server = await TestServer.start({ shards: SHARDS, env: ENV });
  const s3 = server.client();
  try {
    const bucket = await newBucket(s3, 'bodies-post');
    // Past the 64 KiB the buffer starts with; the last one past the limit goes to blocks.
    const sizes = [1000, 150 * KiB, INLINE_MAX, INLINE_MAX + 1];
    const bodies = sizes.map((size) => randomBytes(size));
    for (const [i, body] of bodies.entries()) {
      const { url, fields } = await createPresignedPost(
        s3 as unknown as Parameters<typeof createPresignedPost>[0],
        { Bucket: bucket, Key: `post-${i}`, Expires: 60 },
      );
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob([body]), 'f.bin');
      const response = await fetch(url, { method: 'POST', body: form });
      t.is(response.status, 204, await response.text());
      t.true((await objectBytes(s3, bucket, `post-${i}`)).equals(body), `${sizes[i]} bytes`);
    }
    const report = await fsckReport(server.dataDir);
    clean(t, report, 2, 'the two medium bodies are in the bodies table');
    t.true(report.blockFiles >= 1, 'one past the limit is in blocks');
  } finally {
    s3.destroy();
    await server.destroy();
  }
});

test.serial('a damaged body is never served, fsck reports it, an upload heals it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-bodies-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const body = randomBytes(100 * KiB);
  let server = await TestServer.start({ dataDir, shards: SHARDS, env: ENV });
  let s3 = server.client();
  const bucket = await newBucket(s3, 'bodies-rot');
  try {
    await put(s3, bucket, 'obj', body);
    s3.destroy();
    await server.stop();
    damageBody(dataDir, sha256(body));
    const report = await fsckReport(dataDir);
    t.is(report.damagedBodies.length, 1, 'fsck sees the damage');
    server = await TestServer.start({ dataDir, shards: SHARDS, env: ENV });
    s3 = server.client();
    const failure = await s3Failure(objectBytes(s3, bucket, 'obj'));
    t.is(failure.status, 500);
    t.is(failure.name, 'InternalError');
    const launched = await onNode(server, 'POST', 'LaunchRepairOperation', {
      repairType: { scrub: 'start' },
    });
    t.is(launched.status, 200);
    t.true(
      await eventually(
        async () => (await corruptHashes(server)).includes(sha256(body)),
        20_000,
        100,
      ),
      'the scrub records the damaged body',
    );
    const retried = await onNode(server, 'POST', 'RetryBlockResync', {
      blockHashes: [sha256(body)],
    });
    t.deepEqual(retried.node, { count: 1, fixed: 0 }, 'a retry checks the body, still damaged');
    // The same bytes again (another key naming the same body) rewrite the damaged copy.
    await put(s3, bucket, 'obj', body);
    t.true((await objectBytes(s3, bucket, 'obj')).equals(body));
    clean(t, await fsckReport(dataDir), 1, 'healed');
    t.deepEqual(await corruptHashes(server), [], 'healing clears the error');
  } finally {
    s3.destroy();
    await server.destroy();
  }
});

test.serial('a record holding its body itself (before the bodies table) still reads', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-bodies-old-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const body = randomBytes(96 * KiB);
  let server = await TestServer.start({ dataDir, shards: SHARDS, env: ENV });
  let s3 = server.client();
  const bucket = await newBucket(s3, 'bodies-old');
  try {
    await put(s3, bucket, 'old', body);
    s3.destroy();
    await server.stop();
    // As the store wrote it before: the body inside the record, no bodies-table entry.
    const edited = editObjectRecords(dataDir, SHARDS, (record) => {
      if (record['body'] !== sha256(body)) return undefined;
      const { body: _name, ...rest } = record;
      return { ...rest, inline: body };
    });
    t.is(edited, 1);
    dropBodies(dataDir);
    clean(t, await fsckReport(dataDir), 0, 'an old-format store is consistent');
    server = await TestServer.start({ dataDir, shards: SHARDS, env: ENV });
    s3 = server.client();
    t.true((await objectBytes(s3, bucket, 'old')).equals(body), 'read where it is');
    await put(s3, bucket, 'old', body);
    t.true((await objectBytes(s3, bucket, 'old')).equals(body));
    clean(t, await fsckReport(dataDir), 1, 'an overwrite moves it to the bodies table');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'old' }));
    clean(t, await fsckReport(dataDir), 0, 'and a delete frees it');
  } finally {
    s3.destroy();
    await server.destroy();
  }
});

/** Empties the bodies tables of a stopped server (the old-format store had none). */
function dropBodies(dataDir: string): void {
  for (let shard = 0; shard < SHARDS; shard++) {
    const env = open({ path: join(shardPath(dataDir, shard), 'meta'), maxDbs: 12 });
    try {
      for (const name of ['bodies', 'body_refs']) {
        const db = env.openDB({ name, encoding: 'binary' });
        for (const key of db.getKeys({})) db.removeSync(key);
      }
    } finally {
      env.close();
    }
  }
}
