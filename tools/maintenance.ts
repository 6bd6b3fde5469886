import { Argument, type Command } from 'commander';
import { isBlockHash } from '../engine/blocks/store.js';
import type { HangarConfig } from '../engine/config.js';
import type { WorkerInfo } from '../engine/workers/registry.js';
import type { ScrubCommand } from '../engine/workers/scrub.js';
import { liveAdminFile } from '../http/admin/discovery.js';
import { fields, table } from '../http/admin/text-table.js';
import { type AdminClient, adminClient, UsageError } from './admin-client.js';
import type { Output } from './output.js';

/**
 * `hangar worker`, `hangar block` and `hangar repair`: Garage's CLI for the running server's
 * background workers, block errors and repairs, over the admin API's node-local endpoints. They
 * drive the server's workers, so they need a running server.
 */

/** The pieces of the main CLI these commands are built from (see buildProgram). */
export interface CliParts {
  /** Adds a leaf command that supports --json. */
  leaf(parent: Command, spec: string, description: string): Command;
  /** Loads the configuration, runs `produce`, prints its output and sets the exit code. */
  run(command: Command, produce: (config: HangarConfig) => Promise<Output>): Promise<void>;
}

export function registerMaintenance(program: Command, cli: CliParts): void {
  registerStatus(program, cli);
  registerUploadCleanup(program, cli);
  registerWorker(program, cli);
  registerBlock(program, cli);
  registerRepair(program, cli);
}

/** Runs `work` against the running server's admin API; without a running server, a usage error. */
function onServer(
  cli: CliParts,
  command: Command,
  work: (api: AdminClient) => Promise<Output>,
): Promise<void> {
  return cli.run(command, (config) => {
    const server = liveAdminFile(config.dataDir);
    if (server === null) {
      throw new UsageError(
        `\`hangar ${command.parent?.name() ?? ''} ${command.name()}\` needs a running hangar ` +
          `server on ${config.dataDir}; start it with \`hangar server\``,
      );
    }
    return work(adminClient(command, config, server));
  });
}

function orDash(value: string | number | null): string {
  return value === null ? '-' : String(value);
}

function secsAgo(secs: number): string {
  return `${secs}s ago`;
}

// ---- hangar worker ----

function workerState(state: WorkerInfo['state']): string {
  return typeof state === 'string' ? state : `throttled (${state.throttled.durationSecs}s)`;
}

function workerErrors(worker: WorkerInfo): string {
  return worker.consecutiveErrors > 0
    ? `${worker.errors} (${worker.consecutiveErrors} in a row)`
    : String(worker.errors);
}

function lastError(worker: WorkerInfo): string {
  const last = worker.lastError;
  return last === null ? '-' : `${secsAgo(last.secsAgo)}: ${last.message}`;
}

function workerTable(workers: readonly WorkerInfo[]): Output {
  return {
    json: workers,
    human:
      workers.length === 0
        ? 'No workers.'
        : table(
            ['ID', 'STATE', 'NAME', 'TRANQ', 'PROGRESS', 'ERRORS', 'LAST ERROR'],
            workers.map((w) => [
              String(w.id),
              workerState(w.state),
              w.name,
              orDash(w.tranquility),
              orDash(w.progress),
              workerErrors(w),
              lastError(w),
            ]),
          ),
  };
}

function workerDetails(worker: WorkerInfo): Output {
  const pairs: Array<[string, string]> = [
    ['ID', String(worker.id)],
    ['Name', worker.name],
    ['State', workerState(worker.state)],
    ['Tranquility', orDash(worker.tranquility)],
    ['Progress', orDash(worker.progress)],
    ['Queue length', orDash(worker.queueLength)],
    ['Errors', workerErrors(worker)],
    ['Persistent errors', orDash(worker.persistentErrors)],
    ['Last error', lastError(worker)],
  ];
  const freeform = worker.freeform.length === 0 ? '' : `\n\n${worker.freeform.join('\n')}`;
  return { json: worker, human: `${fields(pairs)}${freeform}` };
}

function workerId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id)) {
    throw new UsageError(`worker id must be a number (see \`hangar worker list\`), not '${text}'`);
  }
  return id;
}

function variableTable(values: Readonly<Record<string, string>>): Output {
  return {
    json: values,
    human: table(['NAME', 'VALUE'], Object.entries(values)),
  };
}

function registerWorker(program: Command, cli: CliParts): void {
  const worker = program
    .command('worker')
    .description(
      "the running server's background workers (scrub, orphan cleanup, lifecycle, replication, inventory)",
    );

  cli
    .leaf(worker, 'list', 'list the workers, their state, progress and errors')
    .option('--busy', 'only the workers that are working')
    .option('--errors', 'only the workers that have failed')
    .action((opts: { busy?: boolean; errors?: boolean }, command: Command) =>
      onServer(cli, command, async (api) => {
        const body = { busyOnly: opts.busy === true, errorOnly: opts.errors === true };
        return workerTable(await api.onNode<WorkerInfo[]>('POST', 'ListWorkers', body));
      }),
    );

  cli
    .leaf(worker, 'info <id>', "show one worker's details and status lines")
    .action((id: string, _opts: unknown, command: Command) =>
      onServer(cli, command, async (api) => {
        const body = { id: workerId(id) };
        return workerDetails(await api.onNode<WorkerInfo>('POST', 'GetWorkerInfo', body));
      }),
    );

  cli
    .leaf(worker, 'get [variable]', 'show worker variables (all of them, or one)')
    .action((variable: string | undefined, _opts: unknown, command: Command) =>
      onServer(cli, command, async (api) => {
        const body = variable === undefined ? {} : { variable };
        const values = await api.onNode<Record<string, string>>('POST', 'GetWorkerVariable', body);
        return variableTable(values);
      }),
    );

  cli
    .leaf(worker, 'set <variable> <value>', 'set a worker variable (e.g. scrub-tranquility)')
    .action((variable: string, value: string, _opts: unknown, command: Command) =>
      onServer(cli, command, async (api) => {
        const set = await api.onNode<{ variable: string; value: string }>(
          'POST',
          'SetWorkerVariable',
          { variable, value },
        );
        return { json: set, human: `${set.variable} = ${set.value}` };
      }),
    );
}

// ---- hangar block ----

/** ListBlockErrors' entries (and GetBlockInfo's shard errors). */
interface BlockError {
  readonly blockHash: string;
  readonly refcount: number;
  readonly errorCount: number;
  readonly lastTrySecsAgo: number;
  readonly nextTryInSecs: number;
  readonly shard: number;
  readonly kind: 'corrupt' | 'missing';
  readonly message: string;
  readonly firstErrorAt: string;
}

/** A reference to a block: an object, or a part of a multipart upload. */
type Backlink =
  | { readonly object: { readonly bucketId: string; readonly key: string } }
  | {
      readonly upload: {
        readonly uploadId: string;
        readonly bucketId: string;
        readonly key: string;
      };
    };

/** GetBlockInfo's answer. */
interface BlockInfo {
  readonly blockHash: string;
  readonly refcount: number;
  readonly bytes: number | null;
  readonly versions: ReadonlyArray<{ readonly backlink: Backlink }>;
  readonly shards: ReadonlyArray<{
    readonly shard: number;
    readonly refcount: number;
    readonly onDisk: boolean;
    readonly error: BlockError | null;
  }>;
}

function blockHash(text: string): string {
  if (!isBlockHash(text)) {
    throw new UsageError(`'${text}' is not a block hash (64 lowercase hex digits)`);
  }
  return text;
}

function blockErrorTable(errors: readonly BlockError[]): Output {
  return {
    json: errors,
    human:
      errors.length === 0
        ? 'No block errors.'
        : table(
            ['HASH', 'SHARD', 'KIND', 'REFS', 'ERRORS', 'LAST TRY', 'MESSAGE'],
            errors.map((e) => [
              e.blockHash,
              String(e.shard),
              e.kind,
              String(e.refcount),
              String(e.errorCount),
              secsAgo(e.lastTrySecsAgo),
              e.message,
            ]),
          ),
  };
}

/** The buckets' names (their first global alias; the id where it has none or is gone). */
async function bucketNames(api: AdminClient, ids: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const names = await Promise.all(
    unique.map((id) =>
      api.call<{ globalAliases: string[] }>('GET', 'GetBucketInfo', { id }).then(
        (info) => info.globalAliases[0] ?? id,
        () => id,
      ),
    ),
  );
  return new Map(unique.map((id, i) => [id, names[i] ?? id]));
}

function referenceLine(link: Backlink, names: ReadonlyMap<string, string>): string {
  if ('object' in link) {
    return `object  ${names.get(link.object.bucketId) ?? link.object.bucketId}/${link.object.key}`;
  }
  const { uploadId, bucketId, key } = link.upload;
  return `upload  ${names.get(bucketId) ?? bucketId}/${key} (upload ${uploadId})`;
}

function shardLine(shard: BlockInfo['shards'][number]): string {
  const file = shard.onDisk ? 'on disk' : 'not on disk';
  const error = shard.error === null ? '' : `, ${shard.error.kind}: ${shard.error.message}`;
  return `${shard.refcount} references, ${file}${error}`;
}

async function blockDetails(api: AdminClient, info: BlockInfo): Promise<Output> {
  const links = info.versions.map((v) => v.backlink);
  const names = await bucketNames(
    api,
    links.map((l) => ('object' in l ? l.object.bucketId : l.upload.bucketId)),
  );
  const pairs: Array<[string, string]> = [
    ['Hash', info.blockHash],
    ['References', String(info.refcount)],
    ['Bytes', orDash(info.bytes)],
    ...info.shards.map((s): [string, string] => [`Shard ${s.shard}`, shardLine(s)]),
  ];
  const lines = links.map((link) => referenceLine(link, names));
  if (links.length < info.refcount) lines.push(`(${info.refcount - links.length} more not listed)`);
  const references = lines.length === 0 ? 'No references.' : lines.join('\n');
  return { json: info, human: `${fields(pairs)}\n\n${references}` };
}

/** RetryBlockResync's body: every block in error (`--all`) or the ones named, not both. */
function retryBody(all: boolean, hashes: readonly string[]): unknown {
  if (all === hashes.length > 0) {
    throw new UsageError('give either --all or the hashes of the blocks to check again');
  }
  return all ? { all: true } : { blockHashes: hashes.map(blockHash) };
}

function purgeConsent(yes: boolean): void {
  if (!yes) {
    throw new UsageError(
      'purging blocks deletes every object and aborts every upload that references them, ' +
        'irreversibly (`hangar block info <hash>` lists them); add --yes to go ahead',
    );
  }
}

function registerBlock(program: Command, cli: CliParts): void {
  const block = program
    .command('block')
    .description('blocks found corrupt or missing, and what to do about them');

  cli
    .leaf(block, 'list-errors', 'list the blocks a scrub or a retry found corrupt or missing')
    .action((_opts: unknown, command: Command) =>
      onServer(cli, command, async (api) =>
        blockErrorTable(await api.onNode<BlockError[]>('GET', 'ListBlockErrors')),
      ),
    );

  cli
    .leaf(block, 'info <hash>', 'show a block, its file and the objects that reference it')
    .action((hash: string, _opts: unknown, command: Command) =>
      onServer(cli, command, async (api) => {
        const body = { blockHash: blockHash(hash) };
        return blockDetails(api, await api.onNode<BlockInfo>('POST', 'GetBlockInfo', body));
      }),
    );

  cli
    .leaf(block, 'retry-now [hashes...]', 'check blocks in error again now (e.g. after a restore)')
    .option('--all', 'every block in error')
    .action((hashes: string[], opts: { all?: boolean }, command: Command) =>
      onServer(cli, command, async (api) => {
        const body = retryBody(opts.all === true, hashes);
        const retried = await api.onNode<{ count: number; fixed: number }>(
          'POST',
          'RetryBlockResync',
          body,
        );
        return {
          json: retried,
          human: `checked ${retried.count} blocks, ${retried.fixed} whole again`,
        };
      }),
    );

  cli
    .leaf(block, 'purge <hashes...>', 'delete every object and upload that references the blocks')
    .option('--yes', 'yes, delete them (irreversible)')
    .action((hashes: string[], opts: { yes?: boolean }, command: Command) =>
      onServer(cli, command, async (api) => {
        purgeConsent(opts.yes === true);
        const purged = await api.onNode<Record<string, number>>(
          'POST',
          'PurgeBlocks',
          hashes.map(blockHash),
        );
        return {
          json: purged,
          human: fields([
            ['Blocks purged', String(purged['blocksPurged'])],
            ['Objects deleted', String(purged['objectsDeleted'])],
            ['Uploads aborted', String(purged['uploadsDeleted'])],
          ]),
        };
      }),
    );
}

// ---- hangar repair ----

const SCRUB_COMMANDS: readonly ScrubCommand[] = ['start', 'pause', 'resume', 'cancel'];

/** Launches a repair and says where to follow it. */
async function launchRepair(api: AdminClient, repairType: unknown, what: string): Promise<Output> {
  const answer = await api.onNode<unknown>('POST', 'LaunchRepairOperation', { repairType });
  return { json: answer, human: `${what} (\`hangar worker list\` shows its progress)` };
}

function registerRepair(program: Command, cli: CliParts): void {
  const repair = program.command('repair').description('start repairs on the running server');

  cli
    .leaf(repair, 'scrub', 'verify every block against its hash: start, pause, resume or cancel')
    .addArgument(new Argument('<command>').choices(SCRUB_COMMANDS))
    .action((scrub: ScrubCommand, _opts: unknown, command: Command) =>
      onServer(cli, command, (api) => launchRepair(api, { scrub }, `scrub: ${scrub} requested`)),
    );

  cli
    .leaf(repair, 'blocks', 'remove block files and temp files nothing references')
    .action((_opts: unknown, command: Command) =>
      onServer(cli, command, (api) => launchRepair(api, 'blocks', 'orphan block cleanup started')),
    );

  cli
    .leaf(repair, 'lifecycle', "apply every bucket's lifecycle rules now")
    .action((_opts: unknown, command: Command) =>
      onServer(cli, command, (api) => launchRepair(api, 'lifecycle', 'lifecycle pass started')),
    );

  cli
    .leaf(repair, 'inventory', "write every enabled inventory configuration's report now")
    .action((_opts: unknown, command: Command) =>
      onServer(cli, command, (api) => launchRepair(api, 'inventory', 'inventory reports started')),
    );

  cli
    .leaf(repair, 'replication', 'queue again what replication destinations lack (or FAILED)')
    .action((_opts: unknown, command: Command) =>
      onServer(cli, command, (api) =>
        launchRepair(api, 'replication', 'replication repair pass started'),
      ),
    );
}

// ---- hangar status, hangar stats ----

interface ClusterStatus {
  readonly node: string;
  readonly version: string;
  readonly shards: number;
  readonly dataDir: string;
  readonly uptimeSecs: number;
  readonly nodes: ReadonlyArray<{ readonly hostname: string; readonly addr: string }>;
}

interface ClusterHealth {
  readonly status: string;
  readonly partitions: number;
  readonly partitionsAllOk: number;
}

function registerStatus(program: Command, cli: CliParts): void {
  cli
    .leaf(program, 'status', "the running server's node, version, shards and health")
    .action((_opts: unknown, command: Command) =>
      onServer(cli, command, async (api) => {
        const [status, health] = await Promise.all([
          api.call<ClusterStatus>('GET', 'GetClusterStatus'),
          api.call<ClusterHealth>('GET', 'GetClusterHealth'),
        ]);
        const node = status.nodes[0];
        return {
          json: { status, health },
          human: fields([
            ['Node', status.node],
            ['Host', node === undefined ? '-' : `${node.hostname} (S3 at ${node.addr})`],
            ['Version', status.version],
            ['Data directory', status.dataDir],
            ['Uptime', `${status.uptimeSecs}s`],
            ['Health', health.status],
            ['Shards answering', `${health.partitionsAllOk}/${health.partitions}`],
          ]),
        };
      }),
    );

  cli
    .leaf(program, 'stats', "the running server's storage statistics (per shard, per node)")
    .action((_opts: unknown, command: Command) =>
      onServer(cli, command, async (api) => {
        const [node, cluster] = await Promise.all([
          api.onNode<{ freeform: string }>('GET', 'GetNodeStatistics'),
          api.call<{ freeform: string }>('GET', 'GetClusterStatistics'),
        ]);
        return {
          json: { node: node.freeform, cluster: cluster.freeform },
          human: `${node.freeform}\n${cluster.freeform}`.trimEnd(),
        };
      }),
    );
}

// ---- hangar bucket cleanup-uploads ----

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "30m", "12h", "7d" or plain seconds → seconds. */
function durationSecs(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (match === null) {
    throw new UsageError(
      `--older-than takes a duration like 3600, 90s, 30m, 12h or 7d, not '${text}'`,
    );
  }
  return Number(match[1]) * (DURATION_UNITS[match[2] || 's'] ?? 1);
}

function registerUploadCleanup(program: Command, cli: CliParts): void {
  const bucket = program.commands.find((command) => command.name() === 'bucket');
  if (bucket === undefined) throw new Error('the bucket command group is registered first');
  cli
    .leaf(bucket, 'cleanup-uploads <name>', 'abort the multipart uploads older than a duration')
    .requiredOption('--older-than <duration>', 'e.g. 1d, 12h, 30m, 90s (0 aborts them all)')
    .action((name: string, opts: { olderThan: string }, command: Command) =>
      onServer(cli, command, async (api) => {
        const olderThanSecs = durationSecs(opts.olderThan);
        const info = await api.call<{ id: string }>('GET', 'GetBucketInfo', { globalAlias: name });
        const result = await api.call<{ uploadsDeleted: number }>(
          'POST',
          'CleanupIncompleteUploads',
          {},
          { bucketId: info.id, olderThanSecs },
        );
        return {
          json: result,
          human: `${result.uploadsDeleted} multipart uploads older than ${olderThanSecs}s aborted in ${name}`,
        };
      }),
    );
}
