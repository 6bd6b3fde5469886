import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { shardOf } from '../../engine/pool/placement.js';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { objectBytes, randomBytesSeeded, TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;

async function bucketId(server: TestServer, name: string): Promise<string> {
  const { stdout } = await server.cli('bucket', 'info', name, '--json');
  return (JSON.parse(stdout) as { id: string }).id;
}

test('objects survive a clean restart and a kill -9 restart', async (t) => {
  let server = await TestServer.start({ shards: 2 });
  const dataDir = server.dataDir;
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'persist' }));
    const bodies = new Map<string, Buffer>([
      ['empty', Buffer.alloc(0)],
      ['inline', randomBytesSeeded(1000, 1)],
      ['one-block-plus-one', randomBytesSeeded(MiB + 1, 2)],
      ['three-blocks', randomBytesSeeded(3 * MiB + 17, 3)],
    ]);
    for (const [key, body] of bodies)
      await s3.send(new PutObjectCommand({ Bucket: 'persist', Key: key, Body: body }));
    await server.stop();
    server = await TestServer.start({ dataDir, shards: 2 });
    for (const [key, body] of bodies)
      t.true(
        (await objectBytes(server.client(), 'persist', key)).equals(body),
        `${key} after clean restart`,
      );
    await server.kill();
    server = await TestServer.start({ dataDir, shards: 2 });
    for (const [key, body] of bodies)
      t.true(
        (await objectBytes(server.client(), 'persist', key)).equals(body),
        `${key} after kill -9`,
      );
  } finally {
    await server.destroy();
  }
});

test('a data directory refuses a different shard count', async (t) => {
  const server = await TestServer.start({ shards: 2 });
  await server.stop();
  const error = await t.throwsAsync(TestServer.start({ dataDir: server.dataDir, shards: 3 }));
  t.regex(error?.message ?? '', /shard count of a data directory cannot change/);
  await server.destroy();
});

test('identical objects share blocks, across shards too, and deleting both frees them', async (t) => {
  const server = await TestServer.start({ shards: 2 });
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'dedup' }));
    const id = await bucketId(server, 'dedup');
    // Two keys on different shards (hard-linked blocks) and two on the same shard (refcounts).
    const keys = ['same-0'];
    for (let i = 1; keys.length < 2; i++)
      if (shardOf(id, `other-${i}`, 2) !== shardOf(id, 'same-0', 2)) keys.push(`other-${i}`);
    for (let i = 1; keys.length < 3; i++)
      if (shardOf(id, `same-${i}`, 2) === shardOf(id, 'same-0', 2)) keys.push(`same-${i}`);
    const body = randomBytesSeeded(10 * MiB, 42);
    for (const key of keys)
      await s3.send(new PutObjectCommand({ Bucket: 'dedup', Key: key, Body: body }));
    const report = await fsckReport(server.dataDir);
    t.is(report.storedBytes, 10 * MiB, 'the 10 MiB are stored once');
    t.is(report.blockFiles, 20, '10 blocks, named in each of the two shards');
    t.deepEqual(report.missingBlocks, []);
    for (const key of keys) t.true((await objectBytes(s3, 'dedup', key)).equals(body));
    for (const key of keys) await s3.send(new DeleteObjectCommand({ Bucket: 'dedup', Key: key }));
    t.true(
      await eventually(async () => (await fsckReport(server.dataDir)).blockFiles === 0),
      'every block file is gone',
    );
    const after = await fsckReport(server.dataDir);
    t.is(after.storedBytes, 0);
    t.is(after.objects, 0);
  } finally {
    await server.destroy();
  }
});

test('kill -9 under concurrent PUTs loses nothing acknowledged and leaks no block', async (t) => {
  let server = await TestServer.start({ shards: 2 });
  const dataDir = server.dataDir;
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    const sizeOf = (i: number): number => [0, 100, 20_000, MiB, MiB + 3, 2 * MiB + 99][i % 6] ?? 0;
    const acknowledged: number[] = [];
    let next = 0;
    const total = 400;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        try {
          await s3.send(
            new PutObjectCommand({
              Bucket: 'crash',
              Key: `obj-${i}`,
              Body: randomBytesSeeded(sizeOf(i), i + 1),
            }),
          );
          acknowledged.push(i);
        } catch {
          // The server died under this request: it was never acknowledged.
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    while (acknowledged.length < 60) await new Promise((resolve) => setTimeout(resolve, 5));
    await server.kill();
    await Promise.all(workers);
    t.true(acknowledged.length >= 60);
    t.true(acknowledged.length < total, 'the kill interrupted the writers');
    server = await TestServer.start({ dataDir, shards: 2 });
    const reader = server.client();
    for (const i of acknowledged) {
      const bytes = await objectBytes(reader, 'crash', `obj-${i}`);
      t.true(
        bytes.equals(randomBytesSeeded(sizeOf(i), i + 1)),
        `obj-${i} reads back byte-identical`,
      );
    }
    await server.stop();
    const report = await fsckReport(dataDir);
    t.deepEqual(report.missingBlocks, [], 'no referenced block is missing');
    t.deepEqual(report.refcountMismatches, [], 'refcounts match the object records');
    t.deepEqual(report.unreferencedBlocks, [], 'start-up removed blocks of unacknowledged PUTs');
    t.is(report.tempFiles, 0);
  } finally {
    await server.destroy();
  }
});

test('kill -9 while writing versions loses no acknowledged version and leaks no block', async (t) => {
  let server = await TestServer.start({ shards: 2 });
  const dataDir = server.dataDir;
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'crash-versions' }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: 'crash-versions',
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const sizeOf = (i: number): number => [10, 20_000, MiB + 3][i % 3] ?? 0;
    // Few keys, many versions each: every PUT makes the previous version noncurrent.
    const acknowledged: Array<{ i: number; key: string; versionId: string }> = [];
    let next = 0;
    const total = 300;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const key = `v-${i % 7}`;
        try {
          const out = await s3.send(
            new PutObjectCommand({
              Bucket: 'crash-versions',
              Key: key,
              Body: randomBytesSeeded(sizeOf(i), i + 1),
            }),
          );
          acknowledged.push({ i, key, versionId: out.VersionId ?? '' });
        } catch {
          // The server died under this request: it was never acknowledged.
        }
      }
    };
    const workers = Array.from({ length: 12 }, worker);
    while (acknowledged.length < 40) await new Promise((resolve) => setTimeout(resolve, 5));
    await server.kill();
    await Promise.all(workers);
    t.true(acknowledged.length < total, 'the kill interrupted the writers');
    server = await TestServer.start({ dataDir, shards: 2 });
    const reader = server.client();
    for (const { i, key, versionId } of acknowledged) {
      const got = await reader.send(
        new GetObjectCommand({ Bucket: 'crash-versions', Key: key, VersionId: versionId }),
      );
      const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
      t.true(bytes.equals(randomBytesSeeded(sizeOf(i), i + 1)), `${key} ${versionId}`);
    }
    await server.stop();
    const report = await fsckReport(dataDir);
    t.deepEqual(report.missingBlocks, [], 'no referenced block is missing');
    t.deepEqual(report.refcountMismatches, [], 'refcounts match the versions');
    t.deepEqual(report.counterMismatches, [], 'usage counts every version');
    t.deepEqual(report.unreferencedBlocks, [], 'start-up removed blocks of unacknowledged PUTs');
  } finally {
    await server.destroy();
  }
});
