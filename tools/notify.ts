import type { Command } from 'commander';
import type { Catalog } from '../engine/catalog/catalog.js';
import {
  mergedTargets,
  NotifyTargetError,
  targetOfInput,
} from '../engine/catalog/notify-targets.js';
import type { HangarConfig } from '../engine/config.js';
import { type NotifyTargetJson, notifyTargetJson } from '../http/admin/handlers/notify-targets.js';
import { table } from '../http/admin/text-table.js';
import { type AdminClient, OperationError } from './admin-client.js';
import { withCatalog } from './cli.js';
import type { CliParts } from './maintenance.js';
import type { Output } from './output.js';

/**
 * `hangar notify target add|list|remove`: the S3 event notification targets stored in the
 * catalog (engine/catalog/notify-targets.ts), through the running server's admin API when one
 * runs on the data directory, else on the catalog directly (as `hangar kms` does).
 */

function listOutput(targets: readonly NotifyTargetJson[]): Output {
  return {
    json: targets,
    human:
      targets.length === 0
        ? 'No notification targets.'
        : table(
            ['NAME', 'KIND', 'SOURCE', 'URL', 'SUBJECT', 'SIGNED', 'QUEUE ARN'],
            targets.map((t) => [
              t.name,
              t.kind,
              t.source,
              t.url,
              t.subject ?? '-',
              t.signed ? 'yes' : 'no',
              t.arns[0] ?? '-',
            ]),
          ),
  };
}

function offlineList(catalog: Catalog, config: HangarConfig): NotifyTargetJson[] {
  return mergedTargets(config.notify.targets, catalog.notifyTargets.list()).map((target) =>
    notifyTargetJson(target, config.s3.region),
  );
}

/** Runs `offline` on the catalog, or `remote` over the running server's API. */
function onTargets(
  command: Command,
  offline: (catalog: Catalog, config: HangarConfig) => Promise<Output>,
  remote: (api: AdminClient) => Promise<Output>,
): Promise<void> {
  return withCatalog(
    command,
    async (catalog, config) => {
      try {
        return await offline(catalog, config);
      } catch (error) {
        if (error instanceof NotifyTargetError) throw new OperationError(error.message);
        throw error;
      }
    },
    remote,
  );
}

export function registerNotify(program: Command, cli: CliParts): void {
  const notify = program.command('notify').description('S3 event notification targets');
  const target = notify.command('target').description('webhook and NATS targets buckets may name');
  cli
    .leaf(target, 'list', 'list the targets (config file and stored)')
    .action((_opts: unknown, command: Command) =>
      onTargets(
        command,
        async (catalog, config) => listOutput(offlineList(catalog, config)),
        async (api) => listOutput(await api.call<NotifyTargetJson[]>('GET', 'ListNotifyTargets')),
      ),
    );
  cli
    .leaf(target, 'add <name> <url>', 'store a target: http(s)://... or nats://host:port/subject')
    .option('--hmac-secret <secret>', 'webhooks: sign each body (X-Hangar-Signature)')
    .action((name: string, url: string, opts: { hmacSecret?: string }, command: Command) => {
      const input = {
        name,
        url,
        ...(opts.hmacSecret !== undefined ? { hmacSecret: opts.hmacSecret } : {}),
      };
      return onTargets(
        command,
        async (catalog, config) => {
          const names = new Set(config.notify.targets.map((t) => t.name));
          await catalog.notifyTargets.add(targetOfInput(input, Date.now()), names);
          return listOutput(offlineList(catalog, config).filter((t) => t.name === name));
        },
        async (api) =>
          listOutput([await api.call<NotifyTargetJson>('POST', 'CreateNotifyTarget', {}, input)]),
      );
    });
  cli
    .leaf(target, 'remove <name>', 'remove a stored target (its waiting events are given up)')
    .action((name: string, _opts: unknown, command: Command) =>
      onTargets(
        command,
        async (catalog, config) => {
          if (config.notify.targets.some((t) => t.name === name)) {
            throw new OperationError(`target ${name} is defined by the config file`);
          }
          await catalog.notifyTargets.remove(name);
          return { json: { deleted: name }, human: `target ${name} removed` };
        },
        async (api) => {
          await api.call('POST', 'DeleteNotifyTarget', {}, { name });
          return { json: { deleted: name }, human: `target ${name} removed` };
        },
      ),
    );
}
