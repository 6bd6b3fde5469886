import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  rmdirSync,
  type StatsFs,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../engine/data-dir.js';
import { LIMITS } from '../../engine/limits.js';
import { formatBytes } from '../../http/admin/format-bytes.js';
import type { CheckResult } from './result.js';

/**
 * The data directory's checks: it can be created and written (for real: root ignores mode bits),
 * its filesystem makes fsync mean something, and it has room.
 */

/** What the write probe found: the data-dir check, and one fsync's duration when it got that far. */
export interface DataDirProbe {
  readonly check: CheckResult;
  readonly fsyncMicros: number | null;
}

const PROBE_BYTES = 4096;

/**
 * Creates the data directory if missing (as the server would), then creates, writes, fsyncs and
 * removes a probe file and fsyncs the directory. Directories it created are removed again: the
 * server makes them itself, and a doctor run leaves nothing behind.
 */
export function probeDataDir(dataDir: string): DataDirProbe {
  const made: string[] = [];
  try {
    makeDirs(dataDir, made);
    const fsyncMicros = writeProbeFile(join(dataDir, `.doctor-probe-${process.pid}`));
    fsyncDirectory(dataDir);
    return {
      check: {
        name: 'data-dir',
        status: 'ok',
        found: `${dataDir} ${made.length === 0 ? 'exists' : 'can be created'} and takes a write, an fsync and a removal`,
        fix: null,
      },
      fsyncMicros,
    };
  } catch (error) {
    return {
      check: {
        name: 'data-dir',
        status: 'fail',
        found: `${dataDir} is not usable: ${(error as Error).message}`,
        fix: 'choose a data directory on a writable local filesystem (--data-dir or HANGAR_DATA_DIR), or give the user hangar runs as write access to it',
      },
      fsyncMicros: null,
    };
  } finally {
    removeMade(made);
  }
}

/**
 * mkdir -p, one level at a time, recording each directory it made in `made`. Not mkdirSync's
 * `recursive`: under /proc, mkdir answers ENOENT while the parent exists, and Node's recursive
 * mkdir then retries forever.
 */
function makeDirs(dir: string, made: string[]): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && d !== dirname(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    mkdirSync(d, { mode: PRIVATE_DIR_MODE });
    made.push(d);
  }
}

/** Removes the directories makeDirs made, deepest first, if they are still empty. */
function removeMade(made: readonly string[]): void {
  for (const dir of [...made].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      return; // not empty (something else wrote there meanwhile): leave it
    }
  }
}

/** Writes, fsyncs (timed) and removes `path`; returns the fsync's duration in microseconds. */
function writeProbeFile(path: string): number {
  const fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  try {
    writeSync(fd, Buffer.alloc(PROBE_BYTES, 0x68));
    const start = process.hrtime.bigint();
    fsyncSync(fd);
    return Number(process.hrtime.bigint() - start) / 1000;
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The nearest existing directory at or above `path`: statfs needs a path that exists. */
function nearestExisting(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dir !== dirname(dir)) dir = dirname(dir);
  return dir;
}

/** statfs of the data directory, or of its nearest existing parent when it is not there. */
export function statfsOf(dataDir: string): { path: string; fs: StatsFs } | { error: string } {
  const path = nearestExisting(dataDir);
  try {
    // Named by the data directory: the words stay the same once the server has created it.
    return { path: dataDir, fs: statfsSync(path) };
  } catch (error) {
    return { error: `statfs ${path}: ${(error as Error).message}` };
  }
}

type Durability = 'disk' | 'memory' | 'remote' | 'layered';

/** statfs(2) `f_type` magic numbers (linux/magic.h) of the filesystems worth naming. */
const FILESYSTEMS = new Map<number, { name: string; durability: Durability }>([
  [0xef53, { name: 'ext2/ext3/ext4', durability: 'disk' }],
  [0x58465342, { name: 'xfs', durability: 'disk' }],
  [0x9123683e, { name: 'btrfs', durability: 'disk' }],
  [0x2fc12fc1, { name: 'zfs', durability: 'disk' }],
  [0xf2f52010, { name: 'f2fs', durability: 'disk' }],
  [0x01021994, { name: 'tmpfs', durability: 'memory' }],
  [0x858458f6, { name: 'ramfs', durability: 'memory' }],
  [0x794c7630, { name: 'overlay', durability: 'layered' }],
  [0x6969, { name: 'nfs', durability: 'remote' }],
  [0xff534d42, { name: 'cifs', durability: 'remote' }],
  [0xfe534d42, { name: 'smb2', durability: 'remote' }],
  [0x517b, { name: 'smb', durability: 'remote' }],
  [0x65735546, { name: 'fuse', durability: 'remote' }],
  [0x01021997, { name: '9p', durability: 'remote' }],
]);

function fsyncText(fsyncMicros: number | null): string {
  return fsyncMicros === null
    ? 'fsync not measured (the data directory is not writable)'
    : `one fsync took ${fsyncMicros < 1000 ? `${fsyncMicros.toFixed(0)} µs` : `${(fsyncMicros / 1000).toFixed(1)} ms`}`;
}

/** Whether fsync on the data directory's filesystem means the bytes survive a power loss. */
export function filesystemCheck(
  stat: ReturnType<typeof statfsOf>,
  fsyncMicros: number | null,
): CheckResult {
  const name = 'filesystem';
  if ('error' in stat)
    return { name, status: 'warn', found: stat.error, fix: 'see the data-dir check' };
  // f_type is unsigned; Node may hand it back as a negative 32-bit integer.
  const type = stat.fs.type >>> 0;
  const known = FILESYSTEMS.get(type);
  const label = `${stat.path} is on ${known?.name ?? `a filesystem of type 0x${type.toString(16)}`}`;
  if (known?.durability === 'memory') {
    return {
      name,
      status: 'warn',
      found: `${label}, held in memory: not durable across power loss or reboot`,
      fix: 'fine for benchmarks; for data you keep, put the data directory on a disk filesystem (ext4, xfs)',
    };
  }
  const found = `${label}; ${fsyncText(fsyncMicros)}`;
  if (known?.durability === 'remote') {
    return {
      name,
      status: 'warn',
      found: `${found}; fsync semantics on network and FUSE filesystems vary`,
      fix: 'put the data directory on a local disk filesystem (ext4, xfs)',
    };
  }
  if (fsyncMicros !== null && fsyncMicros < LIMITS.doctorFsyncNoOpBelowMicros) {
    return {
      name,
      status: 'warn',
      found: `${found}, too fast to have reached a disk: fsync may be a no-op`,
      fix: 'check that no LD_PRELOAD (eatmydata) disables fsync and that the disk does not acknowledge writes it only cached',
    };
  }
  const layered = known?.durability === 'layered' ? ' (fsync reaches the filesystem beneath)' : '';
  return { name, status: 'ok', found: `${found}${layered}`, fix: null };
}

/** Free bytes on the data directory's filesystem, against LIMITS.doctorFreeBytes*. */
export function freeSpaceCheck(stat: ReturnType<typeof statfsOf>): CheckResult {
  const name = 'free-space';
  if ('error' in stat)
    return { name, status: 'warn', found: stat.error, fix: 'see the data-dir check' };
  const free = stat.fs.bavail * stat.fs.bsize;
  const found = `${formatBytes(free)} free of ${formatBytes(stat.fs.blocks * stat.fs.bsize)} on the filesystem of ${stat.path}`;
  const fix = `free space there or move the data directory to a larger filesystem (hangar wants at least ${formatBytes(LIMITS.doctorFreeBytesWarn)})`;
  if (free < LIMITS.doctorFreeBytesMin) {
    return {
      name,
      status: 'fail',
      found: `${found}, below the minimum of ${formatBytes(LIMITS.doctorFreeBytesMin)}`,
      fix,
    };
  }
  if (free < LIMITS.doctorFreeBytesWarn) return { name, status: 'warn', found, fix };
  return { name, status: 'ok', found, fix: null };
}

/** Free inodes (every block is a file), where the filesystem reports them. */
export function freeInodesCheck(stat: ReturnType<typeof statfsOf>): CheckResult {
  const name = 'free-inodes';
  if ('error' in stat)
    return { name, status: 'warn', found: stat.error, fix: 'see the data-dir check' };
  if (stat.fs.files === 0) {
    return {
      name,
      status: 'ok',
      found: `not reported by the filesystem of ${stat.path}`,
      fix: null,
    };
  }
  const found = `${stat.fs.ffree} of ${stat.fs.files} inodes free on the filesystem of ${stat.path}`;
  const fix = 'remove files there or move the data directory to a filesystem with more inodes';
  if (stat.fs.ffree < LIMITS.doctorFreeInodesMin) {
    return {
      name,
      status: 'fail',
      found: `${found}, below the minimum of ${LIMITS.doctorFreeInodesMin}`,
      fix,
    };
  }
  if (stat.fs.ffree < LIMITS.doctorFreeInodesWarn) return { name, status: 'warn', found, fix };
  return { name, status: 'ok', found, fix: null };
}
