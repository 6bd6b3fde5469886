// Inventory configurations through the AWS SDK v3: Put/Get/Delete/List round trips, AWS's
// errors (missing configuration, bad documents, the 1,000 limit, ORC refused), and
// ListBucketInventoryConfigurations pagination.
import {
  DeleteBucketInventoryConfigurationCommand,
  GetBucketInventoryConfigurationCommand,
  type InventoryConfiguration,
  ListBucketInventoryConfigurationsCommand,
  PutBucketInventoryConfigurationCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

const suite = useServer(test);

function configOf(id: string, extra: Partial<InventoryConfiguration> = {}): InventoryConfiguration {
  return {
    Id: id,
    IsEnabled: true,
    Destination: {
      S3BucketDestination: {
        AccountId: '000000000000',
        Bucket: 'arn:aws:s3:::inventory-dest',
        Format: 'CSV',
        Prefix: 'reports',
        Encryption: { SSES3: {} },
      },
    },
    Schedule: { Frequency: 'Daily' },
    IncludedObjectVersions: 'All',
    Filter: { Prefix: 'logs/' },
    OptionalFields: ['Size', 'LastModifiedDate', 'ETag', 'StorageClass'],
    ...extra,
  };
}

function put(bucket: string, config: InventoryConfiguration) {
  return suite.s3.send(
    new PutBucketInventoryConfigurationCommand({
      Bucket: bucket,
      Id: config.Id,
      InventoryConfiguration: config,
    }),
  );
}

test('a configuration round-trips and is deleted', async (t) => {
  const bucket = await newBucket(suite.s3, 'inv-rt');
  const config = configOf('daily-1');
  await put(bucket, config);
  const got = await suite.s3.send(
    new GetBucketInventoryConfigurationCommand({ Bucket: bucket, Id: 'daily-1' }),
  );
  t.deepEqual(got.InventoryConfiguration, config);
  const kms = configOf('weekly.kms', {
    IsEnabled: false,
    Schedule: { Frequency: 'Weekly' },
    IncludedObjectVersions: 'Current',
    Destination: {
      S3BucketDestination: {
        Bucket: 'arn:aws:s3:::inventory-dest',
        Format: 'CSV',
        Encryption: { SSEKMS: { KeyId: 'arn:aws:kms:us-east-1:000000000000:key/abc' } },
      },
    },
  });
  delete kms.Filter;
  delete kms.OptionalFields;
  await put(bucket, kms);
  const gotKms = await suite.s3.send(
    new GetBucketInventoryConfigurationCommand({ Bucket: bucket, Id: 'weekly.kms' }),
  );
  t.deepEqual(gotKms.InventoryConfiguration, kms);
  const list = await suite.s3.send(
    new ListBucketInventoryConfigurationsCommand({ Bucket: bucket }),
  );
  t.deepEqual(
    list.InventoryConfigurationList?.map((c) => c.Id),
    ['daily-1', 'weekly.kms'],
  );
  t.false(list.IsTruncated);
  await suite.s3.send(
    new DeleteBucketInventoryConfigurationCommand({ Bucket: bucket, Id: 'daily-1' }),
  );
  const gone = await s3Failure(
    suite.s3.send(new GetBucketInventoryConfigurationCommand({ Bucket: bucket, Id: 'daily-1' })),
  );
  t.is(gone.name, 'NoSuchConfiguration');
  t.is(gone.status, 404);
  const again = await s3Failure(
    suite.s3.send(new DeleteBucketInventoryConfigurationCommand({ Bucket: bucket, Id: 'daily-1' })),
  );
  t.is(again.name, 'NoSuchConfiguration');
});

test('bad configurations get AWS errors', async (t) => {
  const bucket = await newBucket(suite.s3, 'inv-err');
  const mismatch = await s3Failure(
    suite.s3.send(
      new PutBucketInventoryConfigurationCommand({
        Bucket: bucket,
        Id: 'other',
        InventoryConfiguration: configOf('one'),
      }),
    ),
  );
  t.is(mismatch.name, 'InvalidArgument');
  const badArn = await s3Failure(
    put(
      bucket,
      configOf('x', {
        Destination: { S3BucketDestination: { Bucket: 'not-an-arn', Format: 'CSV' } },
      }),
    ),
  );
  t.is(badArn.name, 'InvalidArgument');
  const orc = await s3Failure(
    put(
      bucket,
      configOf('o', {
        Destination: {
          S3BucketDestination: { Bucket: 'arn:aws:s3:::inventory-dest', Format: 'ORC' },
        },
      }),
    ),
  );
  t.is(orc.name, 'NotImplemented');
  t.is(orc.status, 501);
  const path = `/${bucket}?inventory&id=raw`;
  const doc = (body: string) =>
    signedFetch(suite.server.endpoint, { method: 'PUT', path, body: Buffer.from(body) });
  const valid =
    '<InventoryConfiguration><Id>raw</Id><IsEnabled>true</IsEnabled><Destination><S3BucketDestination><Bucket>arn:aws:s3:::d-bucket</Bucket><Format>CSV</Format></S3BucketDestination></Destination><Schedule><Frequency>Daily</Frequency></Schedule><IncludedObjectVersions>Current</IncludedObjectVersions></InventoryConfiguration>';
  t.is((await doc(valid)).status, 200);
  for (const bad of [
    valid.replace('Daily', 'Hourly'),
    valid.replace('<IsEnabled>true</IsEnabled>', ''),
    valid.replace('Current', 'Some'),
    valid.replace('</Schedule>', '</Schedule><Unknown/>'),
    valid.replace('<Format>CSV</Format>', '<Format>TSV</Format>'),
    valid.replace(
      '</Schedule>',
      '</Schedule><OptionalFields><Field>Colour</Field></OptionalFields>',
    ),
  ]) {
    const res = await doc(bad);
    t.is(res.status, 400, bad);
    t.regex(await res.text(), /<Code>MalformedXML<\/Code>/);
  }
  const badId = await signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}?inventory&id=${encodeURIComponent('bad id!')}`,
    body: Buffer.from(valid.replace('<Id>raw</Id>', '<Id>bad id!</Id>')),
  });
  t.is(badId.status, 400);
  t.regex(await badId.text(), /<Code>InvalidArgument<\/Code>/);
});

test('a bucket holds 1,000 configurations; the list pages by 100', async (t) => {
  t.timeout(240_000);
  const bucket = await newBucket(suite.s3, 'inv-many');
  const ids = Array.from({ length: 1000 }, (_, i) => `c${String(i).padStart(4, '0')}`);
  for (let i = 0; i < ids.length; i += 20) {
    await Promise.all(ids.slice(i, i + 20).map((id) => put(bucket, configOf(id))));
  }
  const over = await s3Failure(put(bucket, configOf('one-too-many')));
  t.is(over.name, 'TooManyConfigurations');
  t.is(over.status, 400);
  // Replacing an existing one is not a new one.
  await put(bucket, configOf('c0000', { IsEnabled: false }));
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await suite.s3.send(
      new ListBucketInventoryConfigurationsCommand({ Bucket: bucket, ContinuationToken: token }),
    );
    pages++;
    t.true((page.InventoryConfigurationList?.length ?? 0) <= 100);
    seen.push(...(page.InventoryConfigurationList ?? []).map((c) => c.Id ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    t.is(page.IsTruncated, token !== undefined);
  } while (token !== undefined);
  t.is(pages, 10);
  t.deepEqual(seen, ids);
});
