import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { TestFn } from 'ava';
import { LocalCluster, NODE_NUMBERS, type NodeNumber } from '../cluster/local-cluster.js';
import {
  type InitializedCluster,
  initCluster,
  newSseMasterKey,
  uniqueClusterName,
  writeGatewayConfig,
} from './cluster-backend.js';
import { type ServerOptions, TestServer } from './server.js';

/**
 * A hangar cluster of N gateways (`hangar server` processes with a `[cluster]` section) on the
 * one-machine topology (test/cluster/local-cluster.ts), for the tests that drive cluster mode
 * through real S3 clients. Gateway i (1-based) stands for node i's gateway: the tests that kill a
 * node kill its gateway too. Every gateway has its own data directory and port, and the same
 * root credentials (TestServer's), admin token and SSE master key; the cluster has a name of its
 * own, so several clusters share one topology.
 */

/** A gateway on this machine accepts at once, or is dead. */
const CONNECT_TIMEOUT_MS = 3_000;
/** One S3 request at most: a PUT that waits out a PostgreSQL failover (~15 s) gets through. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface GatewayClusterOptions {
  /** Gateways to start (default 3). */
  readonly gateways?: number;
  /** Partitions (shard workers) per gateway; every gateway of a cluster has the same number. */
  readonly shards?: number;
  /**
   * The etcd members gateway i talks to (default: all three). A gateway that lists only its own
   * node's member is cut off from etcd when that member is (the split-brain test).
   */
  readonly etcdEndpointsOf?: (gateway: number) => readonly string[];
  /** More environment for every gateway (e.g. HANGAR_CLUSTER_LEASE_TTL_S). */
  readonly env?: Record<string, string>;
  /** Log lines the test provokes on purpose (see ServerOptions.expectedLogErrors). */
  readonly expectedLogErrors?: RegExp[];
}

/** One gateway: its fixed directory, config and port survive its kills and restarts. */
export class Gateway {
  private current: TestServer;
  /** How many times a kill ended this gateway (restarts count from 0). */
  kills = 0;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly dir: string,
    private readonly options: ServerOptions,
    server: TestServer,
  ) {
    this.current = server;
  }

  get server(): TestServer {
    return this.current;
  }

  get endpoint(): string {
    return this.current.endpoint;
  }

  /**
   * A root-key SDK client of this gateway: path style, no SDK retries (the tests retry across
   * gateways themselves), and bounded waits, so a request to a gateway stalled by a failover
   * fails and is retried instead of hanging the test. Its port survives restarts, so it does too.
   */
  client(extra: Partial<S3ClientConfig> = {}): S3Client {
    return this.current.client(undefined, {
      requestHandler: new NodeHttpHandler({
        connectionTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
      }),
      ...extra,
    });
  }

  /** SIGKILL, as a crashed process; the log check still runs (a kill is no excuse for an assert). */
  async kill(): Promise<void> {
    this.kills += 1;
    await this.current.kill();
  }

  /** Starts it again on the same port and data directory (the port is free once it died). */
  async restart(): Promise<void> {
    this.current = await TestServer.start({ ...this.options, port: this.current.port });
  }

  get running(): boolean {
    const { exitCode, signalCode } = this.current.process;
    return exitCode === null && signalCode === null;
  }
}

export class GatewayCluster {
  private constructor(
    readonly topology: LocalCluster,
    readonly cluster: InitializedCluster,
    readonly gateways: readonly Gateway[],
    private readonly root: string,
  ) {}

  /**
   * `hangar cluster init` of a new cluster on `topology`, then its gateways, started one after
   * the other (the first one creates the partitions' schemas; the others find them).
   */
  static async start(
    topology: LocalCluster,
    options: GatewayClusterOptions = {},
  ): Promise<GatewayCluster> {
    const count = options.gateways ?? 3;
    const cluster = await initCluster(topology, uniqueClusterName());
    const root = mkdtempSync(join(tmpdir(), `hangar-${cluster.name}-`));
    const sseMasterKey = newSseMasterKey();
    const gateways: Gateway[] = [];
    try {
      for (let index = 1; index <= count; index++) {
        gateways.push(await startGateway(topology, cluster, root, index, sseMasterKey, options));
      }
    } catch (error) {
      for (const gateway of gateways) await gateway.server.kill().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
    return new GatewayCluster(topology, cluster, gateways, root);
  }

  /** Gateway i, 1-based (node i's gateway). */
  gateway(index: number): Gateway {
    const gateway = this.gateways[index - 1];
    if (gateway === undefined) throw new Error(`no gateway ${index} (${this.gateways.length} run)`);
    return gateway;
  }

  /** The gateways that run now. */
  running(): Gateway[] {
    return this.gateways.filter((gateway) => gateway.running);
  }

  /** Node N's gateway, if this cluster has one. */
  gatewayOfNode(node: NodeNumber): Gateway | undefined {
    return this.gateways[node - 1];
  }

  /**
   * kill -9 of node N as a machine dies: its etcd member, Patroni, PostgreSQL and OSD
   * (local-cluster.sh kill-node), and its gateway.
   */
  async killNode(node: NodeNumber): Promise<void> {
    const gateway = this.gatewayOfNode(node);
    await Promise.all([
      this.topology.killNode(node),
      gateway?.running === true ? gateway.kill() : Promise.resolve(),
    ]);
  }

  /** Node N back: its daemons rejoin, then its gateway starts again. */
  async startNode(node: NodeNumber): Promise<void> {
    await this.topology.startNode(node);
    // The gateway may list only its node's etcd member: let the member rejoin first.
    await this.topology.waitEtcdHealthy();
    const gateway = this.gatewayOfNode(node);
    if (gateway !== undefined && !gateway.running) await gateway.restart();
  }

  /** Stops every gateway (clean SIGTERM and log checks), then removes their directories. */
  async stop(): Promise<void> {
    const failures: unknown[] = [];
    for (const gateway of this.gateways) {
      try {
        if (gateway.running) await gateway.server.stop();
        else await gateway.server.kill();
      } catch (error) {
        failures.push(error);
      }
    }
    rmSync(this.root, { recursive: true, force: true });
    if (failures.length > 0) throw failures[0];
  }
}

async function startGateway(
  topology: LocalCluster,
  cluster: InitializedCluster,
  root: string,
  index: number,
  sseMasterKey: string,
  options: GatewayClusterOptions,
): Promise<Gateway> {
  const name = `gw${index}`;
  const dir = join(root, name);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const etcdEndpoints = options.etcdEndpointsOf?.(index) ?? topology.config.etcd.endpoints;
  const config = writeGatewayConfig({
    topology,
    clusterName: cluster.name,
    gatewayName: name,
    etcdEndpoints,
    dir,
  });
  const serverOptions: ServerOptions = {
    dataDir,
    asGiven: true,
    args: ['--config', config],
    env: { HANGAR_SSE_MASTER_KEY: sseMasterKey, ...options.env },
    ...(options.shards === undefined ? {} : { shards: options.shards }),
    ...(options.expectedLogErrors === undefined
      ? {}
      : { expectedLogErrors: options.expectedLogErrors }),
  };
  const server = await TestServer.start(serverOptions);
  return new Gateway(index, name, dir, serverOptions, server);
}

export interface ClusterSuite {
  readonly topology: LocalCluster;
  readonly cluster: GatewayCluster;
}

/**
 * The preamble of a cluster test file: before its tests, the topology (attached when a setup step
 * started one, else booted) and a fresh cluster of `options.gateways` gateways, gateway i talking
 * to node i's etcd member only; after them all, failures included, both stopped. Read the
 * context in tests only.
 */
export function useGatewayCluster<Context extends ClusterSuite>(
  test: TestFn<Context>,
  options: GatewayClusterOptions,
): void {
  test.serial.before(async (t) => {
    const started = performance.now();
    const topology = await LocalCluster.attachOrStart();
    t.context = { ...t.context, topology };
    const cluster = await GatewayCluster.start(topology, {
      etcdEndpointsOf: (gateway) => [topology.etcdEndpoint(gateway as NodeNumber)],
      ...options,
    });
    t.context = { ...t.context, cluster };
    t.log(
      `topology ${topology.dir} (booted in ${topology.startupSeconds} s); cluster ${cluster.cluster.name} with ${cluster.gateways.length} gateways; ${Math.round(performance.now() - started)} ms in all`,
    );
  });
  test.after.always(async (t) => {
    try {
      await t.context.cluster?.stop();
    } finally {
      await t.context.topology?.stop();
    }
  });
}

export { NODE_NUMBERS, type NodeNumber };
