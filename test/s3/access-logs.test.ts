import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetBucketLoggingCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type LoggingEnabled,
  PutBucketLoggingCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { onNode } from '../helpers/admin.js';
import { eventually } from '../helpers/fsck.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import {
  newBucket,
  objectBytes,
  s3Failure,
  TestServer,
  useServer,
  useTempDir,
} from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { makePublicRead, webRequest } from '../helpers/website.js';

/**
 * Server access logs through the real server: PutBucketLogging, then requests on the bucket
 * become log objects in the target bucket, read back and parsed here field by field with AWS's
 * documented field list. One edge thread, so records are spooled and delivered in request
 * order; short flush and delivery intervals, and every wait polls with a bound.
 */
const FAST = {
  HANGAR_EDGE_THREADS: '1',
  HANGAR_ACCESS_LOG_FLUSH_INTERVAL_MS: '20',
  HANGAR_ACCESS_LOG_DELIVERY_INTERVAL_MS: '200',
};
const suite = useServer(test, { env: FAST });
const dataDir = useTempDir(test, 'hangar-access-logs-');
const stopDir = useTempDir(test, 'hangar-access-logs-stop-');
const orphanDir = useTempDir(test, 'hangar-access-logs-orphan-');

/** "Amazon S3 server access log format", in order. */
const FIELDS = [
  'bucketOwner',
  'bucket',
  'time',
  'remoteIp',
  'requester',
  'requestId',
  'operation',
  'key',
  'requestUri',
  'httpStatus',
  'errorCode',
  'bytesSent',
  'objectSize',
  'totalTime',
  'turnAroundTime',
  'referer',
  'userAgent',
  'versionId',
  'hostId',
  'signatureVersion',
  'cipherSuite',
  'authenticationType',
  'hostHeader',
  'tlsVersion',
  'accessPointArn',
  'aclRequired',
] as const;
type LogRecord = Record<(typeof FIELDS)[number], string>;

/** One line: space-separated fields, [bracketed] time, "quoted" fields with \" and \\ escapes. */
function parseRecord(line: string): LogRecord {
  const values: string[] = [];
  let i = 0;
  while (i < line.length) {
    let value = '';
    if (line[i] === '"') {
      i++;
      while (line[i] !== '"') {
        if (i >= line.length) throw new Error(`unterminated quote in ${line}`);
        if (line[i] === '\\') i++;
        value += line[i];
        i++;
      }
      i++;
    } else if (line[i] === '[') {
      const end = line.indexOf(']', i);
      value = line.slice(i + 1, end);
      i = end + 1;
    } else {
      const end = line.indexOf(' ', i);
      value = line.slice(i, end === -1 ? line.length : end);
      i = end === -1 ? line.length : end;
    }
    values.push(value);
    if (i < line.length && line[i] !== ' ') throw new Error(`no space after field in ${line}`);
    i++;
  }
  if (values.length !== FIELDS.length) {
    throw new Error(`${values.length} fields, not ${FIELDS.length}: ${line}`);
  }
  return Object.fromEntries(FIELDS.map((name, n) => [name, values[n]])) as LogRecord;
}

/** Every log object under `prefix` in `bucket`: its key and parsed records. */
async function logObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<Array<{ key: string; records: LogRecord[] }>> {
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const out = [];
  for (const { Key } of listing.Contents ?? []) {
    const key = Key as string;
    const text = (await objectBytes(s3, bucket, key)).toString('utf8');
    assertEndsWithNewline(text, key);
    const records = text
      .split('\n')
      .filter((line) => line !== '')
      .map(parseRecord);
    out.push({ key, records });
  }
  return out;
}

function assertEndsWithNewline(text: string, key: string): void {
  if (!text.endsWith('\n')) throw new Error(`log object ${key} does not end with a newline`);
}

/** The records under `prefix` once every request id in `ids` has one (bounded wait). */
async function recordsFor(
  s3: S3Client,
  bucket: string,
  prefix: string,
  ids: readonly string[],
): Promise<Map<string, LogRecord>> {
  let byId = new Map<string, LogRecord>();
  await eventually(
    async () => {
      const objects = await logObjects(s3, bucket, prefix);
      byId = new Map(objects.flatMap((o) => o.records).map((r) => [r.requestId, r]));
      return ids.every((id) => byId.has(id));
    },
    20_000,
    100,
  );
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) throw new Error(`no log record for request(s) ${missing.join(', ')}`);
  return byId;
}

function enable(
  bucket: string,
  target: string,
  prefix: string,
  extra: Partial<LoggingEnabled> = {},
): PutBucketLoggingCommand {
  return new PutBucketLoggingCommand({
    Bucket: bucket,
    BucketLoggingStatus: {
      LoggingEnabled: { TargetBucket: target, TargetPrefix: prefix, ...extra },
    },
  });
}

function requestIdOf(output: { $metadata: { requestId?: string } }): string {
  const id = output.$metadata.requestId;
  if (id === undefined) throw new Error('no x-amz-request-id');
  return id;
}

test('GetBucketLogging round-trips what PutBucketLogging set; an empty status turns it off', async (t) => {
  const { s3 } = suite;
  const source = await newBucket(s3, 'logrt');
  const target = await newBucket(s3, 'logrt-target');
  t.is((await s3.send(new GetBucketLoggingCommand({ Bucket: source }))).LoggingEnabled, undefined);
  const grantee = '0123456789abcdef'.repeat(4);
  await s3.send(
    enable(source, target, 'logs/', {
      TargetGrants: [
        { Grantee: { Type: 'CanonicalUser', ID: grantee }, Permission: 'READ' },
        {
          Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
          Permission: 'READ',
        },
      ],
      TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'DeliveryTime' } },
    }),
  );
  const got = await s3.send(new GetBucketLoggingCommand({ Bucket: source }));
  t.is(got.LoggingEnabled?.TargetBucket, target);
  t.is(got.LoggingEnabled?.TargetPrefix, 'logs/');
  t.deepEqual(
    got.LoggingEnabled?.TargetGrants?.map((g) => [
      g.Grantee?.Type,
      g.Grantee?.ID ?? g.Grantee?.URI,
      g.Permission,
    ]),
    [
      ['CanonicalUser', grantee, 'READ'],
      ['Group', 'http://acs.amazonaws.com/groups/global/AllUsers', 'READ'],
    ],
  );
  t.is(
    got.LoggingEnabled?.TargetObjectKeyFormat?.PartitionedPrefix?.PartitionDateSource,
    'DeliveryTime',
  );
  await s3.send(enable(source, target, ''));
  const simple = await s3.send(new GetBucketLoggingCommand({ Bucket: source }));
  t.is(simple.LoggingEnabled?.TargetPrefix, '');
  t.not(simple.LoggingEnabled?.TargetObjectKeyFormat?.SimplePrefix, undefined);
  await s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: {} }));
  t.is((await s3.send(new GetBucketLoggingCommand({ Bucket: source }))).LoggingEnabled, undefined);
});

test('PutBucketLogging refuses a missing target bucket and malformed documents', async (t) => {
  const { s3, server } = suite;
  const source = await newBucket(s3, 'logerr');
  const missing = await s3Failure(s3.send(enable(source, `no-such-${source}`, 'x/')));
  t.is(missing.name, 'InvalidTargetBucketForLogging');
  t.is(missing.status, 400);
  const put = (body: string) =>
    signedFetch(server.endpoint, {
      method: 'PUT',
      path: `/${source}?logging`,
      body: Buffer.from(body),
    });
  for (const body of [
    '<BucketLoggingStatus><LoggingEnabled><TargetBucket>',
    `<BucketLoggingStatus><LoggingEnabled><TargetBucket>${source}</TargetBucket></LoggingEnabled></BucketLoggingStatus>`,
    `<BucketLoggingStatus><LoggingEnabled><TargetBucket>${source}</TargetBucket><TargetPrefix>a</TargetPrefix><TargetObjectKeyFormat><SimplePrefix/><PartitionedPrefix/></TargetObjectKeyFormat></LoggingEnabled></BucketLoggingStatus>`,
    `<BucketLoggingStatus><Nonsense/></BucketLoggingStatus>`,
  ]) {
    const response = await put(body);
    t.is(response.status, 400, body);
    t.regex(await response.text(), /<Code>MalformedXML<\/Code>/, body);
  }
  t.is((await s3.send(new GetBucketLoggingCommand({ Bucket: source }))).LoggingEnabled, undefined);
});

test('requests on a logged bucket become records in log objects, field by field', async (t) => {
  const { s3, server } = suite;
  const source = await newBucket(s3, 'logged');
  const target = await newBucket(s3, 'logged-target');
  await s3.send(enable(source, target, 'access/'));
  const key = 'dir/a b+c.txt';
  const put = await s3.send(
    new PutObjectCommand({ Bucket: source, Key: key, Body: 'hello world' }),
  );
  const get = await s3.send(new GetObjectCommand({ Bucket: source, Key: key }));
  await get.Body?.transformToString();
  const notFound = await s3Failure(s3.send(new GetObjectCommand({ Bucket: source, Key: 'nope' })));
  const anonymous = await fetch(`${server.endpoint}/${source}/${encodeURIComponent(key)}`, {
    headers: { 'user-agent': 'curl "quoted" \\ agent', referer: 'http://example.test/page' },
  });
  await anonymous.text();
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: source, Key: key }), {
    expiresIn: 300,
  });
  const presigned = await fetch(url);
  t.is(await presigned.text(), 'hello world');
  const deleted = await s3.send(new DeleteObjectCommand({ Bucket: source, Key: key }));
  const ids = {
    put: requestIdOf(put),
    get: requestIdOf(get),
    notFound: requestIdOf(notFound.raw as { $metadata: { requestId?: string } }),
    anonymous: anonymous.headers.get('x-amz-request-id') as string,
    presigned: presigned.headers.get('x-amz-request-id') as string,
    deleted: requestIdOf(deleted),
  };
  const records = await recordsFor(s3, target, 'access/', Object.values(ids));
  const objects = await logObjects(s3, target, 'access/');
  for (const { key: logKey } of objects) {
    t.regex(logKey, /^access\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/);
  }
  const at = (id: string): LogRecord => records.get(id) as LogRecord;
  const encodedKey = 'dir/a%20b%2Bc.txt';

  const p = at(ids.put);
  t.regex(p.bucketOwner, /^[0-9a-f]{64}$/);
  t.is(p.bucket, source);
  t.regex(p.time, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  t.is(p.remoteIp, '127.0.0.1');
  t.is(p.requester, p.bucketOwner, 'the root key owns the bucket and made the request');
  t.is(p.operation, 'REST.PUT.OBJECT');
  t.is(p.key, encodedKey);
  t.regex(p.requestUri, new RegExp(`^PUT /${source}/dir/a%20b%2Bc\\.txt(\\?.*)? HTTP/1\\.1$`));
  t.is(p.httpStatus, '200');
  t.is(p.errorCode, '-');
  t.is(p.objectSize, '11');
  t.regex(p.totalTime, /^\d+$/);
  t.is(p.signatureVersion, 'SigV4');
  t.is(p.authenticationType, 'AuthHeader');
  t.is(p.hostHeader, new URL(server.endpoint).host);
  t.regex(p.userAgent, /aws-sdk-js/);

  const g = at(ids.get);
  t.is(g.operation, 'REST.GET.OBJECT');
  t.is(g.httpStatus, '200');
  t.is(g.bytesSent, '11');
  t.is(g.objectSize, '11');

  const n = at(ids.notFound);
  t.is(n.operation, 'REST.GET.OBJECT');
  t.is(n.key, 'nope');
  t.is(n.httpStatus, '404');
  t.is(n.errorCode, 'NoSuchKey');
  t.regex(n.bytesSent, /^\d+$/, 'the error document was sent');

  const a = at(ids.anonymous);
  t.is(a.httpStatus, '403');
  t.is(a.errorCode, 'AccessDenied');
  t.is(a.requester, '-');
  t.is(a.signatureVersion, '-');
  t.is(a.authenticationType, '-');
  t.is(a.userAgent, 'curl "quoted" \\ agent', 'quotes and backslashes survive the escaping');
  t.is(a.referer, 'http://example.test/page');

  const s = at(ids.presigned);
  t.is(s.operation, 'REST.GET.OBJECT');
  t.is(s.httpStatus, '200');
  t.is(s.signatureVersion, 'SigV4');
  t.is(s.authenticationType, 'QueryString');
  t.is(s.requester, p.bucketOwner);

  const d = at(ids.deleted);
  t.is(d.operation, 'REST.DELETE.OBJECT');
  t.is(d.httpStatus, '204');
  t.is(d.bytesSent, '-');

  // Delivery writes are not requests: the target bucket's own reads above logged nothing more.
  const all = objects.flatMap((o) => o.records);
  t.true(all.every((r) => r.bucket === source));

  const metrics = await scrapeMetrics(server);
  t.true(metricValue(metrics, 'hangar_access_log_records_delivered_total') >= 6);
  t.true(metricValue(metrics, 'hangar_access_log_objects_delivered_total') >= 1);
});

test('website endpoint requests are logged as WEBSITE.GET.OBJECT and WEBSITE.HEAD.OBJECT', async (t) => {
  const { s3, server } = suite;
  const site = await newBucket(s3, 'logsite');
  const target = await newBucket(s3, 'logsite-target');
  await makePublicRead(s3, site);
  await s3.send(
    new PutBucketWebsiteCommand({
      Bucket: site,
      WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } },
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: site,
      Key: 'index.html',
      Body: '<p>hi</p>',
      ContentType: 'text/html',
    }),
  );
  await s3.send(enable(site, target, 'web/'));
  const host = `${site}.web.localhost`;
  const page = await webRequest(server.webPort, host, '/index.html', {
    headers: { 'user-agent': 'site-visitor' },
  });
  t.is(page.status, 200);
  const missing = await webRequest(server.webPort, host, '/nope.html', { method: 'HEAD' });
  t.is(missing.status, 404);
  const ids = [page, missing].map((answer) => String(answer.headers['x-amz-request-id']));
  const records = await recordsFor(s3, target, 'web/', ids);
  const get = records.get(ids[0] ?? '') as LogRecord;
  t.is(get.operation, 'WEBSITE.GET.OBJECT');
  t.is(get.bucket, site);
  t.is(get.key, 'index.html');
  t.is(get.requester, '-');
  t.is(get.httpStatus, '200');
  t.is(get.errorCode, '-');
  t.is(get.objectSize, '9');
  t.is(get.requestUri, 'GET /index.html HTTP/1.1');
  t.is(get.userAgent, 'site-visitor');
  t.is(get.authenticationType, '-');
  t.is(get.hostHeader, host);
  const head = records.get(ids[1] ?? '') as LogRecord;
  t.is(head.operation, 'WEBSITE.HEAD.OBJECT');
  t.is(head.httpStatus, '404');
  t.is(head.errorCode, 'NoSuchKey');
});

test('PartitionedPrefix lays keys out by account, region, bucket and day', async (t) => {
  const { s3 } = suite;
  const source = await newBucket(s3, 'logpart');
  const target = await newBucket(s3, 'logpart-target');
  await s3.send(
    enable(source, target, 'p/', {
      TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' } },
    }),
  );
  const put = await s3.send(new PutObjectCommand({ Bucket: source, Key: 'k', Body: 'x' }));
  await recordsFor(s3, target, 'p/', [requestIdOf(put)]);
  const objects = await logObjects(s3, target, 'p/');
  t.true(objects.length >= 1);
  for (const { key, records } of objects) {
    const match =
      /^p\/000000000000\/us-east-1\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{4})-(\d{2})-(\d{2})-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/.exec(
        key,
      );
    t.truthy(match, key);
    t.is(match?.[1], source);
    const [year, month, day] = [match?.[2], match?.[3], match?.[4]];
    for (const record of records) {
      // EventTime: the day in the key is the records' own day.
      const [dd, mon, yyyy] = record.time.slice(0, 11).split('/');
      const mm = String(
        [
          'Jan',
          'Feb',
          'Mar',
          'Apr',
          'May',
          'Jun',
          'Jul',
          'Aug',
          'Sep',
          'Oct',
          'Nov',
          'Dec',
        ].indexOf(mon as string) + 1,
      ).padStart(2, '0');
      t.deepEqual([yyyy, mm, dd], [year, month, day]);
    }
  }
});

test('turning logging off stops the records', async (t) => {
  const { s3 } = suite;
  const source = await newBucket(s3, 'logoff');
  const witness = await newBucket(s3, 'logoff-witness');
  const target = await newBucket(s3, 'logoff-target');
  await s3.send(enable(source, target, 'off/'));
  await s3.send(enable(witness, target, 'witness/'));
  const before = await s3.send(new PutObjectCommand({ Bucket: source, Key: 'a', Body: 'a' }));
  await recordsFor(s3, target, 'off/', [requestIdOf(before)]);
  await s3.send(new PutBucketLoggingCommand({ Bucket: source, BucketLoggingStatus: {} }));
  const after = await s3.send(new PutObjectCommand({ Bucket: source, Key: 'b', Body: 'b' }));
  // One edge thread delivers in order: once a later record of another bucket is delivered,
  // a record of `after` would have been too.
  const later = await s3.send(new PutObjectCommand({ Bucket: witness, Key: 'w', Body: 'w' }));
  await recordsFor(s3, target, 'witness/', [requestIdOf(later)]);
  const records = (await logObjects(s3, target, 'off/')).flatMap((o) => o.records);
  t.true(records.some((r) => r.requestId === requestIdOf(before)));
  t.false(records.some((r) => r.requestId === requestIdOf(after)));
});

/** The access log delivery as ListWorkers shows it (summed over the edge threads). */
async function accessLogWorker(
  server: TestServer,
): Promise<{ state: unknown; queueLength: number | null; errors: number; freeform: string[] }> {
  const { node } = await onNode(server, 'POST', 'ListWorkers', {});
  const found = (node as Array<{ name: string }>).find(
    (w) => w.name === 'Server access log delivery',
  );
  if (found === undefined) throw new Error('ListWorkers has no access log worker');
  return found as unknown as Awaited<ReturnType<typeof accessLogWorker>>;
}

test('spooled records survive kill -9 and are delivered after the restart', async (t) => {
  // Delivery far away: records can only reach the target bucket after the restart.
  let server = await TestServer.start({
    dataDir,
    env: { ...FAST, HANGAR_ACCESS_LOG_DELIVERY_INTERVAL_MS: '3600000' },
  });
  try {
    let s3 = server.client();
    const source = await newBucket(s3, 'logcrash');
    const target = await newBucket(s3, 'logcrash-target');
    await s3.send(enable(source, target, 'crash/'));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const put = await s3.send(new PutObjectCommand({ Bucket: source, Key: `k${i}`, Body: 'x' }));
      ids.push(requestIdOf(put));
    }
    // Acknowledged to the spool: fdatasync'ed lines in the edge thread's spool file.
    const spool = join(dataDir, 'access-log', 'edge-0.spool');
    const spooled = await eventually(async () => {
      const text = readSpool(spool);
      return ids.every((id) => text.includes(id));
    }, 10_000);
    t.true(spooled, 'the records reached the spool');
    const pending = metricValue(await scrapeMetrics(server), 'hangar_access_log_records_pending');
    t.true(pending >= ids.length);
    const waiting = await accessLogWorker(server);
    t.is(waiting.state, 'busy');
    t.true((waiting.queueLength ?? 0) >= ids.length);
    await server.kill();
    server = await TestServer.start({ dataDir, env: FAST });
    s3 = server.client();
    const records = await recordsFor(s3, target, 'crash/', ids);
    t.is(records.size, ids.length);
    for (const id of ids) t.is(records.get(id)?.operation, 'REST.PUT.OBJECT');
    const done = await accessLogWorker(server);
    t.regex(done.freeform.join('\n'), /Delivered: [1-9]\d* records in [1-9]\d* log objects/);
    t.is(done.errors, 0);
  } finally {
    await server.destroy();
  }
});

test('a clean stop flushes the records still in memory; the restart delivers them', async (t) => {
  // Neither flush nor delivery would come by itself: only the stop can spool these records.
  const slow = {
    ...FAST,
    HANGAR_ACCESS_LOG_FLUSH_INTERVAL_MS: '3600000',
    HANGAR_ACCESS_LOG_DELIVERY_INTERVAL_MS: '3600000',
  };
  let server = await TestServer.start({ dataDir: stopDir, env: slow });
  try {
    let s3 = server.client();
    const source = await newBucket(s3, 'logstop');
    const target = await newBucket(s3, 'logstop-target');
    await s3.send(enable(source, target, 'stop/'));
    const put = await s3.send(new PutObjectCommand({ Bucket: source, Key: 'k', Body: 'x' }));
    t.false(readSpool(join(stopDir, 'access-log', 'edge-0.spool')).includes(requestIdOf(put)));
    await server.stop();
    t.true(readSpool(join(stopDir, 'access-log', 'edge-0.spool')).includes(requestIdOf(put)));
    server = await TestServer.start({ dataDir: stopDir, env: FAST });
    s3 = server.client();
    const records = await recordsFor(s3, target, 'stop/', [requestIdOf(put)]);
    t.is(records.get(requestIdOf(put))?.operation, 'REST.PUT.OBJECT');
  } finally {
    await server.destroy();
  }
});

test('the spool of an edge thread the restarted server no longer has is still delivered', async (t) => {
  let server = await TestServer.start({
    dataDir: orphanDir,
    env: { ...FAST, HANGAR_ACCESS_LOG_DELIVERY_INTERVAL_MS: '3600000' },
  });
  try {
    let s3 = server.client();
    const source = await newBucket(s3, 'logorphan');
    const target = await newBucket(s3, 'logorphan-target');
    await s3.send(enable(source, target, 'orphan/'));
    const put = await s3.send(new PutObjectCommand({ Bucket: source, Key: 'k', Body: 'x' }));
    await server.stop();
    // As if a thread 3 of an earlier run (with 4 edge threads) had spooled the record.
    const dir = join(orphanDir, 'access-log');
    renameSync(join(dir, 'edge-0.spool'), join(dir, 'edge-3.spool'));
    server = await TestServer.start({ dataDir: orphanDir, env: FAST });
    s3 = server.client();
    const records = await recordsFor(s3, target, 'orphan/', [requestIdOf(put)]);
    t.is(records.size, 1);
    t.false(readdirSync(dir).some((name) => name.startsWith('edge-3.')));
  } finally {
    await server.destroy();
  }
});

function readSpool(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
