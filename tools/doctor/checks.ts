import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMITS } from '../../engine/limits.js';
import { loadUws, UwsLoadError } from '../../http/uws/load.js';
import {
  filesystemCheck,
  freeInodesCheck,
  freeSpaceCheck,
  probeDataDir,
  statfsOf,
} from './disk.js';
import type { CheckResult } from './result.js';

/**
 * The checks of `hangar doctor`, which the server also runs before it starts: the machine can run
 * hangar (Node, the native uWS binary, open-file limit, clock) and the data directory can keep
 * what it is given (writable, fsync that means something, room).
 */
export function runChecks(dataDir: string): CheckResult[] {
  // Before the probe, which writes into the data directory.
  const clock = clockCheck(dataDir);
  const probe = probeDataDir(dataDir);
  const stat = statfsOf(dataDir);
  return [
    nodeVersionCheck(),
    uwsCheck(),
    probe.check,
    filesystemCheck(stat, probe.fsyncMicros),
    freeSpaceCheck(stat),
    freeInodesCheck(stat),
    openFilesCheck(),
    clock,
  ];
}

// ---- Node version ----

/** package.json sits three levels above this file, in the source tree and in dist alike. */
const PACKAGE_JSON = new URL('../../../package.json', import.meta.url);

type Version = readonly [number, number, number];

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Whether `version` satisfies a range of space-separated comparators (">=20.19 <21"), the only
 * form package.json's engines uses; null for a range it cannot read. A partial version is
 * completed as semver does: "<=20.19" is "<20.20.0", ">20" is ">=21.0.0".
 */
export function satisfies(version: string, range: string): boolean | null {
  const have = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (have === null) return null;
  const current: Version = [Number(have[1]), Number(have[2]), Number(have[3])];
  let result = true;
  for (const comparator of range.trim().split(/\s+/)) {
    const m = /^(>=|<=|>|<|=)?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(comparator);
    if (m === null) return null;
    const parts = [m[2], m[3], m[4]].filter((p) => p !== undefined).map(Number);
    let bound: Version = [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
    let op = m[1] ?? '=';
    if (parts.length < 3 && (op === '<=' || op === '>')) {
      // The first version past the partial one.
      bound = parts.length === 1 ? [bound[0] + 1, 0, 0] : [bound[0], bound[1] + 1, 0];
      op = op === '<=' ? '<' : '>=';
    }
    const order = compare(current, bound);
    const ok =
      op === '>='
        ? order >= 0
        : op === '<'
          ? order < 0
          : op === '>'
            ? order > 0
            : op === '<='
              ? order <= 0
              : order === 0;
    result &&= ok;
  }
  return result;
}

function nodeVersionCheck(): CheckResult {
  const name = 'node';
  let range: string | undefined;
  try {
    range = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { engines?: { node?: string } })
      .engines?.node;
  } catch (error) {
    return {
      name,
      status: 'warn',
      found: `cannot read package.json: ${(error as Error).message}`,
      fix: 'reinstall hangar',
    };
  }
  if (range === undefined) {
    return {
      name,
      status: 'ok',
      found: `Node ${process.version}; package.json names no engines range`,
      fix: null,
    };
  }
  const ok = satisfies(process.version, range);
  if (ok === null) {
    return {
      name,
      status: 'warn',
      found: `Node ${process.version}; cannot read the engines range '${range}'`,
      fix: 'write package.json engines.node as comparators like ">=20.19 <21"',
    };
  }
  return ok
    ? {
        name,
        status: 'ok',
        found: `Node ${process.version} is within package.json engines '${range}'`,
        fix: null,
      }
    : {
        name,
        status: 'fail',
        found: `Node ${process.version} is outside package.json engines '${range}'`,
        fix: `run hangar on a Node within '${range}' (nvm, or your distribution's or NodeSource's packages), then \`npm ci\``,
      };
}

// ---- uWebSockets.js ----

function uwsCheck(): CheckResult {
  const name = 'uws';
  try {
    loadUws();
    return {
      name,
      status: 'ok',
      found: `the native uWebSockets.js binary loads (${process.platform}-${process.arch}, Node ABI ${process.versions.modules})`,
      fix: null,
    };
  } catch (error) {
    if (error instanceof UwsLoadError)
      return { name, status: 'fail', found: error.found, fix: error.fix };
    return {
      name,
      status: 'fail',
      found: `uWebSockets.js does not load: ${(error as Error).message}`,
      fix: 'reinstall with `npm ci`',
    };
  }
}

// ---- open files ----

/** RLIMIT_NOFILE as this process has it (Node raises the soft limit to the hard one at start). */
function openFileLimits(): { soft: number; hard: number } | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (m === null) return null;
  const value = (s: string | undefined): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: value(m[1]), hard: value(m[2]) };
}

function openFilesCheck(): CheckResult {
  const name = 'open-files';
  const limits = openFileLimits();
  if (limits === null) {
    return {
      name,
      status: 'ok',
      found: 'open-file limit unknown (no /proc/self/limits)',
      fix: null,
    };
  }
  const found = `open-file limit ${limits.soft} (hard ${limits.hard})`;
  const fix =
    'raise it: `ulimit -n 65536` in the shell that starts hangar, or LimitNOFILE=65536 in its systemd unit';
  if (limits.soft < LIMITS.doctorOpenFilesMin) {
    return {
      name,
      status: 'fail',
      found: `${found}, below the minimum of ${LIMITS.doctorOpenFilesMin}`,
      fix,
    };
  }
  if (limits.soft < LIMITS.doctorOpenFilesWarn) {
    return { name, status: 'warn', found: `${found}, below ${LIMITS.doctorOpenFilesWarn}`, fix };
  }
  return { name, status: 'ok', found, fix: null };
}

// ---- clock ----

interface Recorded {
  readonly what: string;
  readonly ms: number;
}

/** The build: when this file was compiled. */
function buildTime(): Recorded | null {
  const path = fileURLToPath(import.meta.url);
  try {
    return { what: `the build (${path})`, ms: statSync(path).mtimeMs };
  } catch {
    return null;
  }
}

/**
 * The newest time the data directory has recorded: the modification times the kernel gave what
 * the server writes there (its entries, the catalog's and each shard's LMDB file). A clock set
 * back since then is behind it. Not the directory's own time: a doctor's probe changes that.
 */
function dataDirTime(dataDir: string): Recorded | null {
  const paths = [join(dataDir, 'catalog', 'data.mdb')];
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir).map((entry) => join(dir, entry));
    } catch {
      return [];
    }
  };
  paths.push(...list(dataDir));
  paths.push(...list(join(dataDir, 'shards')).map((shard) => join(shard, 'meta', 'data.mdb')));
  let newest: Recorded | null = null;
  for (const path of paths) {
    try {
      const ms = statSync(path).mtimeMs;
      if (newest === null || ms > newest.ms) newest = { what: `the data directory (${path})`, ms };
    } catch {
      // not there (yet): nothing recorded
    }
  }
  return newest;
}

/** Whether systemd says the clock is NTP-synchronised; null where it cannot say (containers). */
function ntpSynchronized(): boolean | null {
  const run = spawnSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], {
    encoding: 'utf8',
    timeout: LIMITS.doctorNtpQueryTimeoutMs,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  if (run.status !== 0) return null;
  const answer = run.stdout.trim();
  return answer === 'yes' ? true : answer === 'no' ? false : null;
}

function duration(ms: number): string {
  const [value, unit] =
    ms >= 2 * 60 * 60 * 1000
      ? [ms / (60 * 60 * 1000), 'h']
      : ms >= 2 * 60 * 1000
        ? [ms / (60 * 1000), 'min']
        : [ms / 1000, 's'];
  return `${Number(value.toFixed(1))} ${unit}`;
}

function clockCheck(dataDir: string): CheckResult {
  const name = 'clock';
  const now = Date.now();
  const references = [buildTime(), dataDirTime(dataDir)].filter((r) => r !== null);
  const newest = references.reduce<Recorded | null>(
    (a, b) => (a === null || b.ms > a.ms ? b : a),
    null,
  );
  const ntp = ntpSynchronized();
  const ntpText = `NTP synchronised: ${ntp === null ? 'unknown' : ntp ? 'yes' : 'no'}`;
  const behind = newest === null ? 0 : newest.ms - now;
  if (newest !== null && behind > LIMITS.doctorClockBehindWarnMs) {
    const found = `the wall clock is ${duration(behind)} behind ${newest.what}, written at ${new Date(newest.ms).toISOString()}; ${ntpText}`;
    const fix =
      'set the clock / enable NTP (`timedatectl set-ntp true`); if the clock is right, that file has a time in the future: `touch` it';
    if (behind > LIMITS.doctorClockBehindMaxMs) {
      return {
        name,
        status: 'fail',
        found: `${found}; beyond SigV4's ${duration(LIMITS.doctorClockBehindMaxMs)} window, every client would get RequestTimeTooSkewed`,
        fix,
      };
    }
    return { name, status: 'warn', found, fix };
  }
  const found = `the wall clock (${new Date(now).toISOString()}) is not behind the build or the data directory's newest write; ${ntpText}`;
  if (ntp === false) {
    return {
      name,
      status: 'warn',
      found,
      fix: `enable NTP (\`timedatectl set-ntp true\`): S3 signatures allow ${duration(LIMITS.doctorClockBehindMaxMs)} of skew`,
    };
  }
  return { name, status: 'ok', found, fix: null };
}
