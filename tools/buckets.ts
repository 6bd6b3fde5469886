import type { Command } from 'commander';
import { validateBucketName } from '../engine/catalog/bucket-name.js';
import type { BucketRecord, Catalog, Grant } from '../engine/catalog/catalog.js';
import type { HangarConfig } from '../engine/config.js';
import { countObjectsOffline } from '../engine/offline.js';
import { type BucketAccessStatus, bucketAccessStatus } from '../http/access/bucket-status.js';
import { fields, table } from '../http/admin/text-table.js';
import { type AdminClient, OperationError, UsageError } from './admin-client.js';
import { accessFields, accessJson, registerBucketAccess } from './bucket-access.js';
import { bucketJson, iso, leaf, permissions, requireBucket, withCatalog, yesNo } from './cli.js';
import { keyIdInCatalog, keyIdThroughApi } from './key-ref.js';
import type { Output } from './output.js';

/** `hangar bucket ...`: create, list, inspect and delete buckets; allow and deny key grants. */

// ---- buckets ----

async function bucketInfo(
  catalog: Catalog,
  config: HangarConfig,
  bucket: BucketRecord,
): Promise<Output> {
  const usage = await countObjectsOffline(config.dataDir, bucket.id);
  const grants = catalog.grantsOfBucket(bucket.id).map(({ accessKeyId, grant }) => ({
    accessKeyId,
    keyName: catalog.getKey(accessKeyId)?.name ?? '',
    ...grant,
  }));
  return bucketInfoOutput(config, bucket, usage, grants, bucketAccessStatus(catalog, bucket));
}

interface BucketGrant extends Grant {
  readonly accessKeyId: string;
  readonly keyName: string;
}

function bucketInfoOutput(
  config: HangarConfig,
  bucket: BucketRecord,
  usage: { readonly objects: number; readonly bytes: number },
  grants: readonly BucketGrant[],
  access: BucketAccessStatus,
): Output {
  return {
    json: {
      ...bucketJson(bucket),
      objects: usage.objects,
      bytes: usage.bytes,
      grants,
      ...accessJson(access),
    },
    human: `${fields([
      ['Name', bucket.name],
      ['ID', bucket.id],
      ['Created', iso(bucket.createdMs)],
      ['Location', bucket.location === '' ? `(default: ${config.s3.region})` : bucket.location],
      ['Objects', String(usage.objects)],
      ['Bytes', String(usage.bytes)],
      ...accessFields(access),
    ])}\n\n${
      grants.length === 0
        ? 'No key grants.'
        : table(
            ['KEY ID', 'NAME', 'READ', 'WRITE', 'OWNER'],
            grants.map((g) => [
              g.accessKeyId,
              g.keyName,
              yesNo(g.read),
              yesNo(g.write),
              yesNo(g.owner),
            ]),
          )
    }`,
  };
}

interface GrantOptions {
  read?: boolean;
  write?: boolean;
  owner?: boolean;
  key: string;
}

function requestedGrant(opts: GrantOptions): Grant {
  const requested: Grant = {
    read: opts.read === true,
    write: opts.write === true,
    owner: opts.owner === true,
  };
  if (!requested.read && !requested.write && !requested.owner) {
    throw new UsageError('give at least one of --read, --write, --owner');
  }
  return requested;
}

async function changeGrant(
  catalog: Catalog,
  bucketName: string,
  opts: GrantOptions,
  allow: boolean,
): Promise<Output> {
  const key = keyIdInCatalog(catalog, opts.key);
  const grant = await catalog.changeGrant(bucketName, key, requestedGrant(opts), allow);
  return grantOutput(bucketName, { ...opts, key }, grant);
}

function grantOutput(bucketName: string, opts: GrantOptions, grant: Grant): Output {
  return {
    json: { bucket: bucketName, accessKeyId: opts.key, ...grant },
    human: `key ${opts.key} on bucket ${bucketName}: ${permissions(grant)}`,
  };
}

/** GetBucketInfo's answer (the fields the CLI reads). */
interface ApiBucketInfo extends BucketAccessStatus {
  readonly id: string;
  readonly created: string;
  readonly globalAliases: readonly string[];
  readonly location: string;
  readonly keys: ReadonlyArray<{
    readonly accessKeyId: string;
    readonly name: string;
    readonly permissions: Grant;
  }>;
  readonly objects: number;
  readonly bytes: number;
}

/** The API reports the default location as the region; the catalog stores it as ''. */
function bucketFromApi(info: ApiBucketInfo, config: HangarConfig, name?: string): BucketRecord {
  return {
    id: info.id,
    name: name ?? info.globalAliases[0] ?? '',
    createdMs: Date.parse(info.created),
    location: info.location === config.s3.region ? '' : info.location,
  };
}

function apiBucketInfo(api: AdminClient, name: string): Promise<ApiBucketInfo> {
  return api.call<ApiBucketInfo>('GET', 'GetBucketInfo', { globalAlias: name });
}

async function apiChangeGrant(
  api: AdminClient,
  bucketName: string,
  opts: GrantOptions,
  allow: boolean,
): Promise<Output> {
  const permissions = requestedGrant(opts);
  const bucket = await apiBucketInfo(api, bucketName);
  const key = await keyIdThroughApi(api, opts.key);
  const after = await api.call<ApiBucketInfo>(
    'POST',
    allow ? 'AllowBucketKey' : 'DenyBucketKey',
    {},
    { bucketId: bucket.id, accessKeyId: key, permissions },
  );
  const grant = after.keys.find((k) => k.accessKeyId === key)?.permissions ?? {
    read: false,
    write: false,
    owner: false,
  };
  return grantOutput(
    bucketName,
    { ...opts, key },
    {
      read: grant.read,
      write: grant.write,
      owner: grant.owner,
    },
  );
}

export function registerBuckets(program: Command): void {
  const bucket = program.command('bucket').description('manage buckets and grants');
  const checkBucketName = (name: string): void => {
    const problem = validateBucketName(name);
    if (problem !== null) throw new UsageError(`invalid bucket name '${name}': ${problem}`);
  };
  const createdBucket = (created: BucketRecord): Output => ({
    json: bucketJson(created),
    human: `created bucket ${created.name} (id ${created.id})`,
  });
  const notEmpty = (name: string, objects: number): OperationError =>
    new OperationError(`bucket ${name} is not empty (${objects} objects)`);
  const deletedBucket = (name: string, id: string): Output => ({
    json: { deleted: name, id },
    human: `deleted bucket ${name}`,
  });
  const bucketList = (buckets: readonly BucketRecord[]): Output => ({
    json: buckets.map(bucketJson),
    human: table(
      ['NAME', 'ID', 'CREATED', 'LOCATION'],
      buckets.map((b) => [b.name, b.id, iso(b.createdMs), b.location]),
    ),
  });

  leaf(bucket, 'create <name>', 'create a bucket').action(
    (name: string, _opts: unknown, command: Command) =>
      withCatalog(
        command,
        async (catalog) => {
          checkBucketName(name);
          return createdBucket(await catalog.createBucket(name, { location: '' }));
        },
        async (api, config) => {
          checkBucketName(name);
          const created = await api.call<ApiBucketInfo>(
            'POST',
            'CreateBucket',
            {},
            {
              globalAlias: name,
            },
          );
          return createdBucket(bucketFromApi(created, config, name));
        },
      ),
  );

  leaf(bucket, 'delete <name>', 'delete an empty bucket').action(
    (name: string, _opts: unknown, command: Command) =>
      withCatalog(
        command,
        async (catalog, config) => {
          const record = requireBucket(catalog, name);
          const usage = await countObjectsOffline(config.dataDir, record.id);
          if (usage.objects > 0) throw notEmpty(name, usage.objects);
          const deleted = await catalog.deleteBucket(name);
          return deletedBucket(name, deleted.id);
        },
        async (api) => {
          const info = await apiBucketInfo(api, name);
          if (info.objects > 0) throw notEmpty(name, info.objects);
          await api.call('POST', 'DeleteBucket', { id: info.id });
          return deletedBucket(name, info.id);
        },
      ),
  );

  leaf(bucket, 'list', 'list buckets').action((_opts: unknown, command: Command) =>
    withCatalog(
      command,
      (catalog) => bucketList(catalog.listBuckets()),
      async (api, config) => {
        // ListBuckets leaves out the location: one GetBucketInfo per bucket.
        const listed = await api.call<Array<{ id: string }>>('GET', 'ListBuckets');
        const infos = await Promise.all(
          listed.map((b) => api.call<ApiBucketInfo>('GET', 'GetBucketInfo', { id: b.id })),
        );
        // As the catalog lists them: every global alias too.
        return bucketList(
          infos.map((info) => ({
            ...bucketFromApi(info, config),
            aliases: [...info.globalAliases],
          })),
        );
      },
    ),
  );

  leaf(bucket, 'info <name>', 'show a bucket, its size and its grants').action(
    (name: string, _opts: unknown, command: Command) =>
      withCatalog(
        command,
        (catalog, config) => bucketInfo(catalog, config, requireBucket(catalog, name)),
        async (api, config) => {
          const info = await apiBucketInfo(api, name);
          const grants = info.keys.map((k) => ({
            accessKeyId: k.accessKeyId,
            keyName: k.name,
            read: k.permissions.read,
            write: k.permissions.write,
            owner: k.permissions.owner,
          }));
          return bucketInfoOutput(config, bucketFromApi(info, config), info, grants, info);
        },
      ),
  );

  registerBucketAccess(bucket);

  for (const [verb, allow] of [
    ['allow', true],
    ['deny', false],
  ] as const) {
    leaf(bucket, `${verb} <bucket>`, `${verb} a key permissions on a bucket`)
      .requiredOption('--key <key>', 'the access key: its id, or its name')
      .option('--read', 'read objects')
      .option('--write', 'write and delete objects')
      .option('--owner', 'administer the bucket')
      .action((bucketName: string, opts: GrantOptions, command: Command) =>
        withCatalog(
          command,
          (catalog) => changeGrant(catalog, bucketName, opts, allow),
          (api) => apiChangeGrant(api, bucketName, opts, allow),
        ),
      );
  }
}
