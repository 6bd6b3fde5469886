import type { Command } from 'commander';
import type { Catalog } from '../engine/catalog/catalog.js';
import { RemoteError } from '../engine/catalog/remotes.js';
import { liveAdminFile } from '../http/admin/discovery.js';
import { AdminError } from '../http/admin/errors.js';
import { type RemoteJson, remoteFromBody, remoteJson } from '../http/admin/handlers/remotes.js';
import { fields, table } from '../http/admin/text-table.js';
import { type AdminClient, adminClient, OperationError, UsageError } from './admin-client.js';
import { openCatalogOffline } from './cli.js';
import type { CliParts } from './maintenance.js';
import type { Output } from './output.js';

/**
 * `hangar remote` (bucket replication's destinations): through the running server's admin API
 * when one runs on the data directory, else on the catalog directly, like `hangar kms`. The
 * remote's secret comes from --secret-key or HANGAR_REMOTE_SECRET_KEY (kept out of `ps` output).
 */

function remoteOutput(remote: RemoteJson): Output {
  return {
    json: remote,
    human: fields([
      ['Name', remote.name],
      ['Endpoint', remote.endpoint],
      ['Region', remote.region],
      ['Access key', remote.accessKeyId],
      ['Buckets', remote.buckets.join(', ')],
      ['Created', remote.created],
    ]),
  };
}

function listOutput(remotes: readonly RemoteJson[]): Output {
  return {
    json: remotes,
    human:
      remotes.length === 0
        ? 'No replication remotes.'
        : table(
            ['NAME', 'ENDPOINT', 'REGION', 'BUCKETS'],
            remotes.map((r) => [r.name, r.endpoint, r.region, r.buckets.join(', ')]),
          ),
  };
}

/** Runs `offline` on the catalog, or `remote` over the running server's API. */
function onRemotes(
  cli: CliParts,
  command: Command,
  offline: (catalog: Catalog) => Promise<Output> | Output,
  remote: (api: AdminClient) => Promise<Output>,
): Promise<void> {
  return cli.run(command, async (config) => {
    const server = liveAdminFile(config.dataDir);
    if (server !== null) return remote(adminClient(command, config, server));
    const catalog = openCatalogOffline(config);
    try {
      return await offline(catalog);
    } catch (error) {
      if (error instanceof RemoteError || error instanceof AdminError) {
        throw new OperationError(error.message);
      }
      throw error;
    } finally {
      await catalog.close();
    }
  });
}

interface AddOptions {
  endpoint: string;
  accessKey: string;
  secretKey?: string;
  region: string;
  bucket: string[];
  replace?: boolean;
}

export function registerRemotes(program: Command, cli: CliParts): void {
  const remote = program
    .command('remote')
    .description('manage bucket replication remotes (destination S3 endpoints)');
  cli.leaf(remote, 'list', 'list replication remotes').action((_opts: unknown, command: Command) =>
    onRemotes(
      cli,
      command,
      (catalog) => listOutput(catalog.remotes.list().map(remoteJson)),
      async (api) => listOutput(await api.call<RemoteJson[]>('GET', 'ListRemotes')),
    ),
  );
  cli
    .leaf(remote, 'info <name>', 'show a replication remote (never its secret)')
    .action((name: string, _opts: unknown, command: Command) =>
      onRemotes(
        cli,
        command,
        (catalog) => {
          const found = catalog.remotes.get(name);
          if (found === undefined) throw new OperationError(`no remote ${name}`);
          return remoteOutput(remoteJson(found));
        },
        async (api) => remoteOutput(await api.call<RemoteJson>('GET', 'GetRemoteInfo', { name })),
      ),
    );
  cli
    .leaf(remote, 'add <name>', 'register an S3 endpoint serving destination buckets')
    .requiredOption('--endpoint <url>', 'http(s)://host[:port] of the S3 endpoint')
    .requiredOption('--access-key <id>', 'access key id hangar signs with there')
    .option('--secret-key <secret>', 'its secret (default: $HANGAR_REMOTE_SECRET_KEY)')
    .option('--region <region>', 'the endpoint region', 'us-east-1')
    .requiredOption(
      '--bucket <name...>',
      'destination bucket(s) it serves (name or arn:aws:s3:::name)',
    )
    .option('--replace', 'replace a remote of the same name')
    .action((name: string, opts: AddOptions, command: Command) => {
      const secretKey = opts.secretKey ?? process.env['HANGAR_REMOTE_SECRET_KEY'];
      if (secretKey === undefined) {
        throw new UsageError('give --secret-key or set HANGAR_REMOTE_SECRET_KEY');
      }
      const body = {
        name,
        endpoint: opts.endpoint,
        region: opts.region,
        accessKeyId: opts.accessKey,
        secretAccessKey: secretKey,
        buckets: opts.bucket,
        replace: opts.replace === true,
      };
      return onRemotes(
        cli,
        command,
        async (catalog) => {
          const { record, replace } = remoteFromBody(body);
          await catalog.remotes.put(record, replace);
          return remoteOutput(remoteJson(record));
        },
        async (api) => remoteOutput(await api.call<RemoteJson>('POST', 'AddRemote', {}, body)),
      );
    });
  cli
    .leaf(remote, 'remove <name>', 'remove a replication remote')
    .action((name: string, _opts: unknown, command: Command) =>
      onRemotes(
        cli,
        command,
        async (catalog) => {
          await catalog.remotes.remove(name);
          return { json: {}, human: `remote ${name} removed` };
        },
        async (api) => {
          await api.call('POST', 'RemoveRemote', {}, { name });
          return { json: {}, human: `remote ${name} removed` };
        },
      ),
    );
}
