import {
  DeleteBucketIntelligentTieringConfigurationCommand,
  DeleteBucketLifecycleCommand,
  GetBucketIntelligentTieringConfigurationCommand,
  GetBucketLifecycleConfigurationCommand,
  type IntelligentTieringConfiguration,
  type LifecycleRule,
  ListBucketIntelligentTieringConfigurationsCommand,
  PutBucketIntelligentTieringConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';

/*
 * Transition / NoncurrentVersionTransition in lifecycle configurations, the
 * x-amz-transition-default-minimum-object-size header, and Intelligent-Tiering configurations:
 * their round trips and AWS's errors, through the real server with AWS SDK v3.
 */

const suite = useServer(test);

function putRules(bucket: string, rules: LifecycleRule[], minimumSize?: string) {
  return new PutBucketLifecycleConfigurationCommand({
    Bucket: bucket,
    LifecycleConfiguration: { Rules: rules },
    ...(minimumSize !== undefined
      ? { TransitionDefaultMinimumObjectSize: minimumSize as 'varies_by_storage_class' }
      : {}),
  });
}

test('transitions round-trip, several per rule, with the minimum-size header', async (t) => {
  const bucket = await newBucket(suite.s3, 'trans-cfg');
  const rules: LifecycleRule[] = [
    {
      ID: 'waterfall',
      Status: 'Enabled',
      Filter: { Prefix: 'logs/' },
      Transitions: [
        { Days: 30, StorageClass: 'STANDARD_IA' },
        { Days: 60, StorageClass: 'GLACIER' },
        { Days: 365, StorageClass: 'DEEP_ARCHIVE' },
      ],
      Expiration: { Days: 400 },
    },
    {
      ID: 'dated',
      Status: 'Enabled',
      Filter: { Prefix: 'old/' },
      Transitions: [{ Date: new Date('2031-01-01T00:00:00Z'), StorageClass: 'GLACIER_IR' }],
    },
    {
      ID: 'noncurrent',
      Status: 'Enabled',
      Filter: {},
      NoncurrentVersionTransitions: [
        { NoncurrentDays: 30, StorageClass: 'ONEZONE_IA', NewerNoncurrentVersions: 2 },
        { NoncurrentDays: 90, StorageClass: 'GLACIER' },
      ],
      NoncurrentVersionExpiration: { NoncurrentDays: 120 },
    },
  ];
  const put = await suite.s3.send(putRules(bucket, rules, 'varies_by_storage_class'));
  t.is(put.TransitionDefaultMinimumObjectSize, 'varies_by_storage_class');
  const got = await suite.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
  t.is(got.TransitionDefaultMinimumObjectSize, 'varies_by_storage_class');
  t.deepEqual(got.Rules?.[0]?.Transitions, rules[0]?.Transitions);
  t.deepEqual(got.Rules?.[0]?.Expiration, { Days: 400 });
  t.deepEqual(got.Rules?.[1]?.Transitions, rules[1]?.Transitions);
  t.deepEqual(got.Rules?.[2]?.NoncurrentVersionTransitions, rules[2]?.NoncurrentVersionTransitions);
  t.deepEqual(got.Rules?.[2]?.NoncurrentVersionExpiration, { NoncurrentDays: 120 });

  // Without the header, AWS's default since 2024.
  const again = await suite.s3.send(putRules(bucket, [rules[0] as LifecycleRule]));
  t.is(again.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
  const now = await suite.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
  t.is(now.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
  t.is(now.Rules?.length, 1);
  await suite.s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
});

test('transitions are refused with AWS errors', async (t) => {
  const bucket = await newBucket(suite.s3, 'trans-bad');
  const rule = (over: Partial<LifecycleRule>): LifecycleRule[] => [
    { ID: 'r', Status: 'Enabled', Filter: { Prefix: 'p/' }, ...over },
  ];
  const cases: Array<[string, LifecycleRule[], string, string?]> = [
    [
      'IA under 30 days',
      rule({ Transitions: [{ Days: 29, StorageClass: 'ONEZONE_IA' }] }),
      'InvalidArgument',
      "'Days' in Transition action must be greater than or equal to 30 for storageClass 'ONEZONE_IA'",
    ],
    [
      'noncurrent IA under 30 days',
      rule({ NoncurrentVersionTransitions: [{ NoncurrentDays: 10, StorageClass: 'STANDARD_IA' }] }),
      'InvalidArgument',
      "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'",
    ],
    [
      'expiration before transition',
      rule({ Transitions: [{ Days: 60, StorageClass: 'GLACIER' }], Expiration: { Days: 60 } }),
      'InvalidArgument',
      "'Days' in the Expiration action for filter '(prefix=p/)' must be greater than 'Days' in the Transition action",
    ],
    [
      'noncurrent expiration before transition',
      rule({
        NoncurrentVersionTransitions: [{ NoncurrentDays: 40, StorageClass: 'GLACIER' }],
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      }),
      'InvalidArgument',
    ],
    [
      'a warmer class later',
      rule({
        Transitions: [
          { Days: 10, StorageClass: 'GLACIER' },
          { Days: 40, StorageClass: 'STANDARD_IA' },
        ],
      }),
      'InvalidArgument',
    ],
    [
      'under 30 days after an IA transition',
      rule({
        Transitions: [
          { Days: 30, StorageClass: 'STANDARD_IA' },
          { Days: 45, StorageClass: 'GLACIER' },
        ],
      }),
      'InvalidArgument',
      "'Days' in the Transition action for StorageClass 'GLACIER' for filter '(prefix=p/)' must be 30 days more than 'Days' in the Transition action for StorageClass 'STANDARD_IA'",
    ],
    [
      'the same class twice',
      rule({
        Transitions: [
          { Days: 10, StorageClass: 'GLACIER' },
          { Days: 20, StorageClass: 'GLACIER' },
        ],
      }),
      'InvalidRequest',
    ],
    [
      'Days and Date mixed',
      rule({
        Transitions: [
          { Days: 10, StorageClass: 'GLACIER' },
          { Date: new Date('2031-01-01T00:00:00Z'), StorageClass: 'DEEP_ARCHIVE' },
        ],
      }),
      'InvalidRequest',
    ],
    [
      'a class no transition may name',
      rule({ Transitions: [{ Days: 10, StorageClass: 'STANDARD' as 'GLACIER' }] }),
      'InvalidStorageClass',
    ],
    [
      'an unknown class',
      rule({ Transitions: [{ Days: 10, StorageClass: 'COLD_STORAGE' as 'GLACIER' }] }),
      'MalformedXML',
    ],
    [
      'negative days',
      rule({ Transitions: [{ Days: -1, StorageClass: 'GLACIER' }] }),
      'InvalidArgument',
    ],
  ];
  for (const [what, rules, code, message] of cases) {
    const failure = await s3Failure(suite.s3.send(putRules(bucket, rules)));
    t.is(failure.name, code, what);
    t.is(failure.status, 400, what);
    if (message !== undefined) t.is(failure.message, message, what);
  }
  const header = await s3Failure(
    suite.s3.send(putRules(bucket, rule({ Expiration: { Days: 1 } }), 'small')),
  );
  t.is(header.name, 'InvalidRequest');
  // Days 0 to an archive class is allowed (AWS: transition at the next midnight).
  await suite.s3.send(
    putRules(bucket, rule({ Transitions: [{ Days: 0, StorageClass: 'GLACIER' }] })),
  );
  t.pass();
});

function tiering(id: string, over: Partial<IntelligentTieringConfiguration> = {}) {
  return {
    Id: id,
    Status: 'Enabled' as const,
    Tierings: [
      { AccessTier: 'ARCHIVE_ACCESS' as const, Days: 90 },
      { AccessTier: 'DEEP_ARCHIVE_ACCESS' as const, Days: 180 },
    ],
    ...over,
  };
}

test('intelligent-tiering configurations: put, get, list, delete', async (t) => {
  const bucket = await newBucket(suite.s3, 'it-cfg');
  const empty = await suite.s3.send(
    new ListBucketIntelligentTieringConfigurationsCommand({ Bucket: bucket }),
  );
  t.is(empty.IntelligentTieringConfigurationList, undefined);
  const one = tiering('archive', {
    Filter: { And: { Prefix: 'docs/', Tags: [{ Key: 'tier', Value: 'cold' }] } },
  });
  const two = tiering('b-prefix', {
    Filter: { Prefix: 'b/' },
    Status: 'Disabled',
    Tierings: [{ AccessTier: 'DEEP_ARCHIVE_ACCESS', Days: 730 }],
  });
  for (const config of [one, two]) {
    await suite.s3.send(
      new PutBucketIntelligentTieringConfigurationCommand({
        Bucket: bucket,
        Id: config.Id,
        IntelligentTieringConfiguration: config,
      }),
    );
  }
  const got = await suite.s3.send(
    new GetBucketIntelligentTieringConfigurationCommand({ Bucket: bucket, Id: 'archive' }),
  );
  t.deepEqual(got.IntelligentTieringConfiguration, one);
  const list = await suite.s3.send(
    new ListBucketIntelligentTieringConfigurationsCommand({ Bucket: bucket }),
  );
  t.false(list.IsTruncated);
  t.deepEqual(list.IntelligentTieringConfigurationList, [one, two]);
  await suite.s3.send(
    new DeleteBucketIntelligentTieringConfigurationCommand({ Bucket: bucket, Id: 'archive' }),
  );
  const gone = await s3Failure(
    suite.s3.send(
      new GetBucketIntelligentTieringConfigurationCommand({ Bucket: bucket, Id: 'archive' }),
    ),
  );
  t.is(gone.name, 'NoSuchConfiguration');
  t.is(gone.status, 404);
  const deleteAgain = await s3Failure(
    suite.s3.send(
      new DeleteBucketIntelligentTieringConfigurationCommand({ Bucket: bucket, Id: 'archive' }),
    ),
  );
  t.is(deleteAgain.name, 'NoSuchConfiguration');
});

test('intelligent-tiering configurations are refused with AWS errors', async (t) => {
  const bucket = await newBucket(suite.s3, 'it-bad');
  const cases: Array<[string, ReturnType<typeof tiering>, string]> = [
    [
      'archive under 90 days',
      tiering('a', { Tierings: [{ AccessTier: 'ARCHIVE_ACCESS', Days: 89 }] }),
      'InvalidArgument',
    ],
    [
      'deep archive under 180 days',
      tiering('a', { Tierings: [{ AccessTier: 'DEEP_ARCHIVE_ACCESS', Days: 179 }] }),
      'InvalidArgument',
    ],
    [
      'over 730 days',
      tiering('a', { Tierings: [{ AccessTier: 'ARCHIVE_ACCESS', Days: 731 }] }),
      'InvalidArgument',
    ],
    [
      'a tier twice',
      tiering('a', {
        Tierings: [
          { AccessTier: 'ARCHIVE_ACCESS', Days: 90 },
          { AccessTier: 'ARCHIVE_ACCESS', Days: 100 },
        ],
      }),
      'InvalidArgument',
    ],
    ['no tiering', tiering('a', { Tierings: [] }), 'MalformedXML'],
    [
      'an unknown tier',
      tiering('a', { Tierings: [{ AccessTier: 'COLD' as 'ARCHIVE_ACCESS', Days: 100 }] }),
      'MalformedXML',
    ],
  ];
  for (const [what, config, code] of cases) {
    const failure = await s3Failure(
      suite.s3.send(
        new PutBucketIntelligentTieringConfigurationCommand({
          Bucket: bucket,
          Id: 'a',
          IntelligentTieringConfiguration: config,
        }),
      ),
    );
    t.is(failure.name, code, what);
  }
  const mismatch = await s3Failure(
    suite.s3.send(
      new PutBucketIntelligentTieringConfigurationCommand({
        Bucket: bucket,
        Id: 'url-id',
        IntelligentTieringConfiguration: tiering('body-id'),
      }),
    ),
  );
  t.is(mismatch.name, 'InvalidArgument');
  const badId = await s3Failure(
    suite.s3.send(
      new GetBucketIntelligentTieringConfigurationCommand({ Bucket: bucket, Id: 'bad id!' }),
    ),
  );
  t.is(badId.name, 'InvalidArgument');
});
