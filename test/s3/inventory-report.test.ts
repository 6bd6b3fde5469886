// Inventory reports through the AWS SDK v3: an admin-triggered run writes, to the destination
// bucket, AWS's layout (prefix/source/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json and
// manifest.checksum, gzip CSV data files under data/), whose checksum matches and whose rows
// are every version (All) or every current object (Current) under the filter prefix.
import {
  DeleteObjectCommand,
  type InventoryConfiguration,
  PutBucketInventoryConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { launchInventory, nextManifest, readReport } from '../helpers/inventory.js';
import { newBucket, useServer } from '../helpers/server.js';

// Serial: a triggered run reports every bucket, so one test's run would rewrite the other's
// manifest (same minute, same key) while it reads it.
const suite = useServer(test);

function inventory(id: string, dest: string, extra: Partial<InventoryConfiguration>) {
  return {
    Id: id,
    IsEnabled: true,
    Destination: {
      S3BucketDestination: { Bucket: `arn:aws:s3:::${dest}`, Format: 'CSV', Prefix: 'inv' },
    },
    Schedule: { Frequency: 'Daily' },
    IncludedObjectVersions: 'All',
    ...extra,
  } as InventoryConfiguration;
}

test.serial(
  'a triggered run reports every version under the prefix, with a matching checksum',
  async (t) => {
    t.timeout(60_000);
    const source = await newBucket(suite.s3, 'inv-src');
    const dest = await newBucket(suite.s3, 'inv-dst');
    await suite.s3.send(
      new PutBucketVersioningCommand({
        Bucket: source,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const put = (Key: string, Body: string) =>
      suite.s3.send(new PutObjectCommand({ Bucket: source, Key, Body }));
    const v1 = await put('logs/a b+c.txt', 'one');
    const v2 = await put('logs/a b+c.txt', 'second');
    const other = await put('logs/ü/x', 'x');
    await put('elsewhere/skip', 'no');
    const marker = await suite.s3.send(
      new DeleteObjectCommand({ Bucket: source, Key: 'logs/ü/x' }),
    );
    const all = inventory('all-versions', dest, {
      Filter: { Prefix: 'logs/' },
      OptionalFields: [
        'ETag',
        'Size',
        'LastModifiedDate',
        'StorageClass',
        'EncryptionStatus',
        'IsMultipartUploaded',
      ],
    });
    await suite.s3.send(
      new PutBucketInventoryConfigurationCommand({
        Bucket: source,
        Id: all.Id,
        InventoryConfiguration: all,
      }),
    );
    await launchInventory(suite.server);
    const key = await nextManifest(suite.s3, dest, `inv/${source}/all-versions/`);
    t.regex(
      key,
      new RegExp(
        `^inv/${source}/all-versions/\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}Z/manifest\\.json$`,
      ),
    );
    const { manifest, checksumOk, rows } = await readReport(suite.s3, dest, key);
    t.true(checksumOk, 'manifest.checksum is the MD5 of manifest.json');
    t.is(manifest.sourceBucket, source);
    t.is(manifest.destinationBucket, `arn:aws:s3:::${dest}`);
    t.is(manifest.fileFormat, 'CSV');
    t.is(
      manifest.fileSchema,
      'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, EncryptionStatus',
    );
    for (const file of manifest.files) {
      t.regex(file.key, new RegExp(`^inv/${source}/all-versions/data/[0-9a-f]{32}\\.csv\\.gz$`));
    }
    const byVersion = new Map(rows.map((r) => [r[2], r]));
    t.is(rows.length, 4, JSON.stringify(rows));
    for (const row of rows) {
      t.is(row[0], source);
      t.true(decodeURIComponent(row[1] ?? '').startsWith('logs/'));
    }
    const latest = byVersion.get(v2.VersionId);
    t.deepEqual(latest?.slice(0, 6), [
      source,
      'logs/a%20b%2Bc.txt',
      v2.VersionId,
      'true',
      'false',
      '6',
    ]);
    t.is(latest?.[7], (v2.ETag ?? '').replaceAll('"', ''));
    t.is(latest?.[8], 'STANDARD');
    t.is(latest?.[9], 'false');
    t.is(latest?.[10], 'NOT-SSE');
    t.regex(latest?.[6] ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    t.deepEqual(byVersion.get(v1.VersionId)?.slice(2, 6), [v1.VersionId, 'false', 'false', '3']);
    t.is(decodeURIComponent(byVersion.get(other.VersionId)?.[1] ?? ''), 'logs/ü/x');
    const markerRow = byVersion.get(marker.VersionId);
    t.deepEqual(markerRow?.slice(3, 6), ['true', 'true', '']);

    // Current only: the latest non-deleted objects, no version columns.
    const current = inventory('current', dest, {
      IncludedObjectVersions: 'Current',
      OptionalFields: ['Size'],
    });
    await suite.s3.send(
      new PutBucketInventoryConfigurationCommand({
        Bucket: source,
        Id: current.Id,
        InventoryConfiguration: current,
      }),
    );
    await launchInventory(suite.server);
    const currentKey = await nextManifest(suite.s3, dest, `inv/${source}/current/`);
    const report = await readReport(suite.s3, dest, currentKey);
    t.true(report.checksumOk);
    t.is(report.manifest.fileSchema, 'Bucket, Key, Size');
    t.deepEqual(report.rows.map((r) => r.slice(1)).sort(), [
      ['elsewhere/skip', '2'],
      ['logs/a%20b%2Bc.txt', '6'],
    ]);
  },
);

test.serial('a bucket with no objects gets a manifest with no data files', async (t) => {
  const source = await newBucket(suite.s3, 'inv-empty');
  const dest = await newBucket(suite.s3, 'inv-empty-dst');
  const config = inventory('nothing', dest, {});
  await suite.s3.send(
    new PutBucketInventoryConfigurationCommand({
      Bucket: source,
      Id: config.Id,
      InventoryConfiguration: config,
    }),
  );
  await launchInventory(suite.server);
  const key = await nextManifest(suite.s3, dest, `inv/${source}/nothing/`);
  const report = await readReport(suite.s3, dest, key);
  t.true(report.checksumOk);
  t.deepEqual(report.manifest.files, []);
  t.deepEqual(report.rows, []);
});
