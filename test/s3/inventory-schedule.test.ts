// The inventory schedule is durable: a Daily configuration's first report is written at the
// worker's first check, no second one before a day has passed (restarts included), and the next
// one once a day has passed (the server restarted with its clock a day ahead).
import {
  CreateBucketCommand,
  PutBucketInventoryConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { keysUnder, nextManifest, readReport } from '../helpers/inventory.js';
import { TestServer, useTempDir } from '../helpers/server.js';

const dataDir = useTempDir(test, 'hangar-inventory-schedule-');
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

test('a daily report is written once a day, across restarts', async (t) => {
  t.timeout(120_000);
  const first = await withServer({}, async (server) => {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'src' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'dst' }));
    await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'k', Body: 'v' }));
    await s3.send(
      new PutBucketInventoryConfigurationCommand({
        Bucket: 'src',
        Id: 'daily',
        InventoryConfiguration: {
          Id: 'daily',
          IsEnabled: true,
          Destination: {
            S3BucketDestination: { Bucket: 'arn:aws:s3:::dst', Format: 'CSV', Prefix: 'sched' },
          },
          Schedule: { Frequency: 'Daily' },
          IncludedObjectVersions: 'Current',
        },
      }),
    );
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
