import type { Command } from 'commander';
import type { HangarConfig } from '../engine/config.js';
import { LIMITS } from '../engine/limits.js';
import { Keyring, KmsError, type KmsKeyView } from '../engine/sse/keyring.js';
import { type KmsKeyJson, kmsKeyJson } from '../http/admin/handlers/kms.js';
import { fields, table } from '../http/admin/text-table.js';
import { type AdminClient, OperationError, UsageError } from './admin-client.js';
import { withCatalog } from './cli.js';
import type { CliParts } from './maintenance.js';
import type { Output } from './output.js';

/**
 * `hangar kms` (the built-in SSE-KMS keyring) and `hangar sse rotate-master-key`: through the
 * running server's admin API when one runs on the data directory, else on the catalog directly
 * (as `hangar key` does), so keys can be prepared before the first start.
 */

function jsonOf(config: HangarConfig, key: KmsKeyView): KmsKeyJson {
  return kmsKeyJson(config.s3.region, key);
}

function keyOutput(key: KmsKeyJson): Output {
  return {
    json: key,
    human: fields([
      ['Key ID', key.id],
      ['ARN', key.arn],
      ['Alias', key.alias ?? '-'],
      ['Description', key.description || '-'],
      ['Created', key.created],
      ['Enabled', key.enabled ? 'yes' : 'no'],
      ['State', key.state],
      ['Deletion date', key.deletionDate ?? '-'],
      ['Origin', key.origin],
      ['Versions', String(key.versions)],
    ]),
  };
}

function listOutput(keys: readonly KmsKeyJson[]): Output {
  return {
    json: keys,
    human:
      keys.length === 0
        ? 'No KMS keys.'
        : table(
            ['KEY ID', 'ALIAS', 'STATE', 'VERSIONS', 'CREATED', 'DESCRIPTION'],
            keys.map((k) => [
              k.id,
              k.alias ?? '-',
              k.state,
              String(k.versions),
              k.created,
              k.description || '-',
            ]),
          ),
  };
}

/** Runs `offline` on a keyring over the catalog, or `remote` over the running server's API. */
function onKeyring(
  command: Command,
  offline: (keyring: Keyring, config: HangarConfig) => Promise<Output> | Output,
  remote: (api: AdminClient) => Promise<Output>,
): Promise<void> {
  return withCatalog(
    command,
    async (catalog, config) => {
      try {
        const keyring = new Keyring(catalog.kmsTables(), config.dataDir, config.sse.masterKeyFile);
        return await offline(keyring, config);
      } catch (error) {
        if (error instanceof KmsError) throw new OperationError(error.message);
        throw error;
      }
    },
    remote,
  );
}

/** --days of `hangar kms schedule-deletion`: AWS KMS's waiting period (7 to 30 days). */
function windowDaysOf(text: string | undefined): number {
  if (text === undefined) return LIMITS.kmsDeletionWindowDaysMax;
  const days = Number(text);
  if (
    !Number.isInteger(days) ||
    days < LIMITS.kmsDeletionWindowDaysMin ||
    days > LIMITS.kmsDeletionWindowDaysMax
  ) {
    throw new UsageError(
      `--days must be a whole number from ${LIMITS.kmsDeletionWindowDaysMin} to ${LIMITS.kmsDeletionWindowDaysMax}`,
    );
  }
  return days;
}

function requireView(keyring: Keyring, ref: string): KmsKeyView {
  const key = keyring.view(ref);
  if (key === undefined) throw new OperationError(`no KMS key ${ref}`);
  return key;
}

export function registerKms(program: Command, cli: CliParts): void {
  const kms = program.command('kms').description('manage the built-in SSE-KMS keyring');
  cli.leaf(kms, 'list', 'list KMS keys').action((_opts: unknown, command: Command) =>
    onKeyring(
      command,
      async (keyring, config) => {
        await keyring.purgeDeleted();
        return listOutput(keyring.list().map((k) => jsonOf(config, k)));
      },
      async (api) => listOutput(await api.call<KmsKeyJson[]>('GET', 'ListKmsKeys')),
    ),
  );
  cli
    .leaf(kms, 'info <id>', 'show a KMS key (id, ARN or alias/<name>)')
    .action((ref: string, _opts: unknown, command: Command) =>
      onKeyring(
        command,
        (keyring, config) => keyOutput(jsonOf(config, requireView(keyring, ref))),
        async (api) => keyOutput(await api.call<KmsKeyJson>('GET', 'GetKmsKeyInfo', { id: ref })),
      ),
    );
  cli
    .leaf(kms, 'create', 'create a KMS key with fresh material')
    .option('--description <text>', 'what the key is for')
    .option('--alias <alias/name>', 'an alias to name it by')
    .action((opts: { description?: string; alias?: string }, command: Command) =>
      onKeyring(
        command,
        async (keyring, config) => {
          await keyring.purgeDeleted();
          const alias = opts.alias?.replace(/^alias\//, '');
          return keyOutput(jsonOf(config, await keyring.createKey(opts.description ?? '', alias)));
        },
        async (api) =>
          keyOutput(
            await api.call<KmsKeyJson>(
              'POST',
              'CreateKmsKey',
              {},
              {
                ...(opts.description !== undefined ? { description: opts.description } : {}),
                ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
              },
            ),
          ),
      ),
    );
  const change = (
    spec: string,
    description: string,
    operation: string,
    offline: (keyring: Keyring, ref: string) => Promise<KmsKeyView>,
  ): void => {
    cli.leaf(kms, spec, description).action((ref: string, _opts: unknown, command: Command) =>
      onKeyring(
        command,
        async (keyring, config) => keyOutput(jsonOf(config, await offline(keyring, ref))),
        async (api) => keyOutput(await api.call<KmsKeyJson>('POST', operation, {}, { id: ref })),
      ),
    );
  };
  change('rotate <id>', 'add new key material (old objects keep theirs)', 'RotateKmsKey', (k, r) =>
    k.rotateKey(r),
  );
  change('enable <id>', 'enable a key: its objects are readable again', 'EnableKmsKey', (k, r) =>
    k.setEnabled(r, true),
  );
  change('disable <id>', 'disable a key: its objects become unreadable', 'DisableKmsKey', (k, r) =>
    k.setEnabled(r, false),
  );
  cli
    .leaf(kms, 'schedule-deletion <id>', 'delete a key after a waiting period (its objects too)')
    .option('--days <n>', 'waiting period in days, 7 to 30 (default 30)')
    .action((ref: string, opts: { days?: string }, command: Command) =>
      onKeyring(
        command,
        async (keyring, config) =>
          keyOutput(jsonOf(config, await keyring.scheduleDeletion(ref, windowDaysOf(opts.days)))),
        async (api) =>
          keyOutput(
            await api.call<KmsKeyJson>(
              'POST',
              'ScheduleKmsKeyDeletion',
              {},
              { id: ref, pendingWindowDays: windowDaysOf(opts.days) },
            ),
          ),
      ),
    );
  change(
    'cancel-deletion <id>',
    'keep a key pending deletion (it stays disabled)',
    'CancelKmsKeyDeletion',
    (k, r) => k.cancelDeletion(r),
  );

  const sse = program.command('sse').description('SSE-S3 / SSE-KMS master key');
  const rotated = (r: { previousId: string; currentId: string; rewrapped: number }): Output => ({
    json: r,
    human: `master key ${r.previousId} replaced by ${r.currentId}; ${r.rewrapped} key version(s) re-wrapped`,
  });
  cli
    .leaf(sse, 'rotate-master-key', 'replace the master key and re-wrap every keyring key under it')
    .action((_opts: unknown, command: Command) =>
      onKeyring(
        command,
        async (keyring) => rotated(await keyring.rotateMaster()),
        async (api) =>
          rotated(
            await api.call<{ previousId: string; currentId: string; rewrapped: number }>(
              'POST',
              'RotateSseMasterKey',
            ),
          ),
      ),
    );
}
