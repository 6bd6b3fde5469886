import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { freePort } from '../helpers/daemon.js';
import {
  addRemote,
  eventually,
  headOrNone,
  keysNotArrived,
  putMultipart,
  putNumbered,
  repairAndWait,
  replicateTo,
  ruleTo,
  setVersioning,
  statusBecomes,
} from '../helpers/replication.js';
import { newBucket, objectBytes, randomBytesSeeded, TestServer } from '../helpers/server.js';

// hangar → Ceph RGW (a one-node cluster the test starts with test/peers/ceph-rgw.sh, from the
// Debian packages ceph-mon ceph-osd radosgw ceph-common): bytes, metadata, tags, delete markers,
// RGW down for a while, and a kill -9 of the source mid-queue.

const SCRIPT = fileURLToPath(new URL('../../../test/peers/ceph-rgw.sh', import.meta.url));
/** The script's `main` user. */
const CEPH_USER = {
  accessKeyId: 'MAINACCESSKEY0000001',
  secretAccessKey: 'mainsecretkey000000000000000000000000001',
};
const SOURCE_ENV = {
  HANGAR_REPLICATION_BACKOFF_BASE_MS: '50',
  HANGAR_REPLICATION_BACKOFF_MAX_MS: '500',
  HANGAR_REPLICATION_ATTEMPTS_MAX: '1000',
  HANGAR_REPLICATION_POLL_MS: '50',
};
const EXPECTED = [/replication attempt failed/];

/** Removed only after the cluster stopped (the script finds its daemons by their pid files). */
const cephDir = mkdtempSync(join(tmpdir(), 'hangar-ceph-'));
let cephEnv: Record<string, string>;
let rgwEndpoint: string;
let rgw: S3Client;
let source: TestServer;
let src: S3Client;

function runScript(command: 'start' | 'stop'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [SCRIPT, command],
      { env: cephEnv, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null)
          reject(new Error(`ceph-rgw.sh ${command}: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

test.before(async () => {
  const [port, monPort] = [await freePort(), await freePort()];
  cephEnv = {
    PATH: process.env['PATH'] ?? '',
    CEPH_DIR: join(cephDir, 'cluster'),
    PORT: String(port),
    MON_PORT: String(monPort),
  };
  rgwEndpoint = `http://127.0.0.1:${port}`;
  await runScript('start');
  rgw = new S3Client({
    endpoint: rgwEndpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: CEPH_USER,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  source = await TestServer.start({ shards: 2, env: SOURCE_ENV, expectedLogErrors: EXPECTED });
  src = source.client();
});

test.after.always(async () => {
  await source?.destroy();
  try {
    if (cephEnv !== undefined) await runScript('stop');
  } finally {
    rmSync(cephDir, { recursive: true, force: true });
  }
});

async function replicatedToCeph(prefix: string): Promise<{ from: string; to: string }> {
  const from = await newBucket(src, `${prefix}-src`);
  const to = `${prefix}-ceph-${process.pid}`;
  await rgw.send(new CreateBucketCommand({ Bucket: to }));
  await setVersioning(rgw, to);
  await setVersioning(src, from);
  await addRemote(source, `ceph-${to}`, rgwEndpoint, [to], CEPH_USER);
  await replicateTo(src, from, [ruleTo(to)]);
  return { from, to };
}

/** The radosgw process alone (the monitor and the OSD, holding the data, stay up). */
function rgwPid(): number {
  return Number(readFileSync(join(cephEnv['CEPH_DIR'] ?? '', 'client.rgw.a.pid'), 'utf8').trim());
}

async function stopRgw(): Promise<void> {
  const pid = rgwPid();
  process.kill(pid, 'SIGTERM');
  await eventually('radosgw to exit', async () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  });
}

async function startRgw(): Promise<void> {
  const dir = cephEnv['CEPH_DIR'] ?? '';
  const child = spawn('radosgw', ['-c', join(dir, 'ceph.conf'), '-n', 'client.rgw.a'], {
    env: cephEnv,
    stdio: 'ignore',
  });
  await new Promise((resolve) => child.once('exit', resolve));
  await eventually(
    'radosgw to answer',
    async () => ((await fetch(rgwEndpoint)).status > 0 ? true : undefined),
    60_000,
  );
}

test.serial('objects arrive at Ceph RGW byte-identical with metadata and tags', async (t) => {
  const { from, to } = await replicatedToCeph('basic');
  const small = randomBytesSeeded(123_456, 31);
  await src.send(
    new PutObjectCommand({
      Bucket: from,
      Key: 'a/small.bin',
      Body: small,
      ContentType: 'text/x-ceph',
      Metadata: { origin: 'hangar' },
      Tagging: 'dest=ceph',
    }),
  );
  const part = randomBytesSeeded(5 * 1024 * 1024, 32);
  const last = randomBytesSeeded(300_001, 33);
  await putMultipart(src, from, 'b/multi', [part, last]);
  await statusBecomes(src, from, 'a/small.bin', 'COMPLETED');
  const multi = await statusBecomes(src, from, 'b/multi', 'COMPLETED');
  const head = await headOrNone(rgw, to, 'a/small.bin');
  t.is(head?.ContentType, 'text/x-ceph');
  t.deepEqual(head?.Metadata, { origin: 'hangar' });
  t.true(Buffer.from(await objectBytes(rgw, to, 'a/small.bin')).equals(small));
  const tags = await rgw.send(new GetObjectTaggingCommand({ Bucket: to, Key: 'a/small.bin' }));
  t.deepEqual(tags.TagSet, [{ Key: 'dest', Value: 'ceph' }]);
  t.true(Buffer.from(await objectBytes(rgw, to, 'b/multi')).equals(Buffer.concat([part, last])));
  // The source's part layout, hence its multipart ETag (as AWS's replicas keep theirs; RGW
  // answers HEAD ?partNumber=N with the whole object, so the ETag is what tells).
  t.regex(multi.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
  t.is((await headOrNone(rgw, to, 'b/multi'))?.ETag, multi.ETag);
  const uploads = await rgw.send(new ListMultipartUploadsCommand({ Bucket: to }));
  t.is(uploads.Uploads?.length ?? 0, 0, 'no upload left behind at RGW');

  await src.send(new DeleteObjectCommand({ Bucket: from, Key: 'a/small.bin' }));
  await eventually('the delete marker at RGW', async () =>
    (await headOrNone(rgw, to, 'a/small.bin')) === undefined ? true : undefined,
  );
  const versions = await rgw.send(
    new ListObjectVersionsCommand({ Bucket: to, Prefix: 'a/small.bin' }),
  );
  t.is(versions.DeleteMarkers?.length, 1);
});

test.serial('RGW down for a while and a kill -9 of the source mid-queue: all arrive', async (t) => {
  const { from, to } = await replicatedToCeph('outage');
  await stopRgw();
  const bodies = await putNumbered(src, from, 'o', 8, 40);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.is((await headOrNone(src, from, 'o0'))?.ReplicationStatus, 'PENDING');
  await source.kill();
  source = await TestServer.start({
    shards: 2,
    dataDir: source.dataDir,
    env: SOURCE_ENV,
    expectedLogErrors: EXPECTED,
  });
  src = source.client();
  t.is((await headOrNone(src, from, 'o7'))?.ReplicationStatus, 'PENDING');
  await startRgw();
  const arrived = keysNotArrived(
    { s3: src, bucket: from },
    { s3: rgw, bucket: to },
    bodies,
    90_000,
  );
  t.deepEqual(await arrived, []);
});

test.serial(
  'repair against RGW: equal multipart ETags stay, a changed copy and old versions',
  async (t) => {
    const { from, to } = await replicatedToCeph('repair');
    const parts = [randomBytesSeeded(5 * 1024 * 1024, 41), randomBytesSeeded(4321, 42)];
    await putMultipart(src, from, 'multi', parts);
    await putMultipart(src, from, 'multi-changed', parts);
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'twice', Body: 'first' }));
    await statusBecomes(src, from, 'twice', 'COMPLETED');
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'twice', Body: 'second' }));
    await src.send(new PutObjectCommand({ Bucket: from, Key: 'changed', Body: 'source' }));
    const multi = await statusBecomes(src, from, 'multi', 'COMPLETED');
    await statusBecomes(src, from, 'twice', 'COMPLETED');
    await statusBecomes(src, from, 'changed', 'COMPLETED');
    await rgw.send(new PutObjectCommand({ Bucket: to, Key: 'changed', Body: 'SOURCE' }));
    await statusBecomes(src, from, 'multi-changed', 'COMPLETED');
    // The same size and layout, one byte changed: only the multipart ETag tells.
    const changed = Buffer.from(parts[1] ?? []);
    changed[0] = (changed[0] ?? 0) ^ 1;
    await putMultipart(rgw, to, 'multi-changed', [parts[0] ?? Buffer.alloc(0), changed]);

    await repairAndWait(source);
    await statusBecomes(src, from, 'changed', 'COMPLETED');
    await statusBecomes(src, from, 'multi-changed', 'COMPLETED');
    t.is(Buffer.from(await objectBytes(rgw, to, 'changed')).toString(), 'source');
    t.is((await headOrNone(rgw, to, 'multi-changed'))?.ETag, multi.ETag);
    t.true(Buffer.from(await objectBytes(rgw, to, 'multi-changed')).equals(Buffer.concat(parts)));
    const versions = await rgw.send(new ListObjectVersionsCommand({ Bucket: to }));
    const count = (key: string) => versions.Versions?.filter((v) => v.Key === key).length;
    t.is(count('multi'), 1, 'the same multipart ETag at RGW: not sent again');
    t.is((await headOrNone(rgw, to, 'multi'))?.ETag, multi.ETag);
    t.is(count('twice'), 2, 'an old version is not sent again where ids are not kept');
    t.is(Buffer.from(await objectBytes(rgw, to, 'twice')).toString(), 'second');
    t.is(count('changed'), 3, 'the source copy, the changed one, the source copy again');
  },
);
