import test, { type ExecutionContext } from 'ava';
import { canonicalIdOfAccessKey, ROOT_CANONICAL_ID } from '../../http/access/principal.js';
import { ROOT_ACCESS_KEY, runCli, TestServer } from '../helpers/server.js';

/**
 * `hangar bucket info` (owner, ownership, public access block, public status),
 * `hangar bucket public-access`, `hangar bucket policy get` without a policy and `hangar key
 * info`'s canonical id: through the admin API while a server runs, on the files after.
 */

const ALL_BLOCKED = {
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
};

type Run = (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** The same checks, whichever way the CLI reaches the catalog. */
async function checkAccessCommands(t: ExecutionContext, run: Run, bucket: string): Promise<void> {
  const ok = async (...args: string[]): Promise<string> => {
    const done = await run(...args);
    t.is(done.code, 0, `hangar ${args.join(' ')}: ${done.stderr}`);
    return done.stdout;
  };
  // biome-ignore lint/suspicious/noExplicitAny: JSON output is inspected field by field
  const json = async (...args: string[]): Promise<any> => JSON.parse(await ok(...args, '--json'));

  const info = await json('bucket', 'info', bucket);
  t.like(info, {
    owner: { accessKeyId: ROOT_ACCESS_KEY, canonicalId: ROOT_CANONICAL_ID, root: true },
    objectOwnership: 'BucketOwnerEnforced',
    publicAccessBlock: ALL_BLOCKED,
    hasPolicy: false,
    policyPublic: false,
    aclPublic: false,
    public: false,
  });
  const human = await ok('bucket', 'info', bucket);
  t.regex(human, new RegExp(`Owner canonical ID:\\s+${ROOT_CANONICAL_ID}`));
  t.regex(human, /Object ownership:\s+BucketOwnerEnforced/);
  t.regex(human, /Public access block:\s+BlockPublicAcls=true IgnorePublicAcls=true/);
  t.regex(human, /Public:\s+no \(neither the bucket policy nor the bucket ACL is public\)/);

  const one = await json('bucket', 'public-access', bucket, '--block-public-policy=false');
  t.like(one, { bucket, publicAccessBlock: { ...ALL_BLOCKED, blockPublicPolicy: false } });
  const two = await json(
    'bucket',
    'public-access',
    bucket,
    '--restrict-public-buckets',
    'false',
    '--block-public-acls=false',
  );
  t.deepEqual(two.publicAccessBlock, {
    blockPublicAcls: false,
    ignorePublicAcls: true,
    blockPublicPolicy: false,
    restrictPublicBuckets: false,
  });
  t.regex(
    await ok('bucket', 'public-access', bucket, '--allow-all'),
    /removed the public access block of bucket .*\n\s+Owner: the account/,
  );
  t.is((await json('bucket', 'info', bucket)).publicAccessBlock, null);
  t.deepEqual(
    (await json('bucket', 'public-access', bucket, '--block-all')).publicAccessBlock,
    ALL_BLOCKED,
  );

  for (const [args, message] of [
    [[], /give one of --block-all, --allow-all/],
    [['--block-all', '--allow-all'], /give one of/],
    [['--block-all', '--ignore-public-acls=false'], /give one of/],
    [['--block-public-acls=maybe'], /--block-public-acls takes true or false, not 'maybe'/],
  ] as const) {
    const refused = await run('bucket', 'public-access', bucket, ...args);
    t.is(refused.code, 2, args.join(' '));
    t.regex(refused.stderr, message);
  }
  t.deepEqual((await json('bucket', 'info', bucket)).publicAccessBlock, ALL_BLOCKED);

  const noPolicy = await run('bucket', 'policy', 'get', bucket);
  t.is(noPolicy.code, 1);
  t.regex(noPolicy.stderr, new RegExp(`bucket ${bucket} has no policy`));
  const noBucket = await run('bucket', 'public-access', 'no-such-bucket', '--block-all');
  t.is(noBucket.code, 1);

  const root = await json('key', 'info', ROOT_ACCESS_KEY);
  t.is(root.canonicalId, ROOT_CANONICAL_ID);
  t.regex(
    await ok('key', 'info', ROOT_ACCESS_KEY),
    new RegExp(`Canonical ID:\\s+${ROOT_CANONICAL_ID}`),
  );
}

test('bucket access commands, through the admin API and then on the files', async (t) => {
  const server = await TestServer.start();
  try {
    const created = await server.cli('bucket', 'create', 'cli-access');
    t.is(created.code, 0, created.stderr);
    const key = JSON.parse((await server.cli('key', 'create', 'someone', '--json')).stdout);
    const keyInfo = JSON.parse((await server.cli('key', 'info', key.accessKeyId, '--json')).stdout);
    t.is(keyInfo.canonicalId, canonicalIdOfAccessKey(key.accessKeyId));

    await checkAccessCommands(t, (...args) => server.cli(...args), 'cli-access');

    await server.stop();
    await checkAccessCommands(
      t,
      (...args) => runCli(['--data-dir', server.dataDir, ...args]),
      'cli-access',
    );
  } finally {
    await server.destroy();
  }
});
