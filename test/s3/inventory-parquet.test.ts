// Parquet inventory reports and the fields filled from outside the listing (ObjectOwner,
// ObjectAccessControlList, LifecycleExpirationDate), through the AWS SDK v3: the report is read
// back with hyparquet, column by column, and the same fields checked in a CSV report.
import {
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetObjectAclCommand,
  type InventoryConfiguration,
  type InventoryOptionalField,
  PutBucketInventoryConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { OPTIONAL_FIELDS } from '../../http/inventory/config.js';
import {
  launchInventory,
  nextManifest,
  readParquetReport,
  readReport,
} from '../helpers/inventory.js';
import { newBucket, useServer } from '../helpers/server.js';

const suite = useServer(test);
const DAY_MS = 86_400_000;
/** Every optional field, in AWS's order (the server's list: the CSV test checks the order). */
const ALL_FIELDS = OPTIONAL_FIELDS as readonly InventoryOptionalField[];

function inventory(id: string, dest: string, format: 'CSV' | 'Parquet'): InventoryConfiguration {
  return {
    Id: id,
    IsEnabled: true,
    Destination: { S3BucketDestination: { Bucket: `arn:aws:s3:::${dest}`, Format: format } },
    Schedule: { Frequency: 'Daily' },
    IncludedObjectVersions: 'All',
    OptionalFields: [...ALL_FIELDS],
  };
}

interface AclJson {
  version: string;
  status: string;
  grants: Array<{ permission: string; type: string; canonicalId?: string; uri?: string }>;
}

const aclOf = (base64: unknown): AclJson =>
  JSON.parse(Buffer.from(String(base64), 'base64').toString('utf8')) as AclJson;

/** Lifecycle's expiry: the first midnight UTC at least `days` after the write. */
function checkExpiry(
  t: { true(v: boolean, m?: string): void },
  atMs: number,
  lastModifiedMs: number,
) {
  t.true(atMs % DAY_MS === 0, 'at midnight UTC');
  t.true(
    atMs >= lastModifiedMs + 30 * DAY_MS && atMs <= lastModifiedMs + 31 * DAY_MS,
    String(atMs),
  );
}

test('a Parquet report has AWS columns, typed values and the ACL, owner and expiry fields', async (t) => {
  t.timeout(90_000);
  const source = await newBucket(suite.s3, 'invpq-src');
  const dest = await newBucket(suite.s3, 'invpq-dst');
  // ACLs on: a public-read object shows its grants in the report.
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: source }));
  await suite.s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: source,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
    }),
  );
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: source,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  await suite.s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: source,
      LifecycleConfiguration: {
        Rules: [
          {
            ID: 'logs-30',
            Status: 'Enabled',
            Filter: { Prefix: 'logs/' },
            Expiration: { Days: 30 },
          },
        ],
      },
    }),
  );
  const put = (Key: string, Body: string, ACL?: 'public-read') =>
    suite.s3.send(new PutObjectCommand({ Bucket: source, Key, Body, ...(ACL ? { ACL } : {}) }));
  const v1 = await put('logs/a b.txt', 'one');
  const v2 = await put('logs/a b.txt', 'second', 'public-read');
  const kept = await put('keep/b', 'keep');
  const marker = await suite.s3.send(new DeleteObjectCommand({ Bucket: source, Key: 'keep/b' }));
  const tiered = await suite.s3.send(
    new PutObjectCommand({
      Bucket: source,
      Key: 'tier/it',
      Body: 'tiered',
      StorageClass: 'INTELLIGENT_TIERING',
    }),
  );
  const owner =
    (await suite.s3.send(new GetObjectAclCommand({ Bucket: source, Key: 'logs/a b.txt' }))).Owner
      ?.ID ?? '';
  t.regex(owner, /^[0-9a-f]{64}$/);
  for (const [id, format] of [
    ['pq', 'Parquet'],
    ['csv', 'CSV'],
  ] as const) {
    await suite.s3.send(
      new PutBucketInventoryConfigurationCommand({
        Bucket: source,
        Id: id,
        InventoryConfiguration: inventory(id, dest, format),
      }),
    );
  }
  await launchInventory(suite.server);

  const report = await readParquetReport(
    suite.s3,
    dest,
    await nextManifest(suite.s3, dest, `${source}/pq/`),
  );
  t.true(report.checksumOk);
  t.is(report.manifest.fileFormat, 'Parquet');
  t.true(
    report.manifest.fileSchema.startsWith(
      'message s3.inventory { required binary bucket (STRING); required binary key (STRING); optional binary version_id (STRING); required boolean is_latest; required boolean is_delete_marker; optional int64 size;',
    ),
    report.manifest.fileSchema,
  );
  t.true(report.manifest.fileSchema.endsWith('optional int64 lifecycle_expiration_date; }'));
  for (const file of report.manifest.files) t.regex(file.key, /\/data\/[0-9a-f]{32}\.parquet$/);
  const rows = new Map(report.rows.map((row) => [row['version_id'], row]));
  t.is(report.rows.length, 5);
  const latest = rows.get(v2.VersionId) ?? {};
  t.like(latest, {
    bucket: source,
    key: 'logs/a b.txt',
    is_latest: true,
    is_delete_marker: false,
    size: 6n,
    e_tag: (v2.ETag ?? '').replaceAll('"', ''),
    storage_class: 'STANDARD',
    is_multipart_uploaded: false,
    object_owner: owner,
    intelligent_tiering_access_tier: null,
    object_lock_mode: null,
  });
  const lastModified = Number(latest['last_modified_date']);
  t.true(Math.abs(lastModified - Date.now()) < 5 * 60_000, 'milliseconds since the epoch');
  checkExpiry(t, Number(latest['lifecycle_expiration_date']), lastModified);
  const acl = aclOf(latest['object_access_control_list']);
  t.is(acl.version, '2022-11-10');
  t.is(acl.status, 'AVAILABLE');
  t.deepEqual(acl.grants.map((g) => `${g.type} ${g.canonicalId ?? g.uri} ${g.permission}`).sort(), [
    `CanonicalUser ${owner} FULL_CONTROL`,
    'Group http://acs.amazonaws.com/groups/global/AllUsers READ',
  ]);
  // A noncurrent version: its ACL (the owner's only), no expiry (Expiration acts on current ones).
  const older = rows.get(v1.VersionId) ?? {};
  t.like(older, { is_latest: false, size: 3n, lifecycle_expiration_date: null });
  t.deepEqual(aclOf(older['object_access_control_list']).grants, [
    { canonicalId: owner, permission: 'FULL_CONTROL', type: 'CanonicalUser' },
  ]);
  // Outside the rule's prefix: no expiry. A delete marker: no size, ETag or ACL.
  t.like(rows.get(kept.VersionId) ?? {}, { key: 'keep/b', lifecycle_expiration_date: null });
  t.like(rows.get(marker.VersionId) ?? {}, {
    is_delete_marker: true,
    size: null,
    e_tag: null,
    object_access_control_list: null,
  });

  // An INTELLIGENT_TIERING version not archived by tiering is in the frequent access tier.
  t.like(rows.get(tiered.VersionId) ?? {}, {
    storage_class: 'INTELLIGENT_TIERING',
    intelligent_tiering_access_tier: 'FREQUENT_ACCESS',
  });

  // The CSV report of the same run: the same fields as text.
  const csv = await readReport(
    suite.s3,
    dest,
    await nextManifest(suite.s3, dest, `${source}/csv/`),
  );
  const csvLatest = csv.rows.find((row) => row[2] === v2.VersionId) ?? [];
  const at = (field: InventoryOptionalField) => csvLatest[5 + ALL_FIELDS.indexOf(field)];
  t.is(at('ObjectOwner'), owner);
  t.is(at('ObjectAccessControlList'), String(latest['object_access_control_list']));
  t.is(
    at('LifecycleExpirationDate'),
    new Date(Number(latest['lifecycle_expiration_date'])).toISOString(),
  );
  t.is(at('IntelligentTieringAccessTier'), '');
});
