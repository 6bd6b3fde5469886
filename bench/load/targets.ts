/**
 * The servers the load benchmark measures, each started fresh on a free loopback port with its own
 * temporary data directory, and stopped (and its directory removed) after.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../../http/admin/discovery.js';
import {
  CLUSTER_TARGET_SPECS,
  CLUSTER_TARGETS,
  clusterTargetUnavailable,
  startHangarCluster,
  startRgwCluster,
} from './cluster-targets.js';
import {
  type Credentials,
  canConnect,
  freePort,
  HANGAR_CREDENTIALS,
  HANGAR_READY,
  hangarEnv,
  hangarServerArgs,
  type RunningTarget,
  startProcess,
} from './server-process.js';

/**
 * hangar-e<E>s<S>: hangar with E edge threads and S shards, for the scaling table (the plain
 * `hangar` target runs the defaults: one edge thread per core, one shard per core).
 */
const SCALING_TARGETS = ['hangar-e1s1', 'hangar-e1s2', 'hangar-e2s1', 'hangar-e2s2'] as const;
type ScalingTarget = (typeof SCALING_TARGETS)[number];

export const TARGET_NAMES = [
  'raw',
  'hangar',
  'hangar-relaxed',
  'ceph-rgw',
  's3rver',
  'moto',
  ...SCALING_TARGETS,
  ...CLUSTER_TARGETS,
] as const;
export type TargetName = (typeof TARGET_NAMES)[number];
/**
 * What a run measures unless --targets says otherwise: the scaling targets and the cluster
 * targets (they boot a whole local topology) are asked for.
 */
export const DEFAULT_TARGETS: readonly TargetName[] = TARGET_NAMES.filter(
  (name) => !([...SCALING_TARGETS, ...CLUSTER_TARGETS] as readonly string[]).includes(name),
);

export type { Credentials, RunningTarget };
export { freePort };

export interface TargetSpec {
  name: TargetName;
  /** raw: the limit; hangar: the subject; peer: another S3 server to compare with. */
  role: 'raw' | 'hangar' | 'peer';
  /** Keeps nothing: needs no bucket and no preload. */
  stateless: boolean;
  credentials: Credentials;
  describe: string;
  /** The preload's time limit, when the target needs longer than run.ts's (60 s quick, 120 s). */
  preloadTimeoutS?: number;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The peer scripts the workplace provides beside the repository. */
const CEPH_RGW_SCRIPT = join(ROOT, '../shared/peers/ceph-rgw.sh');
const DIST = fileURLToPath(new URL('../../', import.meta.url));

function scalingOf(name: ScalingTarget): { edgeThreads: number; shards: number } {
  const match = /^hangar-e(\d+)s(\d+)$/.exec(name);
  return { edgeThreads: Number(match?.[1]), shards: Number(match?.[2]) };
}

function scalingSpec(name: ScalingTarget): TargetSpec {
  const { edgeThreads, shards } = scalingOf(name);
  return {
    name,
    role: 'hangar',
    stateless: false,
    credentials: HANGAR_CREDENTIALS,
    describe: `hangar server, ${edgeThreads} edge thread(s), ${shards} shard(s), durability fsync`,
  };
}

export const TARGETS: Readonly<Record<TargetName, TargetSpec>> = {
  ...CLUSTER_TARGET_SPECS,
  ...(Object.fromEntries(SCALING_TARGETS.map((name) => [name, scalingSpec(name)])) as Record<
    ScalingTarget,
    TargetSpec
  >),
  raw: {
    name: 'raw',
    role: 'raw',
    stateless: true,
    credentials: HANGAR_CREDENTIALS,
    describe:
      'bench/reference/raw-uws.ts: uWebSockets.js answering from memory, no auth, no storage',
  },
  hangar: {
    name: 'hangar',
    role: 'hangar',
    stateless: false,
    credentials: HANGAR_CREDENTIALS,
    describe: 'hangar server, durability fsync (default)',
  },
  'hangar-relaxed': {
    name: 'hangar-relaxed',
    role: 'hangar',
    stateless: false,
    credentials: HANGAR_CREDENTIALS,
    describe: 'hangar server, --durability relaxed (no fsync)',
  },
  s3rver: {
    name: 's3rver',
    role: 'peer',
    stateless: false,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    describe: 's3rver (npm), files in a temp dir',
  },
  'ceph-rgw': {
    name: 'ceph-rgw',
    role: 'peer',
    stateless: false,
    credentials: {
      accessKeyId: 'MAINACCESSKEY0000001',
      secretAccessKey: 'mainsecretkey000000000000000000000000001',
    },
    describe:
      "Ceph RADOS Gateway (Debian's ceph 16, beast frontend) over one memstore OSD and one monitor, started by ../shared/peers/ceph-rgw.sh; CPU and memory summed over ceph-mon, ceph-osd and radosgw",
  },
  moto: {
    name: 'moto',
    role: 'peer',
    stateless: false,
    credentials: HANGAR_CREDENTIALS,
    describe: 'moto_server (python), in memory',
  },
};

export async function startTarget(name: TargetName): Promise<RunningTarget> {
  const spec = TARGETS[name];
  const port = await freePort();
  switch (name) {
    case 'raw':
      return startProcess(
        spec,
        process.execPath,
        [join(DIST, 'bench/reference/raw-uws.js'), '--port', String(port)],
        process.env,
        port,
        undefined,
        /raw-uws listening/,
      );
    case 'hangar':
    case 'hangar-relaxed':
    case 'hangar-e1s1':
    case 'hangar-e1s2':
    case 'hangar-e2s1':
    case 'hangar-e2s2': {
      const dataDir = mkdtempSync(join(tmpdir(), 'hangar-bench-'));
      const args = hangarServerArgs(dataDir, port);
      if (name === 'hangar-relaxed') args.push('--durability', 'relaxed');
      if (name !== 'hangar' && name !== 'hangar-relaxed') {
        const { edgeThreads, shards } = scalingOf(name);
        args.push('--edge-threads', String(edgeThreads), '--shards', String(shards));
      }
      return startProcess(
        spec,
        process.execPath,
        args,
        hangarEnv(spec),
        port,
        dataDir,
        HANGAR_READY,
      );
    }
    case 's3rver': {
      const dataDir = mkdtempSync(join(tmpdir(), 's3rver-bench-'));
      return startProcess(
        spec,
        process.execPath,
        [
          join(ROOT, 'node_modules/s3rver/bin/s3rver.js'),
          '-d',
          dataDir,
          '-a',
          '127.0.0.1',
          '-p',
          String(port),
          '--silent',
        ],
        process.env,
        port,
        dataDir,
        undefined,
      );
    }
    case 'ceph-rgw':
      return startCephRgw(spec, port);
    case 'hangar-cluster':
      return startHangarCluster(spec, port);
    case 'rgw-cluster':
      return startRgwCluster(spec, port);
    case 'moto':
      return startProcess(
        spec,
        'moto_server',
        ['-H', '127.0.0.1', '-p', String(port)],
        { ...process.env, PYTHONUNBUFFERED: '1' },
        port,
        undefined,
        undefined,
      );
  }
}

/**
 * Ceph's gateway with a fresh cluster (the script wipes and recreates its directory): the script
 * daemonizes ceph-mon, ceph-osd and radosgw and exits once the gateway answers and the users
 * exist; the daemons are found again by their pid files.
 */
async function startCephRgw(spec: TargetSpec, port: number): Promise<RunningTarget> {
  const cephDir = mkdtempSync(join(tmpdir(), 'ceph-rgw-bench-'));
  const env = { ...process.env, CEPH_DIR: cephDir, PORT: String(port) };
  const script = (action: 'start' | 'stop'): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn('bash', [CEPH_RGW_SCRIPT, action], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('close', (code) => resolve({ code, out }));
    });
  const pidsOf = (): number[] =>
    readdirSync(cephDir)
      .filter((file) => file.endsWith('.pid'))
      .map((file) => Number(readFileSync(join(cephDir, file), 'utf8').trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  const stop = async (): Promise<void> => {
    await script('stop');
    rmSync(cephDir, { recursive: true, force: true });
  };
  const started = await script('start');
  if (started.code !== 0 || !(await canConnect(port))) {
    await stop();
    throw new Error(`ceph-rgw did not start (exit ${started.code}):\n${started.out}`);
  }
  const daemons = pidsOf();
  return {
    spec,
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pids: () => daemons,
    log: () => started.out,
    exited: () => (daemons.every(processAlive) ? undefined : 'a ceph daemon exited'),
    stop,
  };
}

/** Which targets this machine can run, and why not the others. */
export function unavailable(name: TargetName): string | undefined {
  if ((CLUSTER_TARGETS as readonly string[]).includes(name)) return clusterTargetUnavailable(name);
  if (name === 'ceph-rgw') {
    if (!existsSync(CEPH_RGW_SCRIPT)) return `${CEPH_RGW_SCRIPT} not found`;
    if (spawnSync('radosgw', ['--version'], { encoding: 'utf8' }).status !== 0) {
      return 'radosgw not found (apt-get install ceph-mon ceph-osd radosgw ceph-common)';
    }
  }
  if (name === 'moto') {
    const probe = spawnSync('moto_server', ['--help'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) {
      return 'moto_server not found (pip install "moto[server]")';
    }
  }
  return undefined;
}

export function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    const pkg = JSON.parse(
      readFileSync(join(ROOT, 'node_modules/s3rver/package.json'), 'utf8'),
    ) as { version: string };
    out['s3rver'] = pkg.version;
  } catch {
    out['s3rver'] = 'not installed';
  }
  const moto = spawnSync('python3', ['-c', 'import moto; print(moto.__version__)'], {
    encoding: 'utf8',
  });
  out['moto'] = moto.status === 0 ? moto.stdout.trim() : 'not installed';
  const uws = JSON.parse(
    readFileSync(join(ROOT, 'node_modules/uWebSockets.js/package.json'), 'utf8'),
  ) as { version: string };
  out['uWebSockets.js'] = uws.version;
  return out;
}
