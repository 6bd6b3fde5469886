import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterConfig as TopologyConfig } from '../cluster/local-cluster.js';

/**
 * Cluster mode for test servers (issue 19): `hangar cluster init` of a fresh, uniquely named
 * cluster on a running local topology (tools/cluster/local-cluster.sh), and the `[cluster]`
 * section a gateway of it starts with. Kept apart from test/helpers/server.ts, which imports it
 * for "one suite, two backends" (HANGAR_TEST_BACKEND=cluster), and from test/helpers/cluster.ts,
 * which runs several gateways.
 */

const HANGAR = fileURLToPath(new URL('../../tools/hangar.js', import.meta.url));
/** A `cluster` command loads the gRPC client (~1 s) and makes a few etcd calls. */
const CLI_TIMEOUT_MS = 60_000;

/** What test servers run on: embedded (the default) or gateways of a cluster. */
export function testBackend(): 'embedded' | 'cluster' {
  const backend = process.env['HANGAR_TEST_BACKEND'] ?? 'embedded';
  if (backend !== 'embedded' && backend !== 'cluster') {
    throw new Error(`HANGAR_TEST_BACKEND must be embedded or cluster, not '${backend}'`);
  }
  return backend;
}

/** A topology's directory and the cluster.json its start wrote. */
export interface Topology {
  readonly dir: string;
  readonly config: TopologyConfig;
}

/** The topology HANGAR_TEST_CLUSTER_DIR names (a setup step started it). */
export function topologyFromEnv(): Topology {
  const dir = process.env['HANGAR_TEST_CLUSTER_DIR'];
  if (dir === undefined || dir === '') {
    throw new Error(
      'HANGAR_TEST_BACKEND=cluster needs HANGAR_TEST_CLUSTER_DIR, the directory of a running local topology (tools/cluster/with-topology.sh starts one)',
    );
  }
  const config = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as TopologyConfig;
  return { dir, config };
}

/**
 * A cluster name no other test cluster on the topology has: its PostgreSQL schemas are
 * `<name>_<i>` and its etcd keys live under /hangar/<name>/, so clusters never share state.
 * Letters and digits only, so that the schema names need no quoting.
 */
export function uniqueClusterName(): string {
  return `t${Date.now().toString(36)}${process.pid.toString(36)}${randomBytes(4).toString('hex')}`;
}

export interface InitializedCluster {
  readonly name: string;
  readonly clusterId: string;
}

/**
 * `hangar cluster init` of a new cluster on the topology, through the CLI as an operator runs it:
 * one metadata shard (the topology's Patroni cluster), the topology's Ceph pool.
 */
export async function initCluster(topology: Topology, name: string): Promise<InitializedCluster> {
  const { postgres, etcd, ceph } = topology.config;
  const targets = postgres.hosts.map((h) => `${h.host}:${h.port}`).join(',');
  const args = [
    HANGAR,
    'cluster',
    'init',
    '--name',
    name,
    '--etcd',
    etcd.endpoints.join(','),
    '--shard',
    `${postgres.database}@${targets}`,
    '--ceph-conf',
    ceph.conf,
    '--pool',
    ceph.pool,
    '--json',
  ];
  const layout = JSON.parse(await clusterCli(args)) as { name: string; clusterId: string };
  if (layout.name !== name) throw new Error(`cluster init made '${layout.name}', not '${name}'`);
  return { name, clusterId: layout.clusterId };
}

/** The live gateways `hangar cluster status --json` lists for the cluster (their member names). */
export async function liveGatewayNames(topology: Topology, name: string): Promise<string[]> {
  const status = JSON.parse(
    await clusterCli([
      HANGAR,
      'cluster',
      'status',
      '--name',
      name,
      '--etcd',
      topology.config.etcd.endpoints.join(','),
      '--json',
    ]),
  ) as { members: { name: string }[] };
  return status.members.map((member) => member.name).sort();
}

/** Runs the hangar CLI (`args` after node) and returns its stdout; rejects with its output. */
function clusterCli(args: readonly string[]): Promise<string> {
  // A directory of its own: the CLI reads ./hangar.toml when there is one.
  const cwd = mkdtempSync(join(tmpdir(), 'hangar-cluster-cli-'));
  return new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd, env: { PATH: process.env['PATH'] ?? '' }, timeout: CLI_TIMEOUT_MS },
      (error, out, err) => {
        rmSync(cwd, { recursive: true, force: true });
        if (error === null) resolve(out);
        else
          reject(
            new Error(
              `hangar ${args.slice(1, 3).join(' ')} failed: ${String(error)}\n${out}${err}`,
            ),
          );
      },
    );
  });
}

/** The password of the topology's `hangar` role, from DIR/credentials. */
export function hangarPgPassword(topologyDir: string): string {
  const text = readFileSync(join(topologyDir, 'credentials'), 'utf8');
  const match = /^PG_HANGAR_PASSWORD=(\S+)$/m.exec(text);
  if (match?.[1] === undefined)
    throw new Error(`${topologyDir}/credentials has no PG_HANGAR_PASSWORD`);
  return match[1];
}

export interface GatewayConfigOptions {
  readonly topology: Topology;
  readonly clusterName: string;
  readonly gatewayName: string;
  /** The etcd members this gateway talks to (default: every member of the topology). */
  readonly etcdEndpoints?: readonly string[];
  /** Where the config file and the password file go (the gateway's own directory). */
  readonly dir: string;
}

const tomlString = (value: string): string => JSON.stringify(value);

/** The gateway's config file, in its own directory. */
export const GATEWAY_CONFIG_FILE = 'hangar-cluster.toml';

/** Writes DIR/hangar-cluster.toml (a `[cluster]` section) and returns its path. */
export function writeGatewayConfig(options: GatewayConfigOptions): string {
  const endpoints = options.etcdEndpoints ?? options.topology.config.etcd.endpoints;
  const passwordFile = join(options.dir, 'pg-password');
  writeFileSync(passwordFile, `${hangarPgPassword(options.topology.dir)}\n`, { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
  const lines = [
    '[cluster]',
    `name = ${tomlString(options.clusterName)}`,
    `etcd_endpoints = [${endpoints.map(tomlString).join(', ')}]`,
    `gateway_name = ${tomlString(options.gatewayName)}`,
    'pg_user = "hangar"',
    `pg_password_file = ${tomlString(passwordFile)}`,
  ];
  const file = join(options.dir, GATEWAY_CONFIG_FILE);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** A 32-byte SSE master key as 64 hex digits: every gateway of a cluster gets the same one. */
export function newSseMasterKey(): string {
  return randomBytes(32).toString('hex');
}

/** Where a test server's data directory records the cluster it is the gateway of. */
export const TEST_CLUSTER_FILE = 'test-cluster.json';

/**
 * What a test gateway's environment shortens (they are tunables of engine/limits.ts): the block
 * GC's grace and its leader's pass interval, from 10 minutes each to seconds, so that the blocks
 * a test frees are gone while the test still looks, as an embedded server unlinks them at once.
 * The grace still outlasts any one PUT of the suites (a claim older than it at commit is a 503).
 */
export const TEST_GATEWAY_ENV: Readonly<Record<string, string>> = {
  HANGAR_CLUSTER_BLOCK_GC_GRACE_MS: '5000',
  HANGAR_CLUSTER_ORPHAN_GC_INTERVAL_MS: '1000',
};

/**
 * For TestServer.start under HANGAR_TEST_BACKEND=cluster: the arguments that make the server the
 * one gateway of a fresh cluster on the topology of HANGAR_TEST_CLUSTER_DIR. One cluster per
 * data directory, so test servers share nothing but the engines; a server restarted on the same
 * data directory rejoins its cluster (the config file stays there). The SSE master key is the
 * server's own file in its data directory, as embedded.
 */
export async function clusterBackendArgs(
  dataDir: string,
  args: readonly string[],
): Promise<string[]> {
  if (args.includes('--config')) {
    throw new Error(
      'this test server has a config file of its own: its test is embedded-only (see EMBEDDED_ONLY in ava.cluster-s3.config.js)',
    );
  }
  const existing = join(dataDir, GATEWAY_CONFIG_FILE);
  if (existsSync(existing)) return ['--config', existing];
  const topology = topologyFromEnv();
  const cluster = await initCluster(topology, uniqueClusterName());
  writeFileSync(join(dataDir, TEST_CLUSTER_FILE), JSON.stringify(cluster));
  return [
    '--config',
    writeGatewayConfig({ topology, clusterName: cluster.name, gatewayName: 'gw1', dir: dataDir }),
  ];
}
