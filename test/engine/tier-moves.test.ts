import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall, onNode } from '../helpers/admin.js';
import { flipByte } from '../helpers/blocks.js';
import {
  blockFilesIn,
  bucketIdOf,
  bytesOf,
  COLD_TIER,
  fsckWithConfig,
  tierLayout,
  writeTierConfig,
} from '../helpers/data-dirs.js';
import { eventually } from '../helpers/fsck.js';
import { newBucket, randomBytesSeeded, TestServer, useTempDir } from '../helpers/server.js';

const root = useTempDir(test, 'hangar-tier-moves-');

test('MoveObjectTier moves a version to the cold tier and back, byte-identical', async (t) => {
  const { dataDir, config, dirs } = tierLayout(
    root,
    { hot: { capacity: '1T' }, cold: { capacity: '1T', tier: 'cold' } },
    COLD_TIER,
  );
  const { hot, cold } = dirs;
  const server = await TestServer.start({ dataDir, shards: 2, args: ['--config', config] });
  try {
    const s3 = server.client();
    const bucket = await newBucket(s3, 'move');
    const bucketId = await bucketIdOf(server, bucket);
    const body = randomBytesSeeded(200_000, 42);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: body }));
    // A second object with the same bytes shares the standard blocks (dedup within a tier).
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'twin', Body: body }));
    t.is(blockFilesIn(hot).length, 4);

    const move = (key: string, tier: string) =>
      adminCall(server, 'POST', '/v2/MoveObjectTier', { bucketId, key, tier });
    const moved = await move('big', 'cold');
    t.is(moved.status, 200, moved.text);
    t.deepEqual(moved.json, { moved: true, tier: 'cold', blocks: 4 });
    t.is(blockFilesIn(cold).length, 4);
    t.is(blockFilesIn(hot).length, 4, 'the twin still references the standard blocks');
    t.true((await bytesOf(server, bucket, 'big')).equals(body));

    t.deepEqual((await move('big', 'cold')).json, { moved: false, tier: 'cold', blocks: 4 });
    t.deepEqual((await move('twin', 'cold')).json, { moved: true, tier: 'cold', blocks: 4 });
    t.true(await eventually(async () => blockFilesIn(hot).length === 0), 'standard copies freed');
    t.is(blockFilesIn(cold).length, 4, 'one copy per tier: the twin reuses the cold blocks');
    t.true((await bytesOf(server, bucket, 'twin')).equals(body));

    t.deepEqual((await move('big', 'standard')).json, { moved: true, tier: 'standard', blocks: 4 });
    t.true((await bytesOf(server, bucket, 'big')).equals(body));
    t.is((await move('nope', 'cold')).status, 404);
    t.is((await move('big', 'lukewarm')).status, 400);
    t.true(await eventually(async () => blockFilesIn(hot).length === 4));

    const status = await adminCall(server, 'GET', '/v2/GetClusterStatus');
    const listed = status.json.nodes[0].dataDirectories as Array<Record<string, unknown>>;
    t.deepEqual(
      listed.map(({ path, capacity, tier, readOnly }) => ({ path, capacity, tier, readOnly })),
      [
        { path: hot, capacity: 2 ** 40, tier: 'standard', readOnly: false },
        { path: cold, capacity: 2 ** 40, tier: 'cold', readOnly: false },
      ],
    );
    t.true(listed.every((dir) => typeof dir.available === 'number'));
  } finally {
    await server.stop();
  }
  const { code, report } = await fsckWithConfig(config, dataDir);
  t.is(code, 0, JSON.stringify(report));
  t.deepEqual(report.blockDirectories, [hot, cold]);
  t.is(report.blockFiles, 8);
  t.deepEqual(
    [report.missingBlocks, report.unreferencedBlocks, report.refcountMismatches],
    [[], [], []],
  );
});

test('a read_only dir drains while GETs go on; kill -9 mid-drain loses nothing', async (t) => {
  const base = mkdtempSync(join(root, 'drain-'));
  const keep = join(base, 'keep');
  const old = join(base, 'old');
  const dataDir = join(base, 'meta');
  const both = writeTierConfig(base, [
    { path: keep, capacity: '1G' },
    { path: old, capacity: '9G' },
  ]);
  const first = await TestServer.start({ dataDir, shards: 2, args: ['--config', both] });
  const bodies = new Map<string, Buffer>();
  let bucket = '';
  try {
    const s3 = first.client();
    bucket = await newBucket(s3, 'drain');
    for (let i = 0; i < 120; i++) {
      const body = randomBytesSeeded(70_000, 1000 + i);
      bodies.set(`k${i}`, body);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i}`, Body: body }));
    }
  } finally {
    await first.stop();
  }
  const initial = blockFilesIn(old).length;
  t.true(initial > 150, `the old dir holds ${initial} blocks`);

  const draining = writeTierConfig(base, [
    { path: keep, capacity: '1G' },
    { path: old, capacity: '9G', readOnly: true },
  ]);
  // Killed as soon as the drain has visibly started.
  const victim = await TestServer.start({ dataDir, shards: 2, args: ['--config', draining] });
  await eventually(async () => blockFilesIn(old).length < initial, 20_000, 5);
  await victim.kill();
  t.true(blockFilesIn(old).length > 0, 'killed before the drain finished');

  const server = await TestServer.start({ dataDir, shards: 2, args: ['--config', draining] });
  try {
    let reads = 0;
    let readsFailed = 0;
    const reader = (async () => {
      while (blockFilesIn(old).length > 0) {
        const key = `k${reads % 120}`;
        const got = await bytesOf(server, bucket, key).catch(() => null);
        if (got === null || !got.equals(bodies.get(key) ?? Buffer.alloc(0))) readsFailed++;
        reads++;
      }
    })();
    t.true(await eventually(async () => blockFilesIn(old).length === 0, 60_000, 100));
    await reader;
    t.is(readsFailed, 0, `${reads} reads during the drain`);
    const drainStatus = async (): Promise<{ state: string; queueLength: number } | undefined> => {
      const workers = await adminCall(server, 'POST', '/v2/ListWorkers?node=self', {});
      return (Object.values(workers.json.success).flat() as Array<{ name: string }>).find(
        (w) => w.name === 'Data directory drain',
      ) as { state: string; queueLength: number } | undefined;
    };
    t.true(
      await eventually(async () => {
        const status = await drainStatus();
        return status?.state === 'done' && status.queueLength === 0;
      }),
      JSON.stringify(await drainStatus()),
    );
    for (const [key, body] of bodies)
      t.true((await bytesOf(server, bucket, key)).equals(body), key);
  } finally {
    await server.stop();
  }
  const { code, report } = await fsckWithConfig(draining, dataDir);
  t.is(code, 0, JSON.stringify(report));
  t.is(report.missingBlocks.length, 0);
  t.is(report.tempFiles, 0);
  t.is(blockFilesIn(keep).length, report.referencedBlocks);
});

test('fsck --verify and the scrub find corrupt blocks on every disk and tier', async (t) => {
  const { dataDir, config, dirs } = tierLayout(
    root,
    { one: { capacity: '1G' }, two: { capacity: '1G' }, cold: { capacity: '1G', tier: 'cold' } },
    COLD_TIER,
  );
  const { two, cold } = dirs;
  const put = async (server: TestServer, bucket: string): Promise<void> => {
    const s3 = server.client();
    for (let i = 0; i < 4; i++) {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `f${i}`, Body: randomBytesSeeded(3000, i) }),
      );
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'ice',
        Body: randomBytesSeeded(3000, 77),
        StorageClass: 'DEEP_ARCHIVE',
      }),
    );
  };
  const first = await TestServer.start({ dataDir, shards: 1, args: ['--config', config] });
  const bucket = await newBucket(first.client(), 'fsck');
  try {
    await put(first, bucket);
  } finally {
    await first.stop();
  }
  const damaged = [two, cold].map((dir) => {
    const [name] = blockFilesIn(dir);
    const path = join(dir, 'shards', '000', 'blocks', (name ?? '').slice(0, 2), name ?? '');
    t.true(readdirSync(join(path, '..')).includes(name ?? ''));
    flipByte(path, 10);
    return name ?? '';
  });
  const { code, report } = await fsckWithConfig(config, dataDir);
  t.is(code, 1);
  t.deepEqual(report.corruptBlocks.sort(), [
    `0:${join(cold, 'shards', '000', 'blocks')}:cold:${damaged[1]}`,
    `0:${join(two, 'shards', '000', 'blocks')}:${damaged[0]}`,
  ]);

  const server = await TestServer.start({ dataDir, shards: 1, args: ['--config', config] });
  try {
    await onNode(server, 'POST', 'SetWorkerVariable', {
      variable: 'scrub-tranquility',
      value: '0',
    });
    const launched = await onNode(server, 'POST', 'LaunchRepairOperation', {
      repairType: { scrub: 'start' },
    });
    t.is(launched.status, 200, launched.text);
    const found = async (): Promise<string[]> => {
      const { node } = await onNode(server, 'GET', 'ListBlockErrors');
      return (node as Array<{ blockHash: string; kind: string }>)
        .filter((e) => e.kind === 'corrupt')
        .map((e) => e.blockHash)
        .sort();
    };
    t.true(
      await eventually(async () => (await found()).length === 2, 20_000, 100),
      JSON.stringify(await found()),
    );
    t.deepEqual(await found(), [`cold:${damaged[1]}`, damaged[0]].sort());
  } finally {
    await server.stop();
  }
});
