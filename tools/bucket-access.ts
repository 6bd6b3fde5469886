import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { PublicAccessBlock } from '../engine/catalog/access.js';
import { LIMITS } from '../engine/limits.js';
import { bucketAccessOf } from '../http/access/access-record.js';
import { deleteBucketPolicy, putBucketPolicy } from '../http/access/bucket-policy.js';
import {
  type BucketAccessStatus,
  bucketAccessStatus,
  changePublicAccessBlock,
  type PublicAccessBlockChange,
} from '../http/access/bucket-status.js';
import { S3Error } from '../http/s3/errors.js';
import { type AdminClient, OperationError, UsageError } from './admin-client.js';
import { leaf, requireBucket, withCatalog, yesNo } from './cli.js';
import type { Output } from './output.js';

/**
 * `hangar bucket policy get|set|delete` and `hangar bucket public-access`: who may reach a
 * bucket, through the running server's admin API (GetBucketPolicy, PutBucketPolicy,
 * DeleteBucketPolicy, UpdateBucket's publicAccessBlock) or, without a server, on the catalog
 * through the same code (bucket-policy.ts, bucket-status.ts). Also the access lines of
 * `hangar bucket info`.
 */

/** GetBucketInfo's answer, as far as these commands read it. */
type ApiBucket = BucketAccessStatus & { readonly id: string };

function apiBucket(api: AdminClient, name: string): Promise<ApiBucket> {
  return api.call<ApiBucket>('GET', 'GetBucketInfo', { globalAlias: name });
}

/** The access lines of `hangar bucket info` (and of the commands that change access). */
export function accessFields(status: BucketAccessStatus): Array<[string, string]> {
  const { owner } = status;
  const block = status.publicAccessBlock;
  const ownerText =
    `${owner.root ? 'the account (root key)' : (owner.accessKeyId ?? '(a deleted key)')}` +
    `${owner.root && owner.accessKeyId !== null ? ` ${owner.accessKeyId}` : ''}`;
  return [
    ['Owner', ownerText],
    ['Owner canonical ID', owner.canonicalId],
    ['Object ownership', status.objectOwnership ?? '(none: ACLs enabled, as ObjectWriter)'],
    [
      'Public access block',
      block === null
        ? '(none: nothing blocked)'
        : `BlockPublicAcls=${block.blockPublicAcls} IgnorePublicAcls=${block.ignorePublicAcls} ` +
          `BlockPublicPolicy=${block.blockPublicPolicy} RestrictPublicBuckets=${block.restrictPublicBuckets}`,
    ],
    ['Policy', status.hasPolicy ? (status.policyPublic ? 'set, public' : 'set') : '(none)'],
    ['ACL public', yesNo(status.aclPublic)],
    ['Public', `${yesNo(status.public)} (${status.publicReason})`],
  ];
}

/** The access status as the JSON of `hangar bucket info` and of these commands shows it. */
export function accessJson(status: BucketAccessStatus): Record<string, unknown> {
  return {
    owner: status.owner,
    objectOwnership: status.objectOwnership,
    publicAccessBlock: status.publicAccessBlock,
    hasPolicy: status.hasPolicy,
    policyPublic: status.policyPublic,
    aclPublic: status.aclPublic,
    public: status.public,
    publicReason: status.publicReason,
  };
}

function accessOutput(name: string, done: string, status: BucketAccessStatus): Output {
  const lines = accessFields(status)
    .map(([label, value]) => `  ${label}: ${value}`)
    .join('\n');
  return { json: { bucket: name, ...accessJson(status) }, human: `${done}\n${lines}` };
}

export function registerBucketAccess(bucket: Command): void {
  registerPolicy(bucket);
  registerPublicAccess(bucket);
}

// ---- hangar bucket policy ----

/** The policy code's S3 errors (MalformedPolicy, AccessDenied under BlockPublicPolicy, ...). */
async function orOperationError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof S3Error) throw new OperationError(`${error.code}: ${error.message}`);
    throw error;
  }
}

/** A policy document from a file, or from stdin for `-`; bounded as the admin API's bodies. */
function readPolicy(source: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(source === '-' ? 0 : source);
  } catch (error) {
    throw new UsageError(`cannot read the policy from ${source}: ${(error as Error).message}`);
  }
  if (bytes.length > LIMITS.adminBodyBytesMax) {
    throw new UsageError(`the policy in ${source} is over ${LIMITS.adminBodyBytesMax} bytes`);
  }
  return bytes.toString('utf8');
}

function policyText(name: string, text: string): Output {
  return { json: { bucket: name, policy: text }, human: text };
}

function noPolicy(name: string): OperationError {
  return new OperationError(`bucket ${name} has no policy`);
}

function registerPolicy(bucket: Command): void {
  const policy = bucket.command('policy').description("show, set or remove a bucket's policy");

  leaf(policy, 'get <bucket>', "print the bucket's policy as it was set").action(
    (name: string, _opts: unknown, command: Command) =>
      withCatalog(
        command,
        (catalog) => {
          const stored = bucketAccessOf(catalog, requireBucket(catalog, name)).policy;
          if (stored === undefined) throw noPolicy(name);
          return policyText(name, stored.text);
        },
        async (api) => {
          const { id, hasPolicy } = await apiBucket(api, name);
          if (!hasPolicy) throw noPolicy(name);
          const got = await api.call<{ policy: string }>('GET', 'GetBucketPolicy', { id });
          return policyText(name, got.policy);
        },
      ),
  );

  leaf(
    policy,
    'set <bucket> <file>',
    "set the bucket's policy from a JSON file ('-': stdin)",
  ).action((name: string, source: string, _opts: unknown, command: Command) =>
    withCatalog(
      command,
      async (catalog) => {
        const record = requireBucket(catalog, name);
        const text = readPolicy(source);
        await orOperationError(() => putBucketPolicy(catalog, record.id, text));
        return accessOutput(
          name,
          `set the policy of bucket ${name}`,
          bucketAccessStatus(catalog, record),
        );
      },
      async (api) => {
        const { id } = await apiBucket(api, name);
        const text = readPolicy(source);
        const after = await api.call<ApiBucket>(
          'POST',
          'PutBucketPolicy',
          { id },
          { policy: text },
        );
        return accessOutput(name, `set the policy of bucket ${name}`, after);
      },
    ),
  );

  leaf(policy, 'delete <bucket>', "remove the bucket's policy").action(
    (name: string, _opts: unknown, command: Command) =>
      withCatalog(
        command,
        async (catalog) => {
          const record = requireBucket(catalog, name);
          await orOperationError(() => deleteBucketPolicy(catalog, record.id));
          return accessOutput(
            name,
            `removed the policy of bucket ${name}`,
            bucketAccessStatus(catalog, record),
          );
        },
        async (api) => {
          const { id } = await apiBucket(api, name);
          const after = await api.call<ApiBucket>('POST', 'DeleteBucketPolicy', { id });
          return accessOutput(name, `removed the policy of bucket ${name}`, after);
        },
      ),
  );
}

// ---- hangar bucket public-access ----

interface PublicAccessOptions {
  blockAll?: boolean;
  allowAll?: boolean;
  blockPublicAcls?: string;
  ignorePublicAcls?: string;
  blockPublicPolicy?: string;
  restrictPublicBuckets?: string;
}

const FLAG_OPTIONS = [
  ['blockPublicAcls', '--block-public-acls'],
  ['ignorePublicAcls', '--ignore-public-acls'],
  ['blockPublicPolicy', '--block-public-policy'],
  ['restrictPublicBuckets', '--restrict-public-buckets'],
] as const;

function flagValue(option: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${option} takes true or false, not '${value}'`);
}

/** The change the options ask for: all four flags, none (null), or the ones named. */
function requestedChange(opts: PublicAccessOptions): PublicAccessBlockChange {
  const named: { -readonly [K in keyof PublicAccessBlock]?: boolean } = {};
  for (const [flag, option] of FLAG_OPTIONS) {
    const value = opts[flag];
    if (value !== undefined) named[flag] = flagValue(option, value);
  }
  const ways = [opts.blockAll === true, opts.allowAll === true, Object.keys(named).length > 0];
  if (ways.filter(Boolean).length !== 1) {
    throw new UsageError(
      'give one of --block-all, --allow-all, or one or more of ' +
        FLAG_OPTIONS.map(([, option]) => `${option}=true|false`).join(', '),
    );
  }
  if (opts.blockAll === true) {
    return {
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: true,
      restrictPublicBuckets: true,
    };
  }
  return opts.allowAll === true ? null : named;
}

function registerPublicAccess(bucket: Command): void {
  const command = leaf(
    bucket,
    'public-access <bucket>',
    "set or remove the bucket's public access block",
  )
    .option('--block-all', 'block every kind of public access (the default of new buckets)')
    .option('--allow-all', 'remove the public access block (nothing blocked)');
  for (const [, option] of FLAG_OPTIONS) command.option(`${option} <bool>`, 'set this flag only');
  command.action((name: string, opts: PublicAccessOptions, cmd: Command) =>
    withCatalog(
      cmd,
      async (catalog) => {
        const change = requestedChange(opts);
        const record = requireBucket(catalog, name);
        await changePublicAccessBlock(catalog, record.id, change);
        return accessOutput(name, changedText(name, change), bucketAccessStatus(catalog, record));
      },
      async (api) => {
        const change = requestedChange(opts);
        const { id } = await apiBucket(api, name);
        const after = await api.call<ApiBucket>(
          'POST',
          'UpdateBucket',
          { id },
          { publicAccessBlock: change },
        );
        return accessOutput(name, changedText(name, change), after);
      },
    ),
  );
}

function changedText(name: string, change: PublicAccessBlockChange): string {
  return change === null
    ? `removed the public access block of bucket ${name}`
    : `changed the public access block of bucket ${name}`;
}
