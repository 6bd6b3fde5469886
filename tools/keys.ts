import type { Command } from 'commander';
import type { Catalog, Grant, KeyRecord } from '../engine/catalog/catalog.js';
import { canonicalIdOf } from '../http/access/principal.js';
import { fields, table } from '../http/admin/text-table.js';
import type { AdminClient } from './admin-client.js';
import { iso, leaf, publicKey, requireKey, withCatalog, yesNo } from './cli.js';
import type { Output } from './output.js';

/** `hangar key ...`: create, import, list, info, update and delete access keys. */

// ---- keys ----

function showNewKey(key: KeyRecord, verb: string): Output {
  return {
    json: { ...publicKey(key), secretAccessKey: key.secretAccessKey },
    human: fields([
      ['Key ID', key.accessKeyId],
      ['Secret key', key.secretAccessKey],
      ['Name', key.name],
      ['Can create buckets', yesNo(key.allowCreateBucket)],
      ['Status', verb],
    ]),
  };
}

/** A bucket a key holds permissions on. */
interface KeyGrant {
  readonly bucket: { readonly name: string; readonly id: string };
  readonly grant: Grant;
}

function keyInfo(catalog: Catalog, key: KeyRecord, showSecret: boolean): Output {
  const grants = catalog
    .listBuckets()
    .map((bucket) => ({ bucket, grant: catalog.getGrant(bucket.id, key.accessKeyId) }))
    .filter(({ grant }) => grant.read || grant.write || grant.owner);
  return keyInfoOutput(key, grants, showSecret);
}

function keyInfoOutput(key: KeyRecord, grants: readonly KeyGrant[], showSecret: boolean): Output {
  const json: Record<string, unknown> = {
    ...publicKey(key),
    canonicalId: canonicalIdOf(key),
    ...(showSecret ? { secretAccessKey: key.secretAccessKey } : {}),
    grants: grants.map(({ bucket, grant }) => ({
      bucket: bucket.name,
      bucketId: bucket.id,
      ...grant,
    })),
  };
  const pairs: Array<[string, string]> = [
    ['Key ID', key.accessKeyId],
    ['Canonical ID', canonicalIdOf(key)],
    ['Name', key.name],
    ['Created', iso(key.createdMs)],
    ['Can create buckets', yesNo(key.allowCreateBucket)],
    ['Root', key.root ? 'yes (every permission on every bucket)' : 'no'],
  ];
  if (showSecret) pairs.splice(1, 0, ['Secret key', key.secretAccessKey]);
  const grantTable =
    grants.length === 0
      ? 'No bucket grants.'
      : table(
          ['BUCKET', 'READ', 'WRITE', 'OWNER'],
          grants.map(({ bucket, grant }) => [
            bucket.name,
            yesNo(grant.read),
            yesNo(grant.write),
            yesNo(grant.owner),
          ]),
        );
  return { json, human: `${fields(pairs)}\n\n${grantTable}` };
}

/** GetKeyInfo's answer (the fields the CLI reads). */
interface ApiKeyInfo {
  readonly accessKeyId: string;
  readonly name: string;
  readonly created: string;
  readonly root: boolean;
  readonly secretAccessKey?: string;
  readonly permissions: { readonly createBucket: boolean };
  readonly buckets: ReadonlyArray<{
    readonly id: string;
    readonly globalAliases: readonly string[];
    readonly permissions: Grant;
  }>;
}

function keyFromApi(info: ApiKeyInfo): KeyRecord {
  return {
    accessKeyId: info.accessKeyId,
    secretAccessKey: info.secretAccessKey ?? '',
    name: info.name,
    createdMs: Date.parse(info.created),
    allowCreateBucket: info.permissions.createBucket,
    root: info.root,
  };
}

function apiKeyInfo(api: AdminClient, id: string, showSecret = false): Promise<ApiKeyInfo> {
  return api.call<ApiKeyInfo>('GET', 'GetKeyInfo', {
    id,
    ...(showSecret ? { showSecretKey: 'true' } : {}),
  });
}

export function registerKeys(program: Command): void {
  const key = program.command('key').description('manage access keys');
  const deletedKey = (accessKeyId: string): Output => ({
    json: { deleted: accessKeyId },
    human: `deleted key ${accessKeyId}`,
  });

  leaf(key, 'create <name>', 'create a key with a random id and secret')
    .option('--allow-create-bucket', 'the key may create buckets')
    .action((name: string, opts: { allowCreateBucket?: boolean }, command: Command) =>
      withCatalog(
        command,
        async (catalog) => {
          const created = await catalog.createKey(name, {
            allowCreateBucket: opts.allowCreateBucket === true,
          });
          return showNewKey(created, 'created');
        },
        async (api) => {
          const created = await api.call<ApiKeyInfo>(
            'POST',
            'CreateKey',
            {},
            {
              name,
              allowCreateBucket: opts.allowCreateBucket === true,
            },
          );
          return showNewKey(keyFromApi(created), 'created');
        },
      ),
    );

  leaf(key, 'import <accessKeyId> <secret>', 'import an existing key id and secret')
    .option('--name <name>', 'a name for the key')
    .option('--allow-create-bucket', 'the key may create buckets')
    .action(
      (
        accessKeyId: string,
        secret: string,
        opts: { name?: string; allowCreateBucket?: boolean },
        command: Command,
      ) =>
        withCatalog(
          command,
          async (catalog) => {
            const imported = await catalog.importKey(
              accessKeyId,
              secret,
              opts.name ?? accessKeyId,
              { allowCreateBucket: opts.allowCreateBucket === true },
            );
            return showNewKey(imported, 'imported');
          },
          async (api) => {
            const imported = keyFromApi(
              await api.call<ApiKeyInfo>(
                'POST',
                'ImportKey',
                {},
                {
                  accessKeyId,
                  secretAccessKey: secret,
                  name: opts.name ?? accessKeyId,
                },
              ),
            );
            if (opts.allowCreateBucket !== true) return showNewKey(imported, 'imported');
            // ImportKey takes no permissions: grant bucket creation right after.
            await api.call('POST', 'UpdateKey', { id: accessKeyId }, { allowCreateBucket: true });
            return showNewKey({ ...imported, allowCreateBucket: true }, 'imported');
          },
        ),
    );

  const keyList = (keys: readonly KeyRecord[]): Output => ({
    json: keys.map(publicKey),
    human: table(
      ['KEY ID', 'NAME', 'CREATED', 'CREATE BUCKETS', 'ROOT'],
      keys.map((k) => [
        k.accessKeyId,
        k.name,
        iso(k.createdMs),
        yesNo(k.allowCreateBucket),
        yesNo(k.root),
      ]),
    ),
  });
  leaf(key, 'list', 'list keys').action((_opts: unknown, command: Command) =>
    withCatalog(
      command,
      (catalog) => keyList(catalog.listKeys()),
      async (api) => {
        // ListKeys leaves out the permissions and the root flag: one GetKeyInfo per key.
        const listed = await api.call<Array<{ id: string }>>('GET', 'ListKeys');
        const infos = await Promise.all(listed.map((k) => apiKeyInfo(api, k.id)));
        return keyList(infos.map(keyFromApi));
      },
    ),
  );

  leaf(key, 'info <accessKeyId>', 'show a key and its grants on each bucket')
    .option('--show-secret', 'also show the secret key')
    .action((accessKeyId: string, opts: { showSecret?: boolean }, command: Command) =>
      withCatalog(
        command,
        (catalog) => keyInfo(catalog, requireKey(catalog, accessKeyId), opts.showSecret === true),
        async (api) => {
          const info = await apiKeyInfo(api, accessKeyId, opts.showSecret === true);
          const grants = info.buckets.map((b) => ({
            bucket: { name: b.globalAliases[0] ?? '', id: b.id },
            grant: {
              read: b.permissions.read,
              write: b.permissions.write,
              owner: b.permissions.owner,
            },
          }));
          return keyInfoOutput(keyFromApi(info), grants, opts.showSecret === true);
        },
      ),
    );

  leaf(key, 'delete <accessKeyId>', 'delete a key and its grants').action(
    (accessKeyId: string, _opts: unknown, command: Command) =>
      withCatalog(
        command,
        async (catalog) => {
          await catalog.deleteKey(accessKeyId);
          return deletedKey(accessKeyId);
        },
        async (api) => {
          await api.call('POST', 'DeleteKey', { id: accessKeyId });
          return deletedKey(accessKeyId);
        },
      ),
  );
}
