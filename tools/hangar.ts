#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { validateBucketName } from '../engine/catalog/bucket-name.js';
import {
  type BucketRecord,
  Catalog,
  CatalogError,
  type Grant,
  type KeyRecord,
} from '../engine/catalog/catalog.js';
import {
  ConfigError,
  describeConfig,
  type HangarConfig,
  loadConfig,
  tlsFilesOf,
} from '../engine/config.js';
import { fsck } from '../engine/fsck.js';
import { LayoutError } from '../engine/layout.js';
import { createLogger, type Logger, resolveLogSettings } from '../engine/log.js';
import { countObjectsOffline } from '../engine/offline.js';
import { type BucketAccessStatus, bucketAccessStatus } from '../http/access/bucket-status.js';
import { canonicalIdOf } from '../http/access/principal.js';
import { liveAdminFile } from '../http/admin/discovery.js';
import { fields, table } from '../http/admin/text-table.js';
import { startServer } from '../http/server.js';
import { PortLostError } from '../http/uws/listen.js';
import { type AdminClient, adminClient, OperationError, UsageError } from './admin-client.js';
import { accessFields, accessJson, registerBucketAccess } from './bucket-access.js';
import { registerDoctor, startupChecks } from './doctor/command.js';
import { keyIdInCatalog, keyIdThroughApi } from './key-ref.js';
import { registerKms } from './kms.js';
import { registerMaintenance } from './maintenance.js';
import type { Output } from './output.js';
import { reloadOnSighup } from './reload.js';

/**
 * The `hangar` command: runs the server and administers the catalog (keys, buckets, grants).
 * Exit codes: 0 ok, 1 operation error, 2 usage or configuration error.
 */

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

// ---- output ----

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function yesNo(flag: boolean): string {
  return flag ? 'yes' : 'no';
}

function permissions(grant: Grant): string {
  const names = (['read', 'write', 'owner'] as const).filter((p) => grant[p]);
  return names.length === 0 ? '-' : names.join(',');
}

function publicKey(key: KeyRecord): Record<string, unknown> {
  return {
    accessKeyId: key.accessKeyId,
    name: key.name,
    createdMs: key.createdMs,
    created: iso(key.createdMs),
    allowCreateBucket: key.allowCreateBucket,
    root: key.root,
  };
}

function bucketJson(bucket: BucketRecord): Record<string, unknown> {
  return { ...bucket, created: iso(bucket.createdMs) };
}

// ---- running a command ----

interface GlobalOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
  adminToken?: string;
}

function configFrom(command: Command, extraFlags: Record<string, string | undefined> = {}) {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return loadConfig({
    env: process.env,
    flags: { config: opts.config, 'data-dir': opts.dataDir, ...extraFlags },
  });
}

function fail(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError) {
    process.stderr.write(`hangar: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof OperationError || error instanceof CatalogError) {
    process.stderr.write(`hangar: ${error.message}\n`);
    return EXIT_FAILED;
  }
  process.stderr.write(
    `hangar: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT_FAILED;
}

/** Loads the configuration, runs `produce`, prints its output and sets the exit code. */
async function runCommand(
  command: Command,
  produce: (config: HangarConfig) => Promise<Output> | Output,
): Promise<void> {
  try {
    const output = await produce(configFrom(command));
    const json = command.optsWithGlobals<GlobalOptions>().json === true;
    process.stdout.write(json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.human}\n`);
    process.exitCode ??= EXIT_OK;
  } catch (error) {
    process.exitCode = fail(error);
  }
}

/**
 * Runs the command through the running server's admin API (`remote`) when a live server owns
 * the data directory, else on the catalog directly (`body`; commands without `remote` always
 * work directly), and prints its output. Closes the catalog.
 */
function withCatalog(
  command: Command,
  body: (catalog: Catalog, config: HangarConfig) => Promise<Output> | Output,
  remote?: (api: AdminClient, config: HangarConfig) => Promise<Output>,
): Promise<void> {
  return runCommand(command, async (config) => {
    const server = remote === undefined ? null : liveAdminFile(config.dataDir);
    if (server !== null && remote !== undefined) {
      return remote(adminClient(command, config, server), config);
    }
    const catalog = Catalog.open(config.dataDir);
    try {
      return await body(catalog, config);
    } finally {
      await catalog.close();
    }
  });
}

function requireBucket(catalog: Catalog, name: string): BucketRecord {
  const bucket = catalog.getBucket(name);
  if (bucket === undefined) throw new OperationError(`no bucket ${name}`);
  return bucket;
}

function requireKey(catalog: Catalog, accessKeyId: string): KeyRecord {
  const key = catalog.getKey(accessKeyId);
  if (key === undefined) throw new OperationError(`no key ${accessKeyId}`);
  return key;
}

// ---- server ----

interface ServerOptions {
  s3Host?: string;
  s3Port?: string;
  webHost?: string;
  webPort?: string;
  adminHost?: string;
  adminPort?: string;
  shards?: string;
  edgeThreads?: string;
  durability?: string;
  logLevel?: string;
  logFormat?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  s3AllowSseCOverHttp?: string;
  s3SignatureV2?: string;
}

/**
 * What a person needs to point a client at the server, once every port listens: after the
 * human log lines on stdout, or on stderr when stdout carries JSON lines for machines.
 */
function printBanner(
  server: Awaited<ReturnType<typeof startServer>>,
  config: HangarConfig,
  out: NodeJS.WriteStream,
): void {
  const fromEnv = config.rootAccessKey !== null;
  const secret = fromEnv ? '(from HANGAR_ROOT_SECRET_KEY)' : server.rootKey.secretAccessKey;
  out.write(
    `\nhangar is serving S3 at ${server.endpoint} (region ${config.s3.region})\n` +
      `  AWS_ACCESS_KEY_ID=${server.rootKey.accessKeyId}\n` +
      `  AWS_SECRET_ACCESS_KEY=${secret}\n` +
      `  e.g. aws --endpoint-url ${server.endpoint} s3 ls\n` +
      `hangar is serving websites at ${server.webEndpoint} (Host: <bucket>.${config.web.rootDomains[0] ?? '<root domain>'})\n` +
      `hangar is serving the admin API at ${server.adminEndpoint}${config.admin.adminToken === null ? ' (local only: the hangar CLI on this machine needs no token)' : ''}\n\n`,
  );
}

/** Serves the certificate and key files anew; on failure the old ones stay, and it says why. */
async function reloadTls(
  server: Awaited<ReturnType<typeof startServer>>,
  logger: Logger,
): Promise<void> {
  try {
    logger.info({ certificate: await server.reloadTls() }, 'TLS certificate reloaded');
  } catch (error) {
    if (error instanceof PortLostError) {
      // Serving on fewer ports than configured helps no one: let a service manager restart us.
      logger.fatal({ err: error }, 'TLS certificate reload lost a port');
      await server.halt();
      process.exit(EXIT_FAILED);
    }
    logger.error({ err: error }, 'TLS certificate reload failed: still serving the old one');
  }
}

async function runServer(command: Command): Promise<void> {
  const opts = command.opts<ServerOptions>();
  const load = (): HangarConfig =>
    configFrom(command, {
      's3-host': opts.s3Host,
      's3-port': opts.s3Port,
      'web-host': opts.webHost,
      'web-port': opts.webPort,
      'admin-host': opts.adminHost,
      'admin-port': opts.adminPort,
      shards: opts.shards,
      'edge-threads': opts.edgeThreads,
      durability: opts.durability,
      'log-level': opts.logLevel,
      'log-format': opts.logFormat,
      'tls-cert-file': opts.tlsCertFile,
      'tls-key-file': opts.tlsKeyFile,
      's3-allow-sse-c-over-http': opts.s3AllowSseCOverHttp,
      's3-signature-v2': opts.s3SignatureV2,
    });
  let config: HangarConfig;
  try {
    config = load();
  } catch (error) {
    process.exit(fail(error));
  }
  // Block writes, fsyncs and reads of every shard share libuv's one thread pool (4 threads by
  // default); it must be sized before its first use.
  process.env['UV_THREADPOOL_SIZE'] ??= '32';
  const logSettings = resolveLogSettings(config.logLevel, config.logFormat);
  const logger = createLogger(logSettings);
  logger.info({ config: describeConfig(config) }, 'starting hangar');
  if (!startupChecks(config, logger)) process.exit(EXIT_USAGE);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'server failed to start');
    process.exit(
      error instanceof ConfigError || error instanceof LayoutError ? EXIT_USAGE : EXIT_FAILED,
    );
  }
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without a clean stop');
      void server.halt().finally(() => process.exit(EXIT_FAILED));
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping hangar');
    server.stop().then(
      () => {
        logger.info('stopped');
        process.exit(EXIT_OK);
      },
      (error: unknown) => {
        logger.fatal({ err: error }, 'clean stop failed');
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // SIGHUP rereads the configuration (log level) and the TLS certificate and key (renewals).
  reloadOnSighup(config, {
    logger,
    load,
    reloadTls: tlsFilesOf(config) === null ? null : () => void reloadTls(server, logger),
  });
  // Runs every bucket's lifecycle rules now (until an admin API offers it).
  process.on('SIGUSR2', () => {
    server.runLifecycleNow().catch(() => undefined);
  });
  // Last: whoever waits for the banner (a person, a test) may signal at once and get a clean stop.
  printBanner(server, config, logSettings.format === 'json' ? process.stderr : process.stdout);
}

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

// ---- through a running server's admin API ----

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

/** The API reports the default location as the region; the catalog stores it as ''. */
function bucketFromApi(info: ApiBucketInfo, config: HangarConfig, name?: string): BucketRecord {
  return {
    id: info.id,
    name: name ?? info.globalAliases[0] ?? '',
    createdMs: Date.parse(info.created),
    location: info.location === config.s3.region ? '' : info.location,
  };
}

function apiKeyInfo(api: AdminClient, id: string, showSecret = false): Promise<ApiKeyInfo> {
  return api.call<ApiKeyInfo>('GET', 'GetKeyInfo', {
    id,
    ...(showSecret ? { showSecretKey: 'true' } : {}),
  });
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

// ---- the program ----

function buildProgram(): Command {
  const program = new Command('hangar')
    .description('A fast S3-compatible object store for one machine')
    .option('-c, --config <file>', 'TOML configuration file (default: ./hangar.toml if present)')
    .option('--data-dir <dir>', 'data directory (overrides the configuration)')
    .option(
      '--admin-token <token>',
      "a running server's admin token (default: HANGAR_ADMIN_TOKEN, admin.admin_token, else <data dir>/admin.token)",
    )
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  /** Adds a leaf command that supports --json. */
  const leaf = (parent: Command, spec: string, description: string): Command =>
    parent.command(spec).description(description).option('--json', 'print one JSON document');

  program
    .command('server')
    .description('run the S3 server')
    .option('--s3-host <host>', 'address to listen on')
    .option('--s3-port <port>', 'port to listen on')
    .option('--web-host <host>', 'address of the static website endpoint')
    .option('--web-port <port>', 'port of the static website endpoint (0: any free port)')
    .option('--admin-host <host>', 'address of the admin API (metrics, health)')
    .option('--admin-port <port>', 'port of the admin API (0: any free port)')
    .option('--shards <n>', "number of shards (1..256 or 'auto'; fixed at first start)")
    .option('--edge-threads <n>', "threads serving the S3 and website ports (1..256 or 'auto')")
    .option('--durability <mode>', 'fsync | relaxed')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent')
    .option('--log-format <format>', 'auto (human on a terminal, else JSON) | json | pretty')
    .option('--tls-cert-file <file>', 'PEM certificate (chain) every port serves over TLS')
    .option('--tls-key-file <file>', 'PEM private key of --tls-cert-file')
    .option(
      '--s3-allow-sse-c-over-http <bool>',
      'accept SSE-C on a plain-HTTP S3 port (behind a TLS-terminating proxy only)',
    )
    .option('--s3-signature-v2 <bool>', 'accept AWS Signature Version 2 (default true)')
    .action((_opts: unknown, command: Command) => runServer(command));

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

  registerBucketAccess(bucket, { leaf, withCatalog });

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

  registerMaintenance(program, { leaf, run: runCommand });
  registerKms(program, { leaf, run: runCommand });
  registerDoctor(program, { leaf, run: runCommand });

  leaf(program, 'fsck', 'check block references against object records and files on disk')
    .option('--fail-on-leak', 'exit 1 on unreferenced blocks or temp files too, not only on loss')
    .action((opts: { failOnLeak?: boolean }, command: Command) =>
      withCatalog(command, (_catalog, config) => {
        const report = fsck(config.dataDir);
        const lost =
          report.missingBlocks.length +
          report.refcountMismatches.length +
          report.counterMismatches.length +
          report.damagedBodies.length;
        const leaked =
          report.unreferencedBlocks.length + report.unreferencedBodies.length + report.tempFiles;
        if (lost > 0 || (opts.failOnLeak === true && leaked > 0)) process.exitCode = EXIT_FAILED;
        return {
          json: report,
          human: fields([
            ['shards', String(report.shards)],
            ['objects', String(report.objects)],
            ['upload parts', String(report.parts)],
            ['referenced blocks', String(report.referencedBlocks)],
            ['block files', String(report.blockFiles)],
            ['stored bytes', String(report.storedBytes)],
            ['missing blocks', String(report.missingBlocks.length)],
            ['refcount mismatches', String(report.refcountMismatches.length)],
            ['counter mismatches', String(report.counterMismatches.length)],
            ['unreferenced blocks', String(report.unreferencedBlocks.length)],
            ['temp files', String(report.tempFiles)],
            ['bodies', String(report.bodies)],
            ['damaged bodies', String(report.damagedBodies.length)],
            ['unreferenced bodies', String(report.unreferencedBodies.length)],
          ]),
        };
      }),
    );

  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; every other parse error is a usage error.
      process.exitCode = error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      return;
    }
    process.exitCode = fail(error);
  }
}

await main(process.argv);
