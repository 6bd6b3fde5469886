import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { BLOCK_COMPRESSIONS, type BlockCompression } from './blocks/block-names.js';
import { type ClusterConfig, parseClusterSection } from './cluster/config.js';
import { ClusterValueError } from './cluster/validate.js';
import { type NotifyTarget, parseTargets } from './notify/targets.js';
import { parseStorage, type StorageConfig, StorageConfigError } from './storage-config.js';

/**
 * Hangar's configuration. Sources, lowest to highest precedence: built-in defaults, the TOML file,
 * environment variables (HANGAR_*), command-line flags. Every setting is described once, in
 * FIELDS below (its TOML path, env var, flag and validator); loading is a loop over that table.
 */

export type Durability = 'fsync' | 'relaxed';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** JSON lines, human lines, or human lines when stdout is a terminal and JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface HangarConfig {
  /** Absolute path of the data directory. */
  dataDir: string;
  s3: {
    host: string;
    port: number;
    region: string;
    /** Root domains for virtual-hosted-style requests ("<bucket>.<rootDomain>"). */
    rootDomains: string[];
    /**
     * Accept SSE-C requests on a plain-HTTP S3 port (AWS refuses them: the key would cross the
     * network in clear). Only for a TLS-terminating proxy in front of hangar.
     */
    allowSseCOverHttp: boolean;
    /**
     * Accept AWS Signature Version 2 (header, query string and POST forms), as Ceph RGW and
     * Swift do; false answers V2 as AWS's V4-only regions do.
     */
    signatureV2: boolean;
  };
  /**
   * TLS on every port (S3, website, admin) with one certificate and key (PEM files, reread on
   * SIGHUP); both null = plain HTTP. Set together or not at all.
   */
  tls: {
    certFile: string | null;
    keyFile: string | null;
  };
  /** SSE-S3 and SSE-KMS (engine/sse/keyring.ts). */
  sse: {
    /**
     * The master key file (32 bytes: hex, base64 or raw); null = `<data dir>/sse-master.key`,
     * generated 0600 on first start. A rotation rewrites the file it names.
     */
    masterKeyFile: string | null;
  };
  /** The static website endpoint (buckets with a website configuration, by Host header). */
  web: {
    host: string;
    /** 0 = any free port. */
    port: number;
    /** Root domains of website hosts ("<bucket>.<rootDomain>"). */
    rootDomains: string[];
  };
  /** The admin API (Garage-style /v2/...), metrics and health. */
  admin: {
    host: string;
    /** 0 = any free port. */
    port: number;
    /** Bearer token of the admin API; null = the admin API answers 403 (except /health). */
    adminToken: string | null;
    /** Bearer token of GET /metrics; null = the admin token is required instead. */
    metricsToken: string | null;
    /**
     * Origins (scheme://host[:port]) the web console is reached at, besides the admin
     * listener's own loopback origins: the S3 port answers CORS for exactly these
     * (http/s3/console-cors.ts), so the console's browser-signed S3 calls work on every bucket.
     */
    consoleOrigins: string[];
  };
  /** S3 event notifications (engine/notify/targets.ts): the targets buckets may name. */
  notify: {
    targets: NotifyTarget[];
  };
  /** `[[data_dirs]]` and `[tiers.NAME]` (engine/storage-config.ts); TOML only. */
  storage: StorageConfig;
  /** `[cluster]` (engine/cluster/config.ts); TOML only. null = embedded mode (the default). */
  cluster: ClusterConfig | null;
  /** Number of shards; null = decide at first start (one per core). */
  shards: number | null;
  /** Threads serving the S3 and website ports (http/edge/); null = one per core. */
  edgeThreads: number | null;
  /** Block size for object data: a power of two between 64 KiB and 64 MiB. */
  blockBytes: number;
  /** Objects up to this size live inline in their metadata record (0..blockBytes). */
  inlineBytesMax: number;
  /**
   * How the default tier ("standard") stores new blocks: 'zstd' compresses those it shrinks by
   * LIMITS.blockCompressionSavedPercentMin or more. Becomes `[tiers.standard] compression`.
   */
  blockCompression: BlockCompression;
  durability: Durability;
  logLevel: LogLevel;
  logFormat: LogFormat;
  rootAccessKey: string | null;
  rootSecretKey: string | null;
  /**
   * Testing only: milliseconds added to the wall clock when lifecycle rules are evaluated, so a
   * test can see objects "days later" without waiting. 0 in production.
   */
  clockOffsetMs: number;
  /** Testing only: every restore tier's delay (null: LIMITS.restoreDelayMs per tier). */
  restoreDelayMs: number | null;
  /**
   * Testing only: shards check that every metadata read happens where a cluster store could
   * fetch it (engine/meta/kv-strict.ts). Costs a wrapper per read.
   */
  kvStrict: boolean;
}

/** A configuration error; the message always names the offending key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfigInput {
  /** Explicit TOML file; takes precedence over flags.config and HANGAR_CONFIG. */
  file?: string | undefined;
  env: Record<string, string | undefined>;
  /** Flag values keyed by their long name without dashes: 'data-dir', 's3-port', 'config', ... */
  flags: Record<string, string | undefined>;
  /** Directory against which relative paths and the default ./hangar.toml resolve (default: process.cwd()). */
  cwd?: string | undefined;
}

export const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];
export const DURABILITIES: readonly Durability[] = ['fsync', 'relaxed'];
export const DEFAULT_CONFIG_FILE = 'hangar.toml';

const KIB = 1024;
const MIB = 1024 * KIB;
/**
 * Inline objects (over LIMITS.recordBodyBytesMax in the bodies table) up to this: a durable PUT
 * is then an LMDB group commit, not a block file's create + fsync + directory fsync (issue 13,
 * DECISIONS.md). 1 MiB inline measured worse than blocks (CPU, memory, GET).
 */
const INLINE_BYTES_MAX_DEFAULT = 256 * KIB;
const GIB = 1024 * MIB;

export function defaultConfig(cwd: string = process.cwd()): HangarConfig {
  return {
    dataDir: resolve(cwd, 'data'),
    s3: {
      host: '127.0.0.1',
      port: 3900,
      region: 'us-east-1',
      rootDomains: ['s3.localhost'],
      allowSseCOverHttp: false,
      signatureV2: true,
    },
    tls: { certFile: null, keyFile: null },
    sse: { masterKeyFile: null },
    web: { host: '127.0.0.1', port: 3902, rootDomains: ['web.localhost'] },
    admin: {
      host: '127.0.0.1',
      port: 3903,
      adminToken: null,
      metricsToken: null,
      consoleOrigins: [],
    },
    notify: { targets: [] },
    storage: { dataDirs: [], tiers: [] },
    cluster: null,
    shards: null,
    edgeThreads: null,
    blockBytes: MIB,
    inlineBytesMax: INLINE_BYTES_MAX_DEFAULT,
    blockCompression: 'none',
    durability: 'fsync',
    logLevel: 'info',
    logFormat: 'auto',
    rootAccessKey: null,
    rootSecretKey: null,
    clockOffsetMs: 0,
    restoreDelayMs: null,
    kvStrict: false,
  };
}

// ---- validators ----
// A validator receives the raw value (a TOML value, or a string from env/flags) and returns the
// typed value or throws Invalid with the expectation ("must be ..."); the loader adds the key.

class Invalid extends Error {}

/** Where a raw value came from; `base` is the directory relative paths resolve against. */
interface Source {
  readonly label: string;
  readonly base: string;
  readonly text: boolean;
}

type Validator<T> = (raw: unknown, source: Source) => T;

function show(raw: unknown): string {
  if (typeof raw === 'string') return `'${raw}'`;
  if (typeof raw === 'bigint') return raw.toString();
  return JSON.stringify(raw) ?? String(raw);
}

function nonEmptyString(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new Invalid('must be a non-empty string');
  return raw.trim();
}

function integer(min: number, max: number, what = `an integer ${min}..${max}`): Validator<number> {
  return (raw) => {
    let value: number;
    if (typeof raw === 'number') value = raw;
    else if (typeof raw === 'bigint') value = Number(raw);
    else if (typeof raw === 'string' && /^\s*\d+\s*$/.test(raw)) value = Number(raw);
    else throw new Invalid(`must be ${what}`);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new Invalid(`must be ${what}`);
    }
    return value;
  };
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KIB,
  kb: KIB,
  kib: KIB,
  m: MIB,
  mb: MIB,
  mib: MIB,
  g: GIB,
  gb: GIB,
  gib: GIB,
};

/** A byte size: an integer, or a string like '1MiB', '64k', '16 KiB' (units are binary). */
function byteSize(
  min: number,
  max: number,
  extra?: (n: number) => string | null,
): Validator<number> {
  const what = `a byte size ${min}..${max}`;
  return (raw) => {
    let value: number;
    if (typeof raw === 'number' || typeof raw === 'bigint') {
      value = Number(raw);
    } else if (typeof raw === 'string') {
      const match = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(raw);
      const unit = match === null ? undefined : SIZE_UNITS[(match[2] ?? '').toLowerCase()];
      if (match === null || unit === undefined) {
        throw new Invalid(`must be ${what} (an integer, optionally with KiB/MiB/GiB)`);
      }
      value = Number(match[1]) * unit;
    } else {
      throw new Invalid(`must be ${what}`);
    }
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new Invalid(`must be ${what}`);
    }
    const problem = extra?.(value);
    if (problem) throw new Invalid(problem);
    return value;
  };
}

function oneOf<T extends string>(choices: readonly T[]): Validator<T> {
  return (raw) => {
    const value = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
    if (typeof value === 'string' && (choices as readonly string[]).includes(value)) {
      return value as T;
    }
    throw new Invalid(`must be one of ${choices.join('|')}`);
  };
}

/** true/false in TOML; true|false|1|0|yes|no from env and flags. */
function boolean(raw: unknown, source: Source): boolean {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string' && source.text) {
    const value = raw.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
  }
  throw new Invalid(source.text ? 'must be true|false|1|0|yes|no' : 'must be true or false');
}

function path(raw: unknown, source: Source): string {
  return resolve(source.base, nonEmptyString(raw));
}

const HOSTNAME_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function domainList(raw: unknown, source: Source): string[] {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string' && source.text) items = raw.split(',');
  else throw new Invalid('must be a list of domain names');
  const domains: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw new Invalid('must be a list of domain names');
    const domain = item.trim().toLowerCase().replace(/^\.+/, '').replace(/\.+$/, '');
    if (domain === '' && source.text) continue; // "a,,b" or a trailing comma
    if (domain.length > 253 || !domain.split('.').every((label) => HOSTNAME_LABEL.test(label))) {
      throw new Invalid(`must be a list of domain names ('${item}' is not one)`);
    }
    if (!domains.includes(domain)) domains.push(domain);
  }
  return domains;
}

/** A list of web origins (`scheme://host[:port]`, as a browser sends them in Origin). */
function originList(raw: unknown, source: Source): string[] {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string' && source.text) items = raw.split(',');
  else throw new Invalid('must be a list of origins');
  const origins: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw new Invalid('must be a list of origins');
    const text = item.trim();
    if (text === '' && source.text) continue;
    let parsed: URL | null = null;
    try {
      parsed = new URL(text);
    } catch {
      parsed = null;
    }
    if (parsed === null || !/^https?:$/.test(parsed.protocol) || parsed.origin !== text) {
      throw new Invalid(
        `must be a list of origins like https://console.example.com ('${text}' is not one)`,
      );
    }
    if (!origins.includes(text)) origins.push(text);
  }
  return origins;
}

/** A bearer token: 16 to 256 visible ASCII characters. */
function token(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[\x21-\x7e]{8,256}$/.test(raw.trim())) {
    throw new Invalid('must be 8 to 256 visible ASCII characters (no spaces)');
  }
  return raw.trim();
}

/** A thread count (shards, edge threads): 1..256, or 'auto' (null: one per core). */
function threadCount(raw: unknown, source: Source): number | null {
  if (typeof raw === 'string' && raw.trim().toLowerCase() === 'auto') return null;
  try {
    return integer(1, 256)(raw, source);
  } catch {
    throw new Invalid("must be an integer 1..256 or 'auto'");
  }
}

function blockProblem(n: number): string | null {
  return (n & (n - 1)) === 0 ? null : 'must be a power of two between 64 KiB and 64 MiB';
}

// ---- the table ----

interface Field {
  /** Key as written in the TOML file ('s3.port'); also the name used in error messages. */
  readonly key: string;
  readonly env: string;
  /** Long flag name without the dashes, or null when the setting has no flag. */
  readonly flag: string | null;
  /** Whether the setting may appear in the TOML file. */
  readonly toml: boolean;
  readonly apply: (config: HangarConfig, raw: unknown, source: Source) => void;
}

function field<T>(
  key: string,
  env: string,
  flag: string | null,
  validate: Validator<T>,
  set: (config: HangarConfig, value: T) => void,
  toml = true,
): Field {
  return {
    key,
    env,
    flag,
    toml,
    apply: (config, raw, source) => set(config, validate(raw, source)),
  };
}

const FIELDS: readonly Field[] = [
  field('data_dir', 'HANGAR_DATA_DIR', 'data-dir', path, (c, v) => {
    c.dataDir = v;
  }),
  field('s3.host', 'HANGAR_S3_HOST', 's3-host', nonEmptyString, (c, v) => {
    c.s3.host = v;
  }),
  field('s3.port', 'HANGAR_S3_PORT', 's3-port', integer(0, 65535), (c, v) => {
    c.s3.port = v;
  }),
  field('s3.region', 'HANGAR_S3_REGION', 's3-region', nonEmptyString, (c, v) => {
    c.s3.region = v;
  }),
  field('s3.root_domains', 'HANGAR_S3_ROOT_DOMAINS', 's3-root-domains', domainList, (c, v) => {
    c.s3.rootDomains = v;
  }),
  field(
    's3.allow_sse_c_over_http',
    'HANGAR_S3_ALLOW_SSE_C_OVER_HTTP',
    's3-allow-sse-c-over-http',
    boolean,
    (c, v) => {
      c.s3.allowSseCOverHttp = v;
    },
  ),
  field('s3.signature_v2', 'HANGAR_S3_SIGNATURE_V2', 's3-signature-v2', boolean, (c, v) => {
    c.s3.signatureV2 = v;
  }),
  field('tls.cert_file', 'HANGAR_TLS_CERT_FILE', 'tls-cert-file', path, (c, v) => {
    c.tls.certFile = v;
  }),
  field('tls.key_file', 'HANGAR_TLS_KEY_FILE', 'tls-key-file', path, (c, v) => {
    c.tls.keyFile = v;
  }),
  field('sse.master_key_file', 'HANGAR_SSE_MASTER_KEY_FILE', null, path, (c, v) => {
    c.sse.masterKeyFile = v;
  }),
  field('web.host', 'HANGAR_WEB_HOST', 'web-host', nonEmptyString, (c, v) => {
    c.web.host = v;
  }),
  field('web.port', 'HANGAR_WEB_PORT', 'web-port', integer(0, 65535), (c, v) => {
    c.web.port = v;
  }),
  field('web.root_domains', 'HANGAR_WEB_ROOT_DOMAINS', 'web-root-domains', domainList, (c, v) => {
    c.web.rootDomains = v;
  }),
  field('admin.host', 'HANGAR_ADMIN_HOST', 'admin-host', nonEmptyString, (c, v) => {
    c.admin.host = v;
  }),
  field('admin.port', 'HANGAR_ADMIN_PORT', 'admin-port', integer(0, 65535), (c, v) => {
    c.admin.port = v;
  }),
  field('admin.console_origins', 'HANGAR_CONSOLE_ORIGINS', null, originList, (c, v) => {
    c.admin.consoleOrigins = v;
  }),
  field('admin.admin_token', 'HANGAR_ADMIN_TOKEN', null, token, (c, v) => {
    c.admin.adminToken = v;
  }),
  field('admin.metrics_token', 'HANGAR_METRICS_TOKEN', null, token, (c, v) => {
    c.admin.metricsToken = v;
  }),
  field(
    'notify.targets',
    'HANGAR_NOTIFY_TARGETS',
    'notify-targets',
    (raw) => {
      try {
        return parseTargets(raw);
      } catch (error) {
        throw new Invalid((error as Error).message);
      }
    },
    (c, v) => {
      c.notify.targets = v;
    },
  ),
  field('shards', 'HANGAR_SHARDS', 'shards', threadCount, (c, v) => {
    c.shards = v;
  }),
  field('edge_threads', 'HANGAR_EDGE_THREADS', 'edge-threads', threadCount, (c, v) => {
    c.edgeThreads = v;
  }),
  field(
    'block_bytes',
    'HANGAR_BLOCK_BYTES',
    'block-bytes',
    byteSize(64 * KIB, 64 * MIB, blockProblem),
    (c, v) => {
      c.blockBytes = v;
    },
  ),
  field(
    'inline_bytes_max',
    'HANGAR_INLINE_BYTES_MAX',
    'inline-bytes-max',
    byteSize(0, 64 * MIB),
    (c, v) => {
      c.inlineBytesMax = v;
    },
  ),
  field(
    'block_compression',
    'HANGAR_BLOCK_COMPRESSION',
    null,
    oneOf(BLOCK_COMPRESSIONS),
    (c, v) => {
      c.blockCompression = v;
    },
  ),
  field('durability', 'HANGAR_DURABILITY', 'durability', oneOf(DURABILITIES), (c, v) => {
    c.durability = v;
  }),
  field('log_level', 'HANGAR_LOG_LEVEL', 'log-level', oneOf(LOG_LEVELS), (c, v) => {
    c.logLevel = v;
  }),
  field('log_format', 'HANGAR_LOG_FORMAT', 'log-format', oneOf(LOG_FORMATS), (c, v) => {
    c.logFormat = v;
  }),
  field(
    'root_access_key',
    'HANGAR_ROOT_ACCESS_KEY',
    null,
    (raw) => {
      const value = nonEmptyString(raw);
      if (!/^[A-Za-z0-9_.-]{8,128}$/.test(value)) {
        throw new Invalid('must be 8 to 128 characters of A-Z a-z 0-9 _ . -');
      }
      return value;
    },
    (c, v) => {
      c.rootAccessKey = v;
    },
    false,
  ),
  field(
    'root_secret_key',
    'HANGAR_ROOT_SECRET_KEY',
    null,
    (raw) => {
      if (typeof raw !== 'string' || raw.length < 8 || raw.length > 128) {
        throw new Invalid('must be 8 to 128 characters');
      }
      return raw;
    },
    (c, v) => {
      c.rootSecretKey = v;
    },
    false,
  ),
  field(
    'clock_offset_ms',
    'HANGAR_CLOCK_OFFSET_MS',
    null,
    integer(0, 100 * 366 * 24 * 3600 * 1000),
    (c, v) => {
      c.clockOffsetMs = v;
    },
  ),
  field(
    'restore_delay_ms',
    'HANGAR_RESTORE_DELAY_MS',
    null,
    integer(0, 24 * 3600 * 1000),
    (c, v) => {
      c.restoreDelayMs = v;
    },
  ),
  field('kv_strict', 'HANGAR_KV_STRICT', null, boolean, (c, v) => {
    c.kvStrict = v;
  }),
];

/** Keys that are secret: never echoed in error messages or logs. */
const SECRET_KEYS = new Set([
  'root_secret_key',
  'admin.admin_token',
  'admin.metrics_token',
  // Webhook URLs carry their signing secrets.
  'notify.targets',
]);

/** Env var names and flag names of every setting (for --help texts and docs). */
export const CONFIG_KEYS: ReadonlyArray<{ key: string; env: string; flag: string | null }> =
  FIELDS.map(({ key, env, flag }) => ({ key, env, flag }));

function applyField(config: HangarConfig, f: Field, raw: unknown, source: Source): void {
  try {
    f.apply(config, raw, source);
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    const got = SECRET_KEYS.has(f.key) ? '' : ` (got ${show(raw)})`;
    throw new ConfigError(`config: ${f.key} ${error.message}${got} [${source.label}]`);
  }
}

// ---- the TOML file ----

/** Which file to read: input.file, flags.config, HANGAR_CONFIG, else ./hangar.toml if present. */
function configFilePath(input: ConfigInput, cwd: string): string | null {
  const explicit = [input.file, input.flags.config, input.env.HANGAR_CONFIG].find(
    (candidate) => candidate !== undefined && candidate !== '',
  );
  if (explicit !== undefined) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new ConfigError(`config: config file ${file} does not exist`);
    return file;
  }
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? fallback : null;
}

export function readToml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`config: cannot read config file ${file}: ${(error as Error).message}`);
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n')[0];
      throw new ConfigError(
        `config: ${file} is not valid TOML (line ${error.line}, column ${error.column}): ${first}`,
      );
    }
    throw error;
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** Flattens the document to dotted keys ('s3.port'), rejecting unknown keys and misplaced tables. */
function flattenToml(doc: Record<string, unknown>, file: string): Map<string, unknown> {
  const known = new Map(FIELDS.filter((f) => f.toml).map((f) => [f.key, f]));
  const tables = new Set(
    [...known.keys()].filter((k) => k.includes('.')).map((k) => k.split('.')[0]),
  );
  const flat = new Map<string, unknown>();
  const visit = (table: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(table)) {
      const key = prefix + name;
      if (prefix === '' && tables.has(name)) {
        if (!isTable(value))
          throw new ConfigError(`config: ${key} must be a table ([${key}]) in ${file}`);
        visit(value, `${key}.`);
      } else if (known.has(key)) {
        flat.set(key, value);
      } else {
        throw new ConfigError(`config: unknown key '${key}' in ${file}`);
      }
    }
  };
  visit(doc, '');
  return flat;
}

// ---- loading ----

export function loadConfig(input: ConfigInput): HangarConfig {
  const cwd = input.cwd ?? process.cwd();
  const config = defaultConfig(cwd);
  let inlineExplicit =
    (input.env.HANGAR_INLINE_BYTES_MAX ?? '') !== '' ||
    input.flags['inline-bytes-max'] !== undefined;

  const file = configFilePath(input, cwd);
  if (file !== null) {
    const { data_dirs: rawDirs, tiers: rawTiers, cluster: rawCluster, ...doc } = readToml(file);
    config.storage = storageOf(rawDirs, rawTiers, dirname(file));
    config.cluster = rawCluster === undefined ? null : clusterOf(rawCluster, dirname(file), file);
    const values = flattenToml(doc, file);
    inlineExplicit ||= values.has('inline_bytes_max');
    const source: Source = { label: `file ${file}`, base: dirname(file), text: false };
    for (const f of FIELDS) {
      if (values.has(f.key)) applyField(config, f, values.get(f.key), source);
    }
  }

  for (const f of FIELDS) {
    const raw = input.env[f.env];
    // An empty variable counts as unset, except for lists where it means "none".
    if (raw === undefined || (raw === '' && !f.key.endsWith('.root_domains'))) continue;
    applyField(config, f, raw, { label: `env ${f.env}`, base: cwd, text: true });
  }

  for (const f of FIELDS) {
    if (f.flag === null) continue;
    const raw = input.flags[f.flag];
    if (raw === undefined) continue;
    applyField(config, f, raw, { label: `flag --${f.flag}`, base: cwd, text: true });
  }

  // The default inline limit follows a smaller block size; one set explicitly is checked.
  if (!inlineExplicit) config.inlineBytesMax = Math.min(config.inlineBytesMax, config.blockBytes);
  checkConsistency(config);
  return config;
}

function storageOf(rawDirs: unknown, rawTiers: unknown, base: string): StorageConfig {
  try {
    return parseStorage(rawDirs, rawTiers, base);
  } catch (error) {
    if (error instanceof StorageConfigError) throw new ConfigError(error.message);
    throw error;
  }
}

/** Reads the `[cluster]` section of `file`. */
export function clusterOf(raw: unknown, base: string, file: string): ClusterConfig {
  try {
    return parseClusterSection(raw, base);
  } catch (error) {
    if (error instanceof ClusterValueError)
      throw new ConfigError(`config: ${error.message} in ${file}`);
    throw error;
  }
}

function checkConsistency(config: HangarConfig): void {
  if ((config.tls.certFile === null) !== (config.tls.keyFile === null)) {
    const missing = config.tls.certFile === null ? 'tls.cert_file' : 'tls.key_file';
    throw new ConfigError(
      `config: ${missing} must be set too (tls.cert_file and tls.key_file go together)`,
    );
  }
  if (config.inlineBytesMax > config.blockBytes) {
    throw new ConfigError(
      `config: inline_bytes_max must be at most block_bytes (${config.blockBytes}) (got ${config.inlineBytesMax})`,
    );
  }
  if ((config.rootAccessKey === null) !== (config.rootSecretKey === null)) {
    const missing =
      config.rootAccessKey === null ? 'HANGAR_ROOT_ACCESS_KEY' : 'HANGAR_ROOT_SECRET_KEY';
    throw new ConfigError(
      `config: ${missing} must be set too (root_access_key and root_secret_key go together)`,
    );
  }
}

/** The certificate and key every port serves, or null when hangar speaks plain HTTP. */
export function tlsFilesOf(config: HangarConfig): TlsFiles | null {
  const { certFile, keyFile } = config.tls;
  return certFile === null || keyFile === null ? null : { certFile, keyFile };
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** The configuration for logs: secrets redacted. */
export function describeConfig(c: HangarConfig): Record<string, unknown> {
  return {
    dataDir: c.dataDir,
    s3: { ...c.s3, rootDomains: [...c.s3.rootDomains] },
    tls: { ...c.tls },
    sse: { ...c.sse },
    web: { ...c.web, rootDomains: [...c.web.rootDomains] },
    admin: {
      host: c.admin.host,
      port: c.admin.port,
      adminToken: c.admin.adminToken === null ? null : '<redacted>',
      metricsToken: c.admin.metricsToken === null ? null : '<redacted>',
      consoleOrigins: [...c.admin.consoleOrigins],
    },
    notify: {
      targets: c.notify.targets.map((t) => ({
        name: t.name,
        kind: t.kind,
        url: t.url,
        signed: t.secret !== null,
        ...(t.subject !== null ? { subject: t.subject } : {}),
      })),
    },
    ...(c.storage.dataDirs.length > 0 ? { storage: c.storage } : {}),
    ...(c.cluster === null ? {} : { cluster: c.cluster }),
    shards: c.shards ?? 'auto',
    edgeThreads: c.edgeThreads ?? 'auto',
    blockBytes: c.blockBytes,
    inlineBytesMax: c.inlineBytesMax,
    blockCompression: c.blockCompression,
    durability: c.durability,
    logLevel: c.logLevel,
    logFormat: c.logFormat,
    rootAccessKey: c.rootAccessKey,
    rootSecretKey: c.rootSecretKey === null ? null : '<redacted>',
    ...(c.clockOffsetMs === 0 ? {} : { clockOffsetMs: c.clockOffsetMs }),
    ...(c.restoreDelayMs === null ? {} : { restoreDelayMs: c.restoreDelayMs }),
  };
}
