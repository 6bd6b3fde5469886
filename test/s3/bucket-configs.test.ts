import {
  type AnalyticsConfiguration,
  DeleteBucketAnalyticsConfigurationCommand,
  DeleteBucketMetricsConfigurationCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketAnalyticsConfigurationCommand,
  GetBucketMetricsConfigurationCommand,
  GetBucketRequestPaymentCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketAnalyticsConfigurationsCommand,
  ListBucketMetricsConfigurationsCommand,
  type MetricsConfiguration,
  PutBucketAccelerateConfigurationCommand,
  PutBucketAnalyticsConfigurationCommand,
  PutBucketMetricsConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketRequestPaymentCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import { createKey, grant } from '../helpers/keys.js';
import { metricValue, type Sample, scrapeMetrics } from '../helpers/metrics.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

/**
 * Issue 18's simple bucket configurations through the real server with the AWS SDK v3:
 * Accelerate, RequestPayment (and Requester Pays in authorization), analytics and metrics
 * configurations (and metrics' request counts on /metrics).
 */

const suite = useServer(test);

/** The XML error code of a raw signed request's answer. */
async function rawCode(response: Response): Promise<string | undefined> {
  return /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];
}

async function putRaw(bucket: string, query: string, body: string): Promise<Response> {
  return signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}?${query}`,
    body: Buffer.from(body),
  });
}

// ---- Accelerate ----

test('accelerate: absent until set, Enabled and Suspended round-trip, bad documents refused', async (t) => {
  const bucket = await newBucket(suite.s3, 'accel');
  const before = await suite.s3.send(
    new GetBucketAccelerateConfigurationCommand({ Bucket: bucket }),
  );
  t.is(before.Status, undefined);
  for (const Status of ['Enabled', 'Suspended'] as const) {
    await suite.s3.send(
      new PutBucketAccelerateConfigurationCommand({
        Bucket: bucket,
        AccelerateConfiguration: { Status },
      }),
    );
    const got = await suite.s3.send(
      new GetBucketAccelerateConfigurationCommand({ Bucket: bucket }),
    );
    t.is(got.Status, Status);
  }
  for (const body of [
    '<AccelerateConfiguration><Status>On</Status></AccelerateConfiguration>',
    '<AccelerateConfiguration></AccelerateConfiguration>',
    '<AccelerateConfiguration><Status>Enabled</Status><Extra/></AccelerateConfiguration>',
  ]) {
    const answer = await putRaw(bucket, 'accelerate', body);
    t.is(answer.status, 400, body);
    t.is(await rawCode(answer), 'MalformedXML');
  }
  const got = await suite.s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: bucket }));
  t.is(got.Status, 'Suspended', 'a refused document changes nothing');
});

test('accelerate: a bucket name with periods is refused, as AWS does', async (t) => {
  const bucket = await newBucket(suite.s3, 'accel.dotted');
  const failure = await s3Failure(
    suite.s3.send(
      new PutBucketAccelerateConfigurationCommand({
        Bucket: bucket,
        AccelerateConfiguration: { Status: 'Enabled' },
      }),
    ),
  );
  t.is(failure.name, 'InvalidRequest');
  t.is(failure.status, 400);
  t.regex(failure.message, /periods/);
});

// ---- Request payment ----

test('request payment: BucketOwner by default, Requester round-trips, bad Payer refused', async (t) => {
  const bucket = await newBucket(suite.s3, 'payer');
  const first = await suite.s3.send(new GetBucketRequestPaymentCommand({ Bucket: bucket }));
  t.is(first.Payer, 'BucketOwner');
  await suite.s3.send(
    new PutBucketRequestPaymentCommand({
      Bucket: bucket,
      RequestPaymentConfiguration: { Payer: 'Requester' },
    }),
  );
  t.is(
    (await suite.s3.send(new GetBucketRequestPaymentCommand({ Bucket: bucket }))).Payer,
    'Requester',
  );
  const bad = await putRaw(
    bucket,
    'requestPayment',
    '<RequestPaymentConfiguration><Payer>Nobody</Payer></RequestPaymentConfiguration>',
  );
  t.is(bad.status, 400);
  t.is(await rawCode(bad), 'MalformedXML');
  await suite.s3.send(
    new PutBucketRequestPaymentCommand({
      Bucket: bucket,
      RequestPaymentConfiguration: { Payer: 'BucketOwner' },
    }),
  );
  t.is(
    (await suite.s3.send(new GetBucketRequestPaymentCommand({ Bucket: bucket }))).Payer,
    'BucketOwner',
  );
});

test('Requester Pays: others must accept the charge (403 without), are told they were charged; the owner is not', async (t) => {
  const bucket = await newBucket(suite.s3, 'payer-effect');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'data', Body: 'shared' }));
  // Public reads, to see anonymous access go away with Requester Pays.
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  await suite.s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${bucket}/*`,
          },
        ],
      }),
    }),
  );
  const reader = await createKey(suite.server, 'payer-reader');
  await grant(suite.server, bucket, reader, 'read');
  const other: S3Client = suite.server.client(reader);
  const anonymousUrl = `${suite.server.endpoint}/${bucket}/data`;
  t.is((await fetch(anonymousUrl)).status, 200, 'public before Requester Pays');
  const plain = await other.send(new GetObjectCommand({ Bucket: bucket, Key: 'data' }));
  t.is(plain.RequestCharged, undefined);
  await plain.Body?.transformToString();

  await suite.s3.send(
    new PutBucketRequestPaymentCommand({
      Bucket: bucket,
      RequestPaymentConfiguration: { Payer: 'Requester' },
    }),
  );
  const refused = await s3Failure(
    other.send(new GetObjectCommand({ Bucket: bucket, Key: 'data' })),
  );
  t.is(refused.name, 'AccessDenied');
  t.is(refused.status, 403);
  const head = await s3Failure(other.send(new HeadObjectCommand({ Bucket: bucket, Key: 'data' })));
  t.is(head.status, 403);
  const anonymous = await fetch(anonymousUrl, { headers: { 'x-amz-request-payer': 'requester' } });
  t.is(anonymous.status, 403, 'no anonymous access to a Requester Pays bucket');

  const paid = await other.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'data', RequestPayer: 'requester' }),
  );
  t.is(paid.RequestCharged, 'requester');
  t.is(await paid.Body?.transformToString(), 'shared');
  // A presigned URL says it in its query (the SDK hoists the header there).
  const presigned = await getSignedUrl(
    other,
    new GetObjectCommand({ Bucket: bucket, Key: 'data', RequestPayer: 'requester' }),
    { expiresIn: 300 },
  );
  t.regex(presigned, /x-amz-request-payer=requester/);
  const viaUrl = await fetch(presigned);
  t.is(viaUrl.status, 200);
  t.is(viaUrl.headers.get('x-amz-request-charged'), 'requester');
  t.is(await viaUrl.text(), 'shared');
  const unpaidUrl = await getSignedUrl(
    other,
    new GetObjectCommand({ Bucket: bucket, Key: 'data' }),
  );
  t.is((await fetch(unpaidUrl)).status, 403);
  // The bucket's owner pays its own way: no header needed, none answered.
  const own = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'data' }));
  t.is(own.RequestCharged, undefined);
  t.is(await own.Body?.transformToString(), 'shared');
});

// ---- Analytics ----

function analytics(id: string, prefix: string): AnalyticsConfiguration {
  return {
    Id: id,
    Filter: {
      And: {
        Prefix: prefix,
        Tags: [
          { Key: 'team', Value: 'data' },
          { Key: 'tier', Value: 'hot' },
        ],
      },
    },
    StorageClassAnalysis: {
      DataExport: {
        OutputSchemaVersion: 'V_1',
        Destination: {
          S3BucketDestination: {
            Format: 'CSV',
            BucketAccountId: '123456789012',
            Bucket: 'arn:aws:s3:::analytics-reports',
            Prefix: 'exports/',
          },
        },
      },
    },
  };
}

test('analytics: Put, Get exactly as put, List, Delete; unknown ids 404 NoSuchConfiguration', async (t) => {
  const bucket = await newBucket(suite.s3, 'analytics');
  const full = analytics('full', 'logs/');
  const prefixOnly: AnalyticsConfiguration = {
    Id: 'prefix-only',
    Filter: { Prefix: 'img/' },
    StorageClassAnalysis: {},
  };
  const tagOnly: AnalyticsConfiguration = {
    Id: 'tag.only_1',
    Filter: { Tag: { Key: 'k', Value: 'v' } },
    StorageClassAnalysis: {},
  };
  for (const config of [full, prefixOnly, tagOnly]) {
    await suite.s3.send(
      new PutBucketAnalyticsConfigurationCommand({
        Bucket: bucket,
        Id: config.Id,
        AnalyticsConfiguration: config,
      }),
    );
    const got = await suite.s3.send(
      new GetBucketAnalyticsConfigurationCommand({ Bucket: bucket, Id: config.Id }),
    );
    t.deepEqual(got.AnalyticsConfiguration, config);
  }
  const listed = await suite.s3.send(
    new ListBucketAnalyticsConfigurationsCommand({ Bucket: bucket }),
  );
  t.false(listed.IsTruncated);
  t.deepEqual(
    listed.AnalyticsConfigurationList?.map((c) => c.Id),
    ['full', 'prefix-only', 'tag.only_1'],
  );
  t.deepEqual(listed.AnalyticsConfigurationList?.[0], full);
  await suite.s3.send(
    new DeleteBucketAnalyticsConfigurationCommand({ Bucket: bucket, Id: 'full' }),
  );
  for (const send of [
    () => suite.s3.send(new GetBucketAnalyticsConfigurationCommand({ Bucket: bucket, Id: 'full' })),
    () =>
      suite.s3.send(new DeleteBucketAnalyticsConfigurationCommand({ Bucket: bucket, Id: 'full' })),
  ]) {
    const missing = await s3Failure(send());
    t.is(missing.name, 'NoSuchConfiguration');
    t.is(missing.status, 404);
  }
});

test('analytics: invalid ids, destinations and filters are refused with AWS errors', async (t) => {
  const bucket = await newBucket(suite.s3, 'analytics-bad');
  const cases: Array<[AnalyticsConfiguration, string]> = [
    [{ ...analytics('a', 'p/'), Id: 'has space' }, 'InvalidArgument'],
    [{ ...analytics('a', 'p/'), Id: 'x'.repeat(65) }, 'InvalidArgument'],
    [
      {
        ...analytics('a', 'p/'),
        StorageClassAnalysis: {
          DataExport: {
            OutputSchemaVersion: 'V_1',
            Destination: { S3BucketDestination: { Format: 'CSV', Bucket: 'not-an-arn' } },
          },
        },
      },
      'InvalidArgument',
    ],
    [
      { Id: 'a', Filter: { Tag: { Key: 'aws:reserved', Value: 'v' } }, StorageClassAnalysis: {} },
      'InvalidTag',
    ],
  ];
  for (const [config, code] of cases) {
    const failure = await s3Failure(
      suite.s3.send(
        new PutBucketAnalyticsConfigurationCommand({
          Bucket: bucket,
          Id: config.Id,
          AnalyticsConfiguration: config,
        }),
      ),
    );
    t.is(failure.name, code, config.Id);
    t.is(failure.status, 400);
  }
  const malformed = [
    // No StorageClassAnalysis.
    '<AnalyticsConfiguration><Id>a</Id></AnalyticsConfiguration>',
    // Two conditions without And.
    '<AnalyticsConfiguration><Id>a</Id><Filter><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><StorageClassAnalysis/></AnalyticsConfiguration>',
    // An AccessPointArn is a metrics filter's, not an analytics one's.
    '<AnalyticsConfiguration><Id>a</Id><Filter><AccessPointArn>arn:aws:s3:us-east-1:123456789012:accesspoint/ap</AccessPointArn></Filter><StorageClassAnalysis/></AnalyticsConfiguration>',
    // Another export format.
    '<AnalyticsConfiguration><Id>a</Id><StorageClassAnalysis><DataExport><OutputSchemaVersion>V_1</OutputSchemaVersion><Destination><S3BucketDestination><Format>ORC</Format><Bucket>arn:aws:s3:::b-b</Bucket></S3BucketDestination></Destination></DataExport></StorageClassAnalysis></AnalyticsConfiguration>',
  ];
  for (const body of malformed) {
    const answer = await putRaw(bucket, 'analytics&id=a', body);
    t.is(answer.status, 400, body);
    t.is(await rawCode(answer), 'MalformedXML', body);
  }
  const otherId = await putRaw(
    bucket,
    'analytics&id=a',
    '<AnalyticsConfiguration><Id>b</Id><StorageClassAnalysis/></AnalyticsConfiguration>',
  );
  t.is(await rawCode(otherId), 'InvalidArgument', 'the body names another id than the URL');
  const listed = await suite.s3.send(
    new ListBucketAnalyticsConfigurationsCommand({ Bucket: bucket }),
  );
  t.is(listed.AnalyticsConfigurationList, undefined, 'nothing was stored');
});

// ---- Metrics ----

test('metrics: 1,000 per bucket, listed 100 a page by continuation token; the 1,001st refused', async (t) => {
  const bucket = await newBucket(suite.s3, 'metrics-many');
  const ids = Array.from({ length: 1000 }, (_, i) => `m-${String(i).padStart(4, '0')}`);
  const put = (id: string) =>
    suite.s3.send(
      new PutBucketMetricsConfigurationCommand({
        Bucket: bucket,
        Id: id,
        MetricsConfiguration: { Id: id, Filter: { Prefix: `${id}/` } },
      }),
    );
  for (let at = 0; at < ids.length; at += 25) await Promise.all(ids.slice(at, at + 25).map(put));
  const extra = await s3Failure(put('one-too-many'));
  t.is(extra.name, 'TooManyConfigurations');
  t.is(extra.status, 400);
  // Replacing an existing one is not a new one.
  await put('m-0500');

  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await suite.s3.send(
      new ListBucketMetricsConfigurationsCommand({ Bucket: bucket, ContinuationToken: token }),
    );
    pages++;
    t.is(page.ContinuationToken, token);
    t.true((page.MetricsConfigurationList?.length ?? 0) <= 100);
    seen.push(...(page.MetricsConfigurationList ?? []).map((c) => c.Id ?? ''));
    t.is(page.IsTruncated, page.NextContinuationToken !== undefined);
    token = page.NextContinuationToken;
  } while (token !== undefined);
  t.is(pages, 10);
  t.deepEqual(seen, ids);
  const badToken = await s3Failure(
    suite.s3.send(
      new ListBucketMetricsConfigurationsCommand({ Bucket: bucket, ContinuationToken: '!!' }),
    ),
  );
  t.is(badToken.name, 'InvalidArgument');
});

test('metrics: filters round-trip exactly; requests matching them are counted on /metrics', async (t) => {
  const bucket = await newBucket(suite.s3, 'metrics-count');
  const configs: MetricsConfiguration[] = [
    { Id: 'all' },
    { Id: 'logs', Filter: { Prefix: 'logs/' } },
    { Id: 'hot', Filter: { Tag: { Key: 'tier', Value: 'hot' } } },
    {
      Id: 'hot-logs',
      Filter: { And: { Prefix: 'logs/', Tags: [{ Key: 'tier', Value: 'hot' }] } },
    },
    {
      Id: 'ap',
      Filter: { AccessPointArn: 'arn:aws:s3:us-east-1:123456789012:accesspoint/reports' },
    },
  ];
  for (const config of configs) {
    await suite.s3.send(
      new PutBucketMetricsConfigurationCommand({
        Bucket: bucket,
        Id: config.Id,
        MetricsConfiguration: config,
      }),
    );
    const got = await suite.s3.send(
      new GetBucketMetricsConfigurationCommand({ Bucket: bucket, Id: config.Id }),
    );
    t.deepEqual(got.MetricsConfiguration, config);
  }
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'logs/a', Body: 'a', Tagging: 'tier=hot' }),
  );
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'logs/b', Body: 'bb' }));
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'img/c', Body: 'ccc', Tagging: 'tier=hot' }),
  );
  const got = await suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'logs/a' }));
  await got.Body?.transformToString();
  await s3Failure(suite.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'logs/missing' })));

  // Requests are counted once their response is over: wait for the last GET's count.
  const allGets = (of: Sample[]) =>
    metricValue(of, 'hangar_s3_bucket_filter_requests_total', {
      bucket,
      filter_id: 'all',
      method: 'GET',
    });
  let samples = await scrapeMetrics(suite.server);
  for (let tries = 0; allGets(samples) < 7 && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    samples = await scrapeMetrics(suite.server);
  }
  const requests = (id: string, method: string) =>
    metricValue(samples, 'hangar_s3_bucket_filter_requests_total', {
      bucket,
      filter_id: id,
      method,
    });
  // 'all': the 5 configuration PUTs (the first counted under the configuration it made: counting
  // comes once the request is over), their 5 GETs, 3 object PUTs, then 2 object GETs.
  t.is(requests('all', 'PUT'), 8);
  t.is(requests('all', 'GET'), 7);
  t.is(requests('logs', 'PUT'), 2);
  t.is(requests('logs', 'GET'), 2);
  t.is(requests('hot', 'PUT'), 2, 'logs/a and img/c carry tier=hot');
  t.is(requests('hot', 'GET'), 1, 'logs/missing has no tags');
  t.is(requests('hot-logs', 'PUT'), 1);
  t.is(requests('ap', 'PUT'), 0, 'hangar has no access points: nothing goes through one');
  const errors = metricValue(samples, 'hangar_s3_bucket_filter_errors_total', {
    bucket,
    filter_id: 'logs',
    class: '4xx',
  });
  t.is(errors, 1, 'the GET of a missing key');
  const uploaded = metricValue(samples, 'hangar_s3_bucket_filter_bytes_total', {
    bucket,
    filter_id: 'logs',
    direction: 'uploaded',
  });
  t.is(uploaded, 3, "logs/a's and logs/b's bodies");

  await suite.s3.send(new DeleteBucketMetricsConfigurationCommand({ Bucket: bucket, Id: 'logs' }));
  const missing = await s3Failure(
    suite.s3.send(new GetBucketMetricsConfigurationCommand({ Bucket: bucket, Id: 'logs' })),
  );
  t.is(missing.name, 'NoSuchConfiguration');
});
