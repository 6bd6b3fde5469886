import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall, onNode } from '../helpers/admin.js';
import { blockPath, flipByte } from '../helpers/blocks.js';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { objectBytes, s3Failure, TestServer } from '../helpers/server.js';

/**
 * Block and worker administration end to end: a real server, real block files damaged on disk,
 * the scrub finding them, the operator's remedies (re-upload heals, retry after a restore,
 * purge), the orphan cleanup, worker variables and commands, and their persistence.
 */

const MiB = 1024 * 1024;
const SHARDS = 2;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function quarantined(server: TestServer, hash: string): boolean {
  for (let shard = 0; shard < SHARDS; shard++) {
    const dir = join(server.dataDir, 'shards', String(shard).padStart(3, '0'), 'quarantine');
    if (existsSync(dir) && readdirSync(dir).some((name) => name.startsWith(`${hash}.`)))
      return true;
  }
  return false;
}

async function worker(
  server: TestServer,
  name: RegExp,
): Promise<{ id: number; [k: string]: unknown }> {
  const { node } = await onNode(server, 'POST', 'ListWorkers', {});
  const found = (node as Array<{ id: number; name: string }>).find((w) => name.test(w.name));
  if (found === undefined) throw new Error(`no worker named ${name}`);
  return found as { id: number; [k: string]: unknown };
}

async function variable(server: TestServer, name: string): Promise<string> {
  const { node } = await onNode(server, 'POST', 'GetWorkerVariable', { variable: name });
  return (node as Record<string, string>)[name] ?? '';
}

/** Runs a whole scrub pass (tranquility 0) and waits for it to complete. */
async function scrubNow(server: TestServer): Promise<void> {
  const before = await variable(server, 'scrub-last-completed');
  const launched = await onNode(server, 'POST', 'LaunchRepairOperation', {
    repairType: { scrub: 'start' },
  });
  if (launched.status !== 200) throw new Error(launched.text);
  const done = await eventually(
    async () => (await variable(server, 'scrub-last-completed')) !== before,
    20_000,
    100,
  );
  if (!done) throw new Error('scrub did not complete');
}

async function blockErrors(server: TestServer): Promise<Array<Record<string, unknown>>> {
  const { status, node } = await onNode(server, 'GET', 'ListBlockErrors');
  if (status !== 200) throw new Error(`ListBlockErrors: ${status}`);
  return node as Array<Record<string, unknown>>;
}

let server: TestServer;
let s3: S3Client;
test.before(async () => {
  server = await TestServer.start({ shards: SHARDS });
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'blocks' }));
  const tranquil = await onNode(server, 'POST', 'SetWorkerVariable', {
    variable: 'scrub-tranquility',
    value: '0',
  });
  if (tranquil.status !== 200) throw new Error(tranquil.text);
});
test.after.always(async () => {
  s3?.destroy();
  await server?.destroy();
});

test.serial('the workers are listed with Garage fields; variables read and set', async (t) => {
  const { status, json, node } = await onNode(server, 'POST', 'ListWorkers', {});
  t.is(status, 200);
  t.deepEqual(Object.keys(json), ['success', 'error']);
  const workers = node as Array<Record<string, unknown>>;
  t.deepEqual(
    workers.map((w) => w.name),
    [
      'Block scrub worker',
      'Orphan block cleanup',
      'Lifecycle worker',
      'Event notification delivery',
      'Server access log delivery',
      'Bucket replication',
      'Bucket inventory reports',
    ],
  );
  for (const w of workers) {
    for (const field of [
      'id',
      'state',
      'errors',
      'consecutiveErrors',
      'lastError',
      'tranquility',
      'progress',
      'queueLength',
      'persistentErrors',
      'freeform',
    ]) {
      t.true(field in w, `${String(w.name)} has ${field}`);
    }
  }
  const scrub = workers[0] as { id: number; tranquility: number; state: unknown };
  t.is(scrub.tranquility, 0);
  t.is(scrub.state, 'idle');
  const info = await onNode(server, 'POST', 'GetWorkerInfo', { id: scrub.id });
  t.like(info.node, { id: scrub.id, name: 'Block scrub worker' });
  const missing = await onNode(server, 'POST', 'GetWorkerInfo', { id: 99 });
  t.is(missing.status, 404);
  t.is(missing.json.code, 'NoSuchWorker');

  const all = (await onNode(server, 'POST', 'GetWorkerVariable', {})).node as Record<
    string,
    string
  >;
  t.deepEqual(Object.keys(all).sort(), [
    'lifecycle-last-completed',
    'scrub-corruptions_detected',
    'scrub-last-completed',
    'scrub-next-run',
    'scrub-tranquility',
  ]);
  t.is(all['scrub-tranquility'], '0');
  // A fresh node schedules its first scrub 25 to 35 days out.
  const nextRun = Date.parse(all['scrub-next-run'] ?? '');
  t.true(nextRun > Date.now() + 24 * 86_400_000 && nextRun < Date.now() + 36 * 86_400_000);
  const readOnly = await onNode(server, 'POST', 'SetWorkerVariable', {
    variable: 'scrub-last-completed',
    value: 'now',
  });
  t.is(readOnly.status, 400);
  t.regex(readOnly.json.message, /read-only/);
  const unknown = await onNode(server, 'POST', 'GetWorkerVariable', { variable: 'nope' });
  t.is(unknown.status, 404);
  const invalid = await onNode(server, 'POST', 'SetWorkerVariable', {
    variable: 'scrub-tranquility',
    value: 'fast',
  });
  t.is(invalid.status, 400);
});

test.serial('node info and statistics, cluster statistics', async (t) => {
  const info = await onNode(server, 'GET', 'GetNodeInfo');
  t.is(info.status, 200);
  const status = await adminCall(server, 'GET', '/v2/GetClusterStatus');
  t.like(info.node, {
    nodeId: status.json.node,
    hangarVersion: status.json.version,
    shards: SHARDS,
  });
  t.is(Object.keys(info.json.success)[0], status.json.node);
  await s3.send(
    new PutObjectCommand({ Bucket: 'blocks', Key: 'stats', Body: randomBytes(50_000) }),
  );
  const stats = await onNode(server, 'GET', 'GetNodeStatistics');
  const text = (stats.node as { freeform: string }).freeform;
  t.regex(text, /^Shard +Objects +Blocks +Block bytes +References/m);
  for (let shard = 0; shard < SHARDS; shard++)
    t.regex(text, new RegExp(`^${shard} +\\d+ +\\d+`, 'm'));
  t.regex(text, /Storage: .* available of /);
  const cluster = await adminCall(server, 'GET', '/v2/GetClusterStatistics');
  t.is(cluster.status, 200);
  t.regex(cluster.json.freeform, /^Buckets: 1$/m);
  t.regex(cluster.json.freeform, /^Objects: 1 \(48\.8 KiB\)$/m);
  await s3.send(new DeleteObjectCommand({ Bucket: 'blocks', Key: 'stats' }));
});

test.serial('node selection, authentication and body validation', async (t) => {
  t.is((await adminCall(server, 'POST', '/v2/ListWorkers?node=*', {})).status, 200);
  const other = await adminCall(server, 'POST', '/v2/ListWorkers?node=0123456789abcdef', {});
  t.is(other.status, 400);
  const none = await adminCall(server, 'POST', '/v2/ListWorkers', {});
  t.is(none.status, 400);
  t.regex(none.json.message, /node/);
  const anonymous = await adminCall(
    server,
    'GET',
    '/v2/ListBlockErrors?node=self',
    undefined,
    null,
  );
  t.is(anonymous.status, 403);
  const wrong = await adminCall(server, 'GET', '/v2/ListBlockErrors?node=self', undefined, 'nope');
  t.is(wrong.status, 403);
  for (const repairType of ['tables', 'rebalance', 'blockRc']) {
    const answer = await onNode(server, 'POST', 'LaunchRepairOperation', { repairType });
    t.is(answer.status, 400, repairType);
    t.regex(answer.json.message, /does not apply/);
  }
  const badScrub = await onNode(server, 'POST', 'LaunchRepairOperation', {
    repairType: { scrub: 'explode' },
  });
  t.is(badScrub.status, 400);
  const badHash = await onNode(server, 'POST', 'GetBlockInfo', { blockHash: 'xyz' });
  t.is(badHash.status, 400);
  t.regex(badHash.json.message, /body\.blockHash/);
  const unknownBlock = await onNode(server, 'POST', 'GetBlockInfo', { blockHash: 'a'.repeat(64) });
  t.is(unknownBlock.status, 404);
  t.is(unknownBlock.json.code, 'NoSuchBlock');
  t.is((await onNode(server, 'POST', 'PurgeBlocks', [])).status, 400);
  // A bad node selector is refused before anything is purged.
  const kept = randomBytes(MiB);
  await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'kept-by-node', Body: kept }));
  for (const path of ['/v2/PurgeBlocks', '/v2/PurgeBlocks?node=0123456789abcdef']) {
    const refused = await adminCall(server, 'POST', path, [sha256(kept)]);
    t.is(refused.status, 400, path);
  }
  t.true((await objectBytes(s3, 'blocks', 'kept-by-node')).equals(kept));
  await s3.send(new DeleteObjectCommand({ Bucket: 'blocks', Key: 'kept-by-node' }));
  t.is((await onNode(server, 'POST', 'RetryBlockResync', { all: false })).status, 400);
});

test.serial(
  'scrub finds a corrupt block, quarantines it; re-uploading the bytes heals it',
  async (t) => {
    const data = randomBytes(3 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'big', Body: data }));
    const first = sha256(data.subarray(0, MiB));
    const path = blockPath(server.dataDir, SHARDS, first);
    t.not(path, null);
    await scrubNow(server);
    t.deepEqual(await blockErrors(server), [], 'a clean store scrubs clean');

    flipByte(path ?? '', 12345);
    await scrubNow(server);
    const errors = await blockErrors(server);
    t.is(errors.length, 1);
    t.like(errors[0], { blockHash: first, refcount: 1, errorCount: 1, kind: 'corrupt' });
    t.regex(String(errors[0]?.message), /hashes to [0-9a-f]{64}/);
    t.is(typeof errors[0]?.lastTrySecsAgo, 'number');
    t.false(existsSync(path ?? ''), 'the corrupt file left its name');
    t.true(quarantined(server, first), 'and waits in the quarantine directory');
    t.is(await variable(server, 'scrub-corruptions_detected'), '1');

    const info = await onNode(server, 'POST', 'GetBlockInfo', { blockHash: first });
    t.is(info.status, 200);
    t.like(info.node, { blockHash: first, refcount: 1, bytes: MiB });
    const node = info.node as {
      versions: Array<{ backlink: { object?: { key: string } } }>;
      shards: Array<{ onDisk: boolean; error: { kind: string } }>;
    };
    t.is(node.versions.length, 1);
    t.is(node.versions[0]?.backlink.object?.key, 'big');
    t.is(node.shards[0]?.onDisk, false);
    t.is(node.shards[0]?.error.kind, 'corrupt');

    // Reading the damaged object fails rather than returning wrong bytes.
    await t.throwsAsync(objectBytes(s3, 'blocks', 'big'));

    // The client uploads the same bytes again: the block is written anew and the error clears.
    await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'big', Body: data }));
    t.deepEqual(await blockErrors(server), []);
    t.true(existsSync(path ?? ''));
    t.true((await objectBytes(s3, 'blocks', 'big')).equals(data));
  },
);

test.serial(
  'a missing block is reported; RetryBlockResync clears it once the file is restored',
  async (t) => {
    const data = randomBytes(MiB + 1000);
    await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'restored', Body: data }));
    const hash = sha256(data.subarray(0, MiB));
    const path = blockPath(server.dataDir, SHARDS, hash) ?? '';
    rmSync(path);
    await scrubNow(server);
    const errors = await blockErrors(server);
    t.is(errors.length, 1);
    t.like(errors[0], { blockHash: hash, kind: 'missing', refcount: 1 });

    const stillMissing = await onNode(server, 'POST', 'RetryBlockResync', { blockHashes: [hash] });
    t.deepEqual(stillMissing.node, { count: 1, fixed: 0 });
    t.like((await blockErrors(server))[0], { blockHash: hash, errorCount: 2 });

    writeFileSync(path, data.subarray(0, MiB)); // the operator restores it from a backup
    const retried = await onNode(server, 'POST', 'RetryBlockResync', { all: true });
    t.deepEqual(retried.node, { count: 1, fixed: 1 });
    t.deepEqual(await blockErrors(server), []);
    t.true((await objectBytes(s3, 'blocks', 'restored')).equals(data));

    // The scrub keeps the records true by itself: lost again, then restored, then clean.
    rmSync(path);
    await scrubNow(server);
    t.like((await blockErrors(server))[0], { blockHash: hash, kind: 'missing' });
    writeFileSync(path, data.subarray(0, MiB));
    await scrubNow(server);
    t.deepEqual(await blockErrors(server), []);
  },
);

test.serial('a corrupt block is found even while a GET holds it open', async (t) => {
  const data = randomBytes(3 * MiB);
  await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'being-read', Body: data }));
  const hash = sha256(data.subarray(2 * MiB));
  const reading = await s3.send(new GetObjectCommand({ Bucket: 'blocks', Key: 'being-read' }));
  flipByte(blockPath(server.dataDir, SHARDS, hash) ?? '', 7);
  await scrubNow(server);
  t.like(
    (await blockErrors(server)).find((e) => e.blockHash === hash),
    { kind: 'corrupt' },
  );
  (reading.Body as { destroy(): void }).destroy();
  await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'being-read', Body: data }));
  t.deepEqual(await blockErrors(server), []);
});

test.serial('PurgeBlocks deletes every object referencing a lost block', async (t) => {
  const data = randomBytes(2 * MiB);
  await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'doomed', Body: data }));
  await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'doomed-twin', Body: data }));
  await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'survivor', Body: 'fine' }));
  const hash = sha256(data.subarray(MiB));
  const purged = await onNode(server, 'POST', 'PurgeBlocks', [hash]);
  t.is(purged.status, 200);
  t.deepEqual(purged.node, {
    blocksPurged: 1,
    objectsDeleted: 2,
    uploadsDeleted: 0,
    versionsDeleted: 2,
  });
  for (const key of ['doomed', 'doomed-twin']) {
    const gone = await s3Failure(s3.send(new GetObjectCommand({ Bucket: 'blocks', Key: key })));
    t.is(gone.status, 404);
    t.is(gone.name, 'NoSuchKey');
  }
  t.is((await objectBytes(s3, 'blocks', 'survivor')).toString(), 'fine');
  t.true(
    await eventually(async () => blockPath(server.dataDir, SHARDS, hash) === null),
    'the purged blocks are unlinked',
  );
});

test.serial(
  'orphan cleanup removes unreferenced block files and stale temp files only',
  async (t) => {
    const kept = randomBytes(100_000);
    await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: 'kept', Body: kept }));
    const orphan = randomBytes(5000);
    const orphanHash = sha256(orphan);
    const shardDir = join(server.dataDir, 'shards', '000', 'blocks');
    const orphanPath = join(shardDir, orphanHash.slice(0, 2), orphanHash);
    writeFileSync(orphanPath, orphan);
    const tempPath = join(shardDir, 'tmp', 'left-by-a-crash.tmp');
    writeFileSync(tempPath, 'partial');
    const before = (await worker(server, /Orphan/)).freeform as string[];
    t.regex(before[0] ?? '', /never/);

    const launched = await onNode(server, 'POST', 'LaunchRepairOperation', {
      repairType: 'blocks',
    });
    t.is(launched.status, 200);
    t.true(
      await eventually(async () => {
        const w = await worker(server, /Orphan/);
        return w.state === 'idle' && !/never/.test((w.freeform as string[])[0] ?? '');
      }, 20_000),
    );
    t.false(existsSync(orphanPath));
    t.false(existsSync(tempPath));
    const w = await worker(server, /Orphan/);
    t.regex((w.freeform as string[])[0] ?? '', /removed 2 files/);
    t.true((await objectBytes(s3, 'blocks', 'kept')).equals(kept));
  },
);

test.serial('a scrub racing writes, overwrites and deletes reports no false errors', async (t) => {
  // A few contents shared by many keys (deduplicated blocks freed and re-referenced constantly).
  const bodies = Array.from({ length: 4 }, () => randomBytes(MiB + 20_000));
  const corruptionsBefore = await variable(server, 'scrub-corruptions_detected');
  let writes = 0;
  const churn = async (worker: number): Promise<void> => {
    for (let round = 0; round < 12; round++) {
      const key = `race/${worker}/${round % 3}`;
      const body = bodies[(worker + round) % bodies.length] ?? Buffer.alloc(0);
      await s3.send(new PutObjectCommand({ Bucket: 'blocks', Key: key, Body: body }));
      writes++;
      if (round % 4 === 3) {
        await s3.send(new DeleteObjectCommand({ Bucket: 'blocks', Key: key }));
      }
    }
  };
  let churning = true;
  let passes = 0;
  const scrubbing = (async () => {
    // Back-to-back scrub passes for as long as the writers run.
    while (churning) {
      await scrubNow(server);
      passes++;
    }
  })();
  await Promise.all(Array.from({ length: 6 }, (_, w) => churn(w)));
  churning = false;
  await scrubbing;
  t.true(passes >= 1);
  await scrubNow(server); // and once more over the settled store
  t.is(writes, 72);
  t.deepEqual(await blockErrors(server), []);
  t.is(await variable(server, 'scrub-corruptions_detected'), corruptionsBefore);
});

test.serial('scrub pause, resume and cancel; its position survives a restart', async (t) => {
  // Enough blocks for five or more batches per shard (64 blocks each), and a tranquility that
  // spaces them seconds apart, so the pass is still running at every check below.
  for (let i = 0; i < 700; i += 25) {
    await Promise.all(
      Array.from({ length: 25 }, (_, j) =>
        s3.send(
          new PutObjectCommand({
            Bucket: 'blocks',
            Key: `many/${i + j}`,
            Body: randomBytes(17_000),
          }),
        ),
      ),
    );
  }
  const set = await onNode(server, 'POST', 'SetWorkerVariable', {
    variable: 'scrub-tranquility',
    value: '200',
  });
  t.deepEqual(set.node, { variable: 'scrub-tranquility', value: '200' });
  await onNode(server, 'POST', 'LaunchRepairOperation', { repairType: { scrub: 'start' } });
  const running = await worker(server, /scrub/);
  t.regex(String(running.progress), /^\d+\.\d\d% \(\d+\/\d+ blocks, \d+ bytes\)$/);

  await onNode(server, 'POST', 'LaunchRepairOperation', { repairType: { scrub: 'pause' } });
  const paused = await worker(server, /scrub/);
  t.is(paused.state, 'idle');
  t.regex((paused.freeform as string[])[0] ?? '', /^Paused until /);
  t.not(paused.progress, null);

  await onNode(server, 'POST', 'LaunchRepairOperation', { repairType: { scrub: 'resume' } });
  const resumed = await worker(server, /scrub/);
  t.not(resumed.state, 'idle');

  // A clean restart keeps the pass where it was.
  const progressBefore = String(resumed.progress);
  await server.stop();
  server = await TestServer.start({ dataDir: server.dataDir, shards: SHARDS });
  s3.destroy();
  s3 = server.client();
  const afterRestart = await worker(server, /scrub/);
  t.not(afterRestart.progress, null, `was ${progressBefore}`);
  t.is(afterRestart.tranquility, 200);

  await onNode(server, 'POST', 'LaunchRepairOperation', { repairType: { scrub: 'cancel' } });
  const cancelled = await worker(server, /scrub/);
  t.is(cancelled.state, 'idle');
  t.is(cancelled.progress, null);
});

test.after.always('the store is consistent after all of it', async (t) => {
  await server?.stop();
  const report = await fsckReport(server.dataDir);
  t.deepEqual(report.missingBlocks, []);
  t.deepEqual(report.unreferencedBlocks, []);
  t.deepEqual(report.refcountMismatches, []);
  t.deepEqual(report.counterMismatches, []);
  t.is(report.tempFiles, 0);
});
