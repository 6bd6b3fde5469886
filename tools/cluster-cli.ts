import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Etcd3 } from 'etcd3';
import {
  type ClusterConfig,
  DEFAULT_PG_USER,
  parseClusterSection,
  type ShardSpec,
  shardSpecOfFlag,
} from '../engine/cluster/config.js';
import {
  type ClusterLayout,
  ClusterLayoutError,
  ClusterStateError,
  LayoutStore,
} from '../engine/cluster/layout.js';
import {
  ClusterMemberError,
  defaultMemberName,
  listMembers,
  Membership,
} from '../engine/cluster/membership.js';
import { type ClusterStatus, clusterStatus } from '../engine/cluster/status.js';
import {
  absolutePath,
  ClusterValueError,
  clusterName,
  etcdEndpoint,
  httpUrl,
  memberName,
  poolName,
} from '../engine/cluster/validate.js';
import { type HangarConfig, readToml } from '../engine/config.js';
import { fields, table } from '../http/admin/text-table.js';
import { OperationError, UsageError } from './admin-client.js';
import type { CliParts } from './maintenance.js';
import type { Output } from './output.js';

/**
 * `hangar cluster init|join|status`: the etcd side of cluster mode (engine/cluster/). The
 * cluster is named by `--cluster FILE` (a TOML file's `[cluster]` section), else by the
 * configuration's `[cluster]`; `--name` and `--etcd` override either.
 */

interface ClusterFlags {
  cluster?: string;
  name?: string;
  etcd?: string;
}

/** The `[cluster]` section this command works with, flags applied. */
function clusterConfigOf(config: HangarConfig, flags: ClusterFlags): ClusterConfig {
  let base: ClusterConfig | null = config.cluster;
  if (flags.cluster !== undefined) {
    const file = resolve(flags.cluster);
    const raw = readToml(file)['cluster'];
    if (raw === undefined) throw new UsageError(`${file} has no [cluster] section`);
    base = parseClusterSection(raw, dirname(file));
  }
  const name = flags.name ?? base?.name;
  const etcd = flags.etcd?.split(',') ?? base?.etcdEndpoints;
  if (name === undefined || etcd === undefined) {
    throw new UsageError(
      'no cluster: give --cluster FILE, a [cluster] section, or --name and --etcd',
    );
  }
  return {
    gatewayName: null,
    s3Endpoint: null,
    metadataShards: [],
    cephConf: null,
    blockPool: null,
    pgUser: DEFAULT_PG_USER,
    pgPasswordFile: null,
    ...base,
    name: clusterName(name, '--name'),
    etcdEndpoints: etcd.map((e, i) => etcdEndpoint(e.trim(), `--etcd[${i}]`)),
  };
}

/** Runs `body` with an etcd client, mapping cluster errors to the CLI's exit codes. */
async function withEtcd<T>(
  cluster: ClusterConfig,
  body: (client: Etcd3) => Promise<T>,
): Promise<T> {
  // Loaded here, not at the top: the gRPC client costs most of a second to load, and every
  // other hangar command would pay it.
  const { connectEtcd, etcdFailure } = await import('../engine/cluster/etcd.js');
  const client = connectEtcd(cluster.etcdEndpoints);
  try {
    return await body(client);
  } catch (error) {
    if (error instanceof ClusterValueError) throw new UsageError(error.message);
    if (
      error instanceof ClusterStateError ||
      error instanceof ClusterLayoutError ||
      error instanceof ClusterMemberError
    ) {
      throw new OperationError(error.message);
    }
    const failure = etcdFailure(error);
    if (failure !== null) {
      throw new OperationError(`etcd at ${cluster.etcdEndpoints.join(', ')}: ${failure}`);
    }
    throw error;
  } finally {
    client.close();
  }
}

/** Runs a cluster command: parses its flags, connects to etcd, then `produce`. */
function runCluster(
  cli: CliParts,
  command: Command,
  produce: (client: Etcd3, cluster: ClusterConfig, config: HangarConfig) => Promise<Output>,
): Promise<void> {
  return cli.run(command, async (config) => {
    let cluster: ClusterConfig;
    try {
      cluster = clusterConfigOf(config, command.opts<ClusterFlags>());
    } catch (error) {
      if (error instanceof ClusterValueError) throw new UsageError(error.message);
      throw error;
    }
    return withEtcd(cluster, (client) => produce(client, cluster, config));
  });
}

// ---- output ----

function layoutLines(layout: ClusterLayout): Array<[string, string]> {
  return [
    ['cluster', layout.name],
    ['cluster id', layout.clusterId],
    ['layout version', String(layout.layoutVersion)],
    ['created', new Date(layout.createdMs).toISOString()],
    ['block pool', `${layout.blockPool.pool} (${layout.blockPool.cephConf})`],
    ...layout.metadataShards.map((s): [string, string] => [
      `shard ${s.id}`,
      `${s.database} @ ${s.targets.join(', ')}`,
    ]),
  ];
}

function statusOutput(status: ClusterStatus): Output {
  const members =
    status.members.length === 0
      ? 'No live gateways.'
      : table(
          ['GATEWAY', 'S3 ENDPOINT', 'HOST', 'PID', 'REGISTERED'],
          status.members.map((m) => [
            m.name,
            m.s3Endpoint,
            m.hostname,
            String(m.pid),
            new Date(m.registeredMs).toISOString(),
          ]),
        );
  const shards = table(
    ['SHARD', 'DATABASE', 'POSTGRESQL TARGETS', 'BUCKETS'],
    status.metadataShards.map((s) => [
      String(s.id),
      s.database,
      s.targets.join(','),
      String(s.buckets),
    ]),
  );
  const leaders = Object.entries(status.leaders);
  const elections =
    leaders.length === 0
      ? 'No elections.'
      : table(
          ['ELECTION', 'LEADER'],
          leaders.map(([name, leader]) => [name, leader]),
        );
  const summary = fields([
    ['cluster', status.cluster],
    ['cluster id', status.clusterId],
    ['layout version', String(status.layoutVersion)],
    ['created', status.created],
    ['catalog version', String(status.catalogVersion)],
    ['block pool', `${status.blockPool.pool} (${status.blockPool.cephConf})`],
  ]);
  return { json: status, human: [summary, members, shards, elections].join('\n\n') };
}

// ---- commands ----

interface InitFlags {
  shard?: string[];
  cephConf?: string;
  pool?: string;
}

async function init(
  client: Etcd3,
  cluster: ClusterConfig,
  flags: InitFlags,
  partitions: number | null,
): Promise<Output> {
  const shards: ShardSpec[] =
    flags.shard !== undefined ? flags.shard.map(shardSpecOfFlag) : [...cluster.metadataShards];
  if (shards.length === 0) {
    throw new UsageError(
      'init needs metadata shards: --shard database@host:port,... or [[cluster.metadata_shards]]',
    );
  }
  const cephConf = flags.cephConf ?? cluster.cephConf;
  const pool = flags.pool ?? cluster.blockPool;
  if (cephConf === null || pool === null) {
    throw new UsageError(
      'init needs the block pool: --ceph-conf and --pool, or ceph_conf and block_pool',
    );
  }
  const layout = await new LayoutStore(client, cluster.name).init({
    metadataShards: shards,
    cephConf: absolutePath(resolve(cephConf), '--ceph-conf'),
    pool: poolName(pool, '--pool'),
    // The configuration's shard count, when it sets one, is the count every gateway must run;
    // with shards = 'auto' the first gateway to boot sets it.
    ...(partitions === null ? {} : { partitions }),
  });
  return {
    json: layout,
    human: `Cluster '${layout.name}' created.\n${fields(layoutLines(layout))}`,
  };
}

interface JoinFlags {
  gatewayName?: string;
  s3Endpoint?: string;
  hold?: boolean;
}

async function join(
  client: Etcd3,
  cluster: ClusterConfig,
  config: HangarConfig,
  flags: JoinFlags,
): Promise<Output> {
  const layout = await new LayoutStore(client, cluster.name).require();
  const name = memberName(
    flags.gatewayName ?? cluster.gatewayName ?? defaultMemberName(),
    '--gateway-name',
  );
  const s3Endpoint = httpUrl(
    flags.s3Endpoint ?? cluster.s3Endpoint ?? `http://${config.s3.host}:${config.s3.port}`,
    '--s3-endpoint',
  );
  const live = (await listMembers(client, cluster.name)).find((m) => m.name === name);
  if (live !== undefined) {
    throw new OperationError(
      `gateway '${name}' is already live (pid ${live.pid} on ${live.hostname}, ${live.s3Endpoint})`,
    );
  }
  const membership = new Membership(client, cluster.name, { name, s3Endpoint });
  await membership.start();
  const output: Output = {
    json: { member: { name, s3Endpoint }, layout },
    human:
      `Gateway '${name}' (${s3Endpoint}) registered; it stays listed while a process holds its lease (--hold).\n` +
      fields(layoutLines(layout)),
  };
  if (flags.hold === true) {
    // Stays registered (the lease kept alive) until told to stop: a sidecar, or a test.
    process.stdout.write(`${JSON.stringify(output.json)}\n`);
    await new Promise<void>((done) => {
      process.once('SIGTERM', done);
      process.once('SIGINT', done);
    });
  }
  await membership.stop();
  return output;
}

export function registerCluster(program: Command, cli: CliParts): void {
  const cluster = program
    .command('cluster')
    .description('cluster mode: layout, gateways, elections (etcd)');
  const withClusterFlags = (command: Command): Command =>
    command
      .option('--cluster <file>', 'TOML file whose [cluster] section names the cluster')
      .option('--name <name>', 'cluster name (keys under /hangar/<name>/ in etcd)')
      .option('--etcd <endpoints>', 'etcd endpoints, comma-separated host:port');

  withClusterFlags(
    cli.leaf(cluster, 'init', 'create the cluster layout in etcd (refuses if one exists)'),
  )
    .option('--shard <spec...>', 'a metadata shard: database@host:port,host:port (Patroni members)')
    .option('--ceph-conf <file>', 'ceph.conf of the block pool')
    .option('--pool <name>', 'RADOS pool of the blocks')
    .action((_opts: unknown, command: Command) =>
      runCluster(cli, command, (client, c, config) =>
        init(client, c, command.opts<InitFlags>(), config.shards),
      ),
    );

  withClusterFlags(cli.leaf(cluster, 'join', 'register this gateway and print the layout'))
    .option(
      '--gateway-name <name>',
      'this gateway (default: [cluster] gateway_name, else the host name)',
    )
    .option('--s3-endpoint <url>', 'the S3 URL this gateway advertises')
    .option('--hold', 'stay registered until SIGTERM/SIGINT (prints the JSON line once joined)')
    .action((_opts: unknown, command: Command) =>
      runCluster(cli, command, (client, c, config) =>
        join(client, c, config, command.opts<JoinFlags>()),
      ),
    );

  withClusterFlags(
    cli.leaf(cluster, 'status', 'live gateways, metadata shards, block pool, leaders'),
  ).action((_opts: unknown, command: Command) =>
    runCluster(cli, command, async (client, c) =>
      statusOutput(await clusterStatus(client, c.name)),
    ),
  );
}
