// The inventory schedule is durable: a Daily configuration's first report is written at the
// worker's first check, no second one before a day has passed (restarts included), and the next
// one once a day has passed (the server restarted with its clock a day ahead); deleting a
// configuration forgets its schedule.
import {
  CreateBucketCommand,
  DeleteBucketInventoryConfigurationCommand,
  PutBucketInventoryConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { eventually } from '../helpers/fsck.js';
import { keysUnder, nextManifest, readReport } from '../helpers/inventory.js';
import { TestServer, useTempDir } from '../helpers/server.js';

const dataDir = useTempDir(test, 'hangar-inventory-schedule-');
const forgetDir = useTempDir(test, 'hangar-inventory-forget-');
const ENV = { HANGAR_INVENTORY_CHECK_INTERVAL_MS: '200' };
const PREFIX = 'sched/src/daily/';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withServer<T>(env: Record<string, string>, work: (s: TestServer) => Promise<T>) {
  const server = await TestServer.start({ dataDir, env: { ...ENV, ...env } });
  try {
    return await work(server);
  } finally {
    await server.stop();
  }
}

async function manifests(server: TestServer): Promise<string[]> {
  return (await keysUnder(server.client(), 'dst', PREFIX)).filter((k) => k.endsWith('.json'));
}

/** A Daily configuration `daily` of bucket `src` reporting into `dst` under `prefix`. */
function putDaily(s3: S3Client, prefix: string) {
  return s3.send(
    new PutBucketInventoryConfigurationCommand({
      Bucket: 'src',
      Id: 'daily',
      InventoryConfiguration: {
        Id: 'daily',
        IsEnabled: true,
        Destination: {
          S3BucketDestination: { Bucket: 'arn:aws:s3:::dst', Format: 'CSV', Prefix: prefix },
        },
        Schedule: { Frequency: 'Daily' },
        IncludedObjectVersions: 'Current',
      },
    }),
  );
}

/** Buckets `src` (holding one object) and `dst`, and `src`'s Daily configuration. */
async function dailySource(s3: S3Client, prefix: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: 'src' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'dst' }));
  await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'k', Body: 'v' }));
  await putDaily(s3, prefix);
}

test('a daily report is written once a day, across restarts', async (t) => {
  t.timeout(120_000);
  const first = await withServer({}, async (server) => {
    const s3 = server.client();
    await dailySource(s3, 'sched');
    const key = await nextManifest(s3, 'dst', PREFIX);
    const report = await readReport(s3, 'dst', key);
    t.deepEqual(report.rows, [['src', 'k']]);
    await sleep(1000);
    t.deepEqual(await manifests(server), [key], 'not due again within the day');
    return { key, created: report.manifest.creationTimestamp };
  });
  await withServer({}, async (server) => {
    await sleep(1000);
    t.deepEqual(await manifests(server), [first.key], 'a restart does not double the report');
    const again = await readReport(server.client(), 'dst', first.key);
    t.is(again.manifest.creationTimestamp, first.created, 'nor rewrite it');
  });
  await withServer({ HANGAR_CLOCK_OFFSET_MS: String(25 * 60 * 60 * 1000) }, async (server) => {
    const next = await nextManifest(server.client(), 'dst', PREFIX, [first.key]);
    t.not(next, first.key);
    t.is((await manifests(server)).length, 2);
  });
});

test("a deleted configuration's schedule goes with it: one made again under its id runs at once", async (t) => {
  t.timeout(120_000);
  const server = await TestServer.start({ dataDir: forgetDir, env: ENV });
  try {
    const s3 = server.client();
    await dailySource(s3, 'forget');
    await nextManifest(s3, 'dst', 'forget/src/daily/');
    const dataFiles = async () =>
      (await keysUnder(s3, 'dst', 'forget/src/daily/data/')).filter((k) => k.endsWith('.csv.gz'));
    const firstRun = await dataFiles();
    t.is(firstRun.length, 1);
    await s3.send(new DeleteBucketInventoryConfigurationCommand({ Bucket: 'src', Id: 'daily' }));
    await putDaily(s3, 'forget');
    // Data file names hash the run's time: a second run (within the same minute, so under the
    // same manifest key) shows as a data file the first run did not write.
    t.true(
      await eventually(async () => (await dataFiles()).some((k) => !firstRun.includes(k)), 20_000),
      'the configuration made again is due at once, not a day after the deleted one ran',
    );
  } finally {
    await server.stop();
  }
});
