import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

/** The topology script (a shell script: tests run it from the source tree, not from dist). */
export const LOCAL_CLUSTER_SH = fileURLToPath(
  new URL('../../../tools/cluster/local-cluster.sh', import.meta.url),
);

/** A whole boot measured ~25 s on an idle 2-core machine; a loaded CI runner is far slower. */
const START_TIMEOUT_MS = 10 * 60_000;
/** Every other script command waits on its own bounded loops; this only catches a hang. */
const COMMAND_TIMEOUT_MS = 5 * 60_000;
/** One SQL statement, measured from the client (a COMMIT may wait for the sync standby). */
const QUERY_TIMEOUT_MS = 20_000;
/** One probe of a Patroni REST endpoint. */
const PROBE_TIMEOUT_MS = 2_000;

const run = promisify(execFile);

/** The file `local-cluster.sh start` writes: how clients reach the topology. */
export interface ClusterConfig {
  /** What HANGAR_CLUSTER_PORT_OFFSET the topology started with: every port below includes it. */
  portOffset: number;
  etcd: { endpoints: string[] };
  postgres: {
    hosts: { host: string; port: number }[];
    database: string;
    user: string;
    password: string;
  };
  patroni: { rest: string[] };
  ceph: { conf: string; keyring: string; pool: string; monPort: number };
}

export type NodeNumber = 1 | 2 | 3;
export const NODE_NUMBERS: readonly NodeNumber[] = [1, 2, 3];

/**
 * The one-machine cluster (tools/cluster/local-cluster.sh) in a temp dir: 3 etcd members, 3
 * PostgreSQL + Patroni members, one Ceph mon + mgr and 3 OSDs, all on 127.0.0.1. `stop()` kills
 * every daemon it started and removes the dir, also after a failed start.
 */
export class LocalCluster {
  private constructor(
    readonly dir: string,
    readonly config: ClusterConfig,
    /** Seconds `start` took, as the script measured it. */
    readonly startupSeconds: number,
    /** Whether this object started the topology (and so stops it); false when attached. */
    private readonly owned: boolean = true,
  ) {}

  /**
   * The topology a setup step already started in `dir` (tools/cluster/with-topology.sh): `stop()`
   * leaves it running for the step that started it.
   */
  static attach(dir: string): LocalCluster {
    const { config, startupSeconds } = readClusterFiles(dir);
    return new LocalCluster(dir, config, startupSeconds, false);
  }

  /** The topology named by HANGAR_TEST_CLUSTER_DIR when a setup step started one, else a new one. */
  static attachOrStart(): Promise<LocalCluster> {
    const dir = process.env['HANGAR_TEST_CLUSTER_DIR'];
    return dir === undefined || dir === ''
      ? LocalCluster.start()
      : Promise.resolve(LocalCluster.attach(dir));
  }

  static async start(): Promise<LocalCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'hangar-cluster-'));
    try {
      await run(LOCAL_CLUSTER_SH, ['start', dir], {
        timeout: START_TIMEOUT_MS,
        killSignal: 'SIGKILL',
      });
    } catch (error) {
      await stopAndRemove(dir);
      throw withOutput('local-cluster.sh start', error);
    }
    const { config, startupSeconds } = readClusterFiles(dir);
    return new LocalCluster(dir, config, startupSeconds);
  }

  stop(): Promise<void> {
    return this.owned ? stopAndRemove(this.dir) : Promise.resolve();
  }

  // ---- the script's failure commands, named (N is the node, 1-3) ----

  /** kill -9 of node N's etcd member, Patroni, PostgreSQL and OSD at once. */
  async killNode(node: NodeNumber): Promise<void> {
    await this.command('kill-node', String(node));
  }

  /** Starts node N's daemons again: they rejoin (etcd member, Patroni replica, OSD). */
  async startNode(node: NodeNumber): Promise<void> {
    await this.command('start-node', String(node));
  }

  async killOsd(node: NodeNumber): Promise<void> {
    await this.command('kill-osd', String(node));
  }

  async startOsd(node: NodeNumber): Promise<void> {
    await this.command('start-osd', String(node));
  }

  /** SIGSTOP / SIGCONT of node N's etcd member: silent, its sockets open, as behind a cut link. */
  async pauseEtcd(node: NodeNumber): Promise<void> {
    await this.command('pause-etcd', String(node));
  }

  async resumeEtcd(node: NodeNumber): Promise<void> {
    await this.command('resume-etcd', String(node));
  }

  /** Waits (bounded, in the script) until node N's PostgreSQL streams as a replica. */
  async waitReplica(node: NodeNumber): Promise<void> {
    await this.command('wait-replica', String(node));
  }

  async waitHealthOk(): Promise<void> {
    await this.command('wait-health-ok');
  }

  async waitEtcdHealthy(): Promise<void> {
    await this.command('wait-etcd-healthy');
  }

  /** The node's etcd client URL, as cluster.json lists it. */
  etcdEndpoint(node: NodeNumber): string {
    const endpoint = this.config.etcd.endpoints[node - 1];
    if (endpoint === undefined)
      throw new Error(`cluster.json lists no etcd endpoint for node ${node}`);
    return endpoint;
  }

  /** Runs a local-cluster.sh command on this cluster; rejects with its output when it fails. */
  async command(name: string, ...args: string[]): Promise<string> {
    try {
      const { stdout } = await run(LOCAL_CLUSTER_SH, [name, this.dir, ...args], {
        timeout: COMMAND_TIMEOUT_MS,
        killSignal: 'SIGKILL',
      });
      return stdout;
    } catch (error) {
      throw withOutput(`local-cluster.sh ${name} ${args.join(' ')}`, error);
    }
  }

  /** The node whose Patroni answers 200 on GET /primary, or undefined when none does (yet). */
  async primary(): Promise<NodeNumber | undefined> {
    for (const node of NODE_NUMBERS) {
      if ((await this.patroniStatus(node, 'primary')) === 200) return node;
    }
    return undefined;
  }

  /** The node whose Patroni answers 200 on GET /sync (the synchronous standby), if any. */
  async syncStandby(): Promise<NodeNumber | undefined> {
    for (const node of NODE_NUMBERS) {
      if ((await this.patroniStatus(node, 'sync')) === 200) return node;
    }
    return undefined;
  }

  /** The HTTP status of a Patroni health endpoint (/primary, /replica, /sync), 0 if unreachable. */
  async patroniStatus(node: NodeNumber, endpoint: string): Promise<number> {
    try {
      const response = await fetch(`${this.config.patroni.rest[node - 1]}/${endpoint}`, {
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      await response.body?.cancel();
      return response.status;
    } catch {
      return 0;
    }
  }

  /** A connected client of the `hangar` database on one node's PostgreSQL. */
  async pgClient(node: NodeNumber): Promise<pg.Client> {
    const { hosts, database, user, password } = this.config.postgres;
    const address = hosts[node - 1];
    if (address === undefined) throw new Error(`no PostgreSQL address for node ${node}`);
    const client = new pg.Client({
      ...address,
      database,
      user,
      password,
      connectionTimeoutMillis: 5_000,
      // Client-side only: a server-side statement_timeout would cancel a COMMIT's wait for the
      // synchronous standby, and PostgreSQL then reports the commit as done (with a warning).
      query_timeout: QUERY_TIMEOUT_MS,
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }
}

function readClusterFiles(dir: string): { config: ClusterConfig; startupSeconds: number } {
  const config = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterConfig;
  const startupSeconds = Number(readFileSync(join(dir, 'startup-seconds'), 'utf8'));
  return { config, startupSeconds };
}

/** The dir stays when stop fails: its pid files are what finds the daemons left behind. */
async function stopAndRemove(dir: string): Promise<void> {
  try {
    await run(LOCAL_CLUSTER_SH, ['stop', dir], {
      timeout: COMMAND_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
  } catch (error) {
    throw withOutput(
      `local-cluster.sh stop (daemons may be left; pid files in ${dir}/pids)`,
      error,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

/** execFile's error carries the child's output; put it in the message, where ava shows it. */
function withOutput(what: string, error: unknown): Error {
  const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
  return new Error(`${what} failed: ${String(error)}\n${stdout}\n${stderr}`);
}
