import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { blockPath, flipByte } from '../helpers/blocks.js';
import { eventually } from '../helpers/fsck.js';
import { runCli, s3Failure, TestServer } from '../helpers/server.js';

/**
 * `hangar worker`, `hangar block` and `hangar repair` end to end: the real CLI against a real
 * server, a block damaged on disk, found by a scrub the CLI starts, inspected and purged.
 */

const MiB = 1024 * 1024;
const SHARDS = 2;
/** The CLI's exit code for a usage or configuration error. */
const EXIT_USAGE = 2;

/** The CLI's helpers for one test: `ok` expects exit 0, `json` parses its --json output. */
function cliOf(t: ExecutionContext, server: TestServer) {
  const ok = async (...args: string[]): Promise<string> => {
    const run = await server.cli(...args);
    t.is(run.code, 0, `hangar ${args.join(' ')}: ${run.stderr}`);
    return run.stdout;
  };
  // biome-ignore lint/suspicious/noExplicitAny: JSON output is inspected field by field
  const json = async (...args: string[]): Promise<any> => JSON.parse(await ok(...args, '--json'));
  /** Starts a scrub pass and waits until scrub-last-completed moves on from what it was. */
  const scrub = async (): Promise<boolean> => {
    const last = async (): Promise<string> =>
      (await json('worker', 'get', 'scrub-last-completed'))['scrub-last-completed'];
    const before = await last();
    await ok('repair', 'scrub', 'start');
    return eventually(async () => (await last()) !== before, 20_000, 200);
  };
  return { ok, json, scrub };
}

let server: TestServer;
test.before(async () => {
  server = await TestServer.start({ shards: SHARDS });
});
test.after.always(async () => {
  await server?.destroy();
});

test.serial('worker list, get and set', async (t) => {
  const { ok, json } = cliOf(t, server);
  const workers = await json('worker', 'list');
  t.deepEqual(
    workers.map((w: { name: string }) => w.name),
    [
      'Block scrub worker',
      'Orphan block cleanup',
      'Lifecycle worker',
      'Event notification delivery',
      'Server access log delivery',
      'Bucket replication',
      'Bucket inventory reports',
      'Object restores',
    ],
  );
  t.regex(
    await ok('worker', 'list'),
    /^ID\s+STATE\s+NAME\s+TRANQ\s+PROGRESS\s+ERRORS\s+LAST ERROR$/m,
  );
  const scrub = workers[0];
  t.like(await json('worker', 'info', String(scrub.id)), { id: scrub.id, name: scrub.name });
  t.regex(await ok('worker', 'info', String(scrub.id)), /^Name:\s+Block scrub worker$/m);
  t.is((await server.cli('worker', 'info', 'first')).code, EXIT_USAGE);
  t.is((await server.cli('worker', 'info', '99')).code, 1, 'no such worker');

  t.deepEqual(await json('worker', 'set', 'scrub-tranquility', '0'), {
    variable: 'scrub-tranquility',
    value: '0',
  });
  t.deepEqual(await json('worker', 'get', 'scrub-tranquility'), { 'scrub-tranquility': '0' });
  t.regex(await ok('worker', 'get'), /^scrub-tranquility\s+0$/m);
  t.is((await server.cli('worker', 'set', 'scrub-tranquility', 'fast')).code, 1);
});

test.serial('repair scrub finds a corrupt block; block list-errors, info and purge', async (t) => {
  const { ok, json, scrub } = cliOf(t, server);
  t.is((await json('worker', 'get', 'scrub-last-completed'))['scrub-last-completed'], 'never');
  t.true(await scrub(), 'a first scrub completes');
  t.deepEqual(await json('block', 'list-errors'), []);
  t.is(await ok('block', 'list-errors'), 'No block errors.\n');

  const s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'maint' }));
  const data = randomBytes(MiB + 4096);
  await s3.send(new PutObjectCommand({ Bucket: 'maint', Key: 'damaged', Body: data }));
  await s3.send(new PutObjectCommand({ Bucket: 'maint', Key: 'fine', Body: 'fine' }));
  const hash = createHash('sha256').update(data.subarray(0, MiB)).digest('hex');
  const path = blockPath(server.dataDir, SHARDS, hash);
  t.not(path, null);
  flipByte(path ?? '', 4242);
  t.true(await scrub(), 'a second scrub completes');

  const errors = await json('block', 'list-errors');
  t.is(errors.length, 1);
  t.like(errors[0], { blockHash: hash, kind: 'corrupt', refcount: 1 });
  t.regex(
    await ok('block', 'list-errors'),
    new RegExp(
      `^HASH\\s+SHARD\\s+KIND\\s+REFS\\s+ERRORS\\s+LAST TRY\\s+MESSAGE\\n${hash}\\s+\\d\\s+corrupt\\s+1\\s+1\\s+\\d+s ago`,
    ),
  );

  const info = await json('block', 'info', hash);
  t.like(info, { blockHash: hash, refcount: 1 });
  t.is(info.versions[0]?.backlink.object?.key, 'damaged');
  t.regex(await ok('block', 'info', hash), /^object {2}maint\/damaged$/m);
  t.is((await server.cli('block', 'info', 'not-a-hash')).code, EXIT_USAGE);

  t.is((await server.cli('block', 'retry-now')).code, EXIT_USAGE, 'neither --all nor hashes');
  t.is((await server.cli('block', 'retry-now', '--all', hash)).code, EXIT_USAGE, 'both');
  t.deepEqual(await json('block', 'retry-now', hash), { count: 1, fixed: 0 });

  const refused = await server.cli('block', 'purge', hash);
  t.is(refused.code, EXIT_USAGE);
  t.regex(refused.stderr, /deletes every object .*--yes/);
  t.is((await json('block', 'list-errors')).length, 1, 'nothing purged');
  t.like(await json('block', 'purge', '--yes', hash), { blocksPurged: 1, objectsDeleted: 1 });
  const gone = await s3Failure(s3.send(new GetObjectCommand({ Bucket: 'maint', Key: 'damaged' })));
  t.is(gone.status, 404);
  await s3.send(new GetObjectCommand({ Bucket: 'maint', Key: 'fine' }));
  t.deepEqual(await json('block', 'list-errors'), []);
  s3.destroy();
});

test.serial(
  'repair blocks, lifecycle, replication and inventory; a bad scrub command',
  async (t) => {
    const { ok } = cliOf(t, server);
    t.regex(await ok('repair', 'blocks'), /orphan block cleanup started/);
    t.regex(await ok('repair', 'lifecycle'), /lifecycle pass started/);
    t.regex(await ok('repair', 'replication'), /replication repair pass started/);
    t.regex(await ok('repair', 'inventory'), /inventory reports started/);
    t.is((await server.cli('repair', 'scrub', 'explode')).code, EXIT_USAGE);
  },
);

test.serial('status, stats and bucket cleanup-uploads', async (t) => {
  const { ok, json } = cliOf(t, server);
  const status = await json('status');
  t.is(status.health.status, 'healthy');
  t.is(status.status.shards, SHARDS);
  t.is(status.health.partitionsAllOk, SHARDS);
  t.regex(await ok('status'), /Shards answering: +2\/2/);
  const stats = await json('stats');
  t.regex(stats.node, /^Shard +Objects +Blocks/m);
  t.regex(stats.cluster, /^Buckets: \d+$/m);
  t.regex(await ok('stats'), /Estimated available storage space/);

  const s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'cli-uploads' }));
  for (const key of ['one', 'two']) {
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'cli-uploads', Key: key }));
  }
  t.deepEqual(await json('bucket', 'cleanup-uploads', 'cli-uploads', '--older-than', '1d'), {
    uploadsDeleted: 0,
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.regex(
    await ok('bucket', 'cleanup-uploads', 'cli-uploads', '--older-than', '0'),
    /^2 multipart uploads older than 0s aborted in cli-uploads$/m,
  );
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'cli-uploads' }));
  t.is(listed.Uploads, undefined);
  const bad = await server.cli('bucket', 'cleanup-uploads', 'cli-uploads', '--older-than', 'soon');
  t.is(bad.code, EXIT_USAGE);
  t.regex(bad.stderr, /--older-than takes a duration/);
  s3.destroy();
});

test('without a running server the commands say so and exit with a usage error', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-no-server-'));
  try {
    const run = await runCli(['--data-dir', dataDir, 'worker', 'list'], {
      HANGAR_ADMIN_TOKEN: 'some-admin-token',
    });
    t.is(run.code, EXIT_USAGE);
    t.regex(
      run.stderr,
      /`hangar worker list` needs a running hangar server on .*; start it with `hangar server`/,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
