/**
 * The one-machine cluster topology (tools/cluster/local-cluster.sh) the cluster targets run on:
 * ONE per benchmark run (a start costs 20-30 s, more under load), shared by every workload.
 * HANGAR_BENCH_CLUSTER_DIR names a running one to attach to (left running at the end); otherwise
 * the first cluster target starts one and the run stops it at its end (stopBenchTopology).
 *
 * A topology the bench starts itself runs at HANGAR_CLUSTER_PORT_OFFSET, 100 when unset, so it
 * never takes the ports of the cluster tests' topology (offset 0) on the same machine, and with
 * 3 GiB memstore OSDs (HANGAR_CLUSTER_MEMSTORE_BYTES).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalCluster } from '../../test/cluster/local-cluster.js';

const run = promisify(execFile);

/** The bench's own topology stays off the cluster tests' ports (offset 0). */
const DEFAULT_BENCH_PORT_OFFSET = '100';
/**
 * Each OSD's memstore capacity: three copies of everything stored live in memory, and a 64 MiB
 * PUT run writes ~0.5-1.5 GiB before its stop removes it (the tests' 1 GiB would fill).
 */
const DEFAULT_BENCH_MEMSTORE_BYTES = String(3 * 1024 ** 3);
/** One ceph / rados / radosgw-admin command; they wait on the monitor and OSDs. */
const CEPH_COMMAND_TIMEOUT_MS = 120_000;

let topology: Promise<LocalCluster> | undefined;

/** The run's topology, started on first use (the start's own waits are bounded). */
export function benchTopology(): Promise<LocalCluster> {
  if (topology === undefined) {
    topology = attachOrStart();
    // A failed start is not cached: the next workload tries again (and reports its own failure).
    topology.catch(() => {
      topology = undefined;
    });
  }
  return topology;
}

async function attachOrStart(): Promise<LocalCluster> {
  const dir = process.env['HANGAR_BENCH_CLUSTER_DIR'];
  if (dir !== undefined && dir !== '') return LocalCluster.attach(dir);
  process.env['HANGAR_CLUSTER_PORT_OFFSET'] ??= DEFAULT_BENCH_PORT_OFFSET;
  process.env['HANGAR_CLUSTER_MEMSTORE_BYTES'] ??= DEFAULT_BENCH_MEMSTORE_BYTES;
  const started = await LocalCluster.start();
  process.stderr.write(
    `[bench] local topology up in ${started.startupSeconds} s at ${started.dir} (port offset ${started.config.portOffset})\n`,
  );
  return started;
}

/** Stops the topology if this run started it (an attached one is left running). */
export async function stopBenchTopology(): Promise<void> {
  const running = topology;
  topology = undefined;
  if (running === undefined) return;
  const cluster = await running.catch(() => undefined);
  await cluster?.stop();
}

/**
 * The pids of the topology's daemons that serve requests: Ceph's (mon.a, mgr.x, the OSDs), etcd's,
 * and each node's postmaster (its backends are its children, so CPU and RSS include them).
 * Patroni's agents are left out: a fixed background loop, not work per request.
 */
export function topologyPids(cluster: LocalCluster, which: 'ceph' | 'all'): number[] {
  const pidsDir = join(cluster.dir, 'pids');
  const names = readdirSync(pidsDir)
    .map((file) => file.replace(/\.pid$/, ''))
    .filter((name) =>
      which === 'ceph' ? /^(mon|mgr|osd)\./.test(name) : !name.startsWith('patroni'),
    );
  const pids = names.map((name) => Number(readFileSync(join(pidsDir, `${name}.pid`), 'utf8')));
  if (which === 'all') {
    for (const node of [1, 2, 3]) {
      const file = join(cluster.dir, `n${node}/pg/data/postmaster.pid`);
      if (existsSync(file)) pids.push(Number(readFileSync(file, 'utf8').split('\n')[0]));
    }
  }
  return pids.filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** Runs a Ceph client tool on the topology's cluster; rejects with its output. */
export async function cephTool(
  cluster: LocalCluster,
  tool: 'ceph' | 'rados' | 'radosgw-admin',
  args: readonly string[],
): Promise<string> {
  try {
    const { stdout } = await run(tool, ['-c', cluster.config.ceph.conf, ...args], {
      timeout: CEPH_COMMAND_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${String(error)}\n${stderr}`);
  }
}
