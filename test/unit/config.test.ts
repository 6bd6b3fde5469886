import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  ConfigError,
  type ConfigInput,
  describeConfig,
  type HangarConfig,
  loadConfig,
} from '../../engine/config.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hangar-config-'));
}

function load(cwd: string, more: Partial<ConfigInput> = {}): HangarConfig {
  return loadConfig({ env: {}, flags: {}, cwd, ...more });
}

function expectError(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  ...parts: string[]
): void {
  const error = t.throws(fn, { instanceOf: ConfigError });
  for (const part of parts)
    t.true(error?.message.includes(part), `'${error?.message}' names ${part}`);
}

test('defaults', (t) => {
  const dir = tempDir();
  t.deepEqual(load(dir), {
    dataDir: join(dir, 'data'),
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
    blockBytes: 1024 * 1024,
    inlineBytesMax: 256 * 1024,
    blockCompression: 'none',
    durability: 'fsync',
    edgeThreads: null,
    logLevel: 'info',
    logFormat: 'auto',
    rootAccessKey: null,
    rootSecretKey: null,
    clockOffsetMs: 0,
    restoreDelayMs: null,
    kvStrict: false,
  });
});

test('web endpoint keys: env and flags, port 0, empty domain list, validation', (t) => {
  const dir = tempDir();
  const fromEnv = load(dir, {
    env: {
      HANGAR_WEB_HOST: '::',
      HANGAR_WEB_PORT: '0',
      HANGAR_WEB_ROOT_DOMAINS: 'Web.Example.com, .sites.test',
    },
  });
  t.deepEqual(fromEnv.web, { host: '::', port: 0, rootDomains: ['web.example.com', 'sites.test'] });
  const fromFlags = load(dir, {
    env: { HANGAR_WEB_PORT: '4000' },
    flags: { 'web-port': '5000', 'web-host': '0.0.0.0', 'web-root-domains': 'a.test' },
  });
  t.deepEqual(fromFlags.web, { host: '0.0.0.0', port: 5000, rootDomains: ['a.test'] });
  t.deepEqual(load(dir, { env: { HANGAR_WEB_ROOT_DOMAINS: '' } }).web.rootDomains, []);
  expectError(t, () => load(dir, { flags: { 'web-port': '65536' } }), 'web.port', '--web-port');
  expectError(
    t,
    () => load(dir, { env: { HANGAR_WEB_ROOT_DOMAINS: 'bad_domain' } }),
    'web.root_domains',
  );
});

test('tls keys: env and flags, paths resolved, cert and key go together', (t) => {
  const dir = tempDir();
  const fromEnv = load(dir, {
    env: { HANGAR_TLS_CERT_FILE: 'cert.pem', HANGAR_TLS_KEY_FILE: '/k/key.pem' },
  });
  t.deepEqual(fromEnv.tls, { certFile: join(dir, 'cert.pem'), keyFile: '/k/key.pem' });
  const fromFlags = load(dir, {
    env: { HANGAR_TLS_CERT_FILE: 'env-cert.pem', HANGAR_TLS_KEY_FILE: 'env-key.pem' },
    flags: { 'tls-cert-file': '/c.pem', 'tls-key-file': '/k.pem' },
  });
  t.deepEqual(fromFlags.tls, { certFile: '/c.pem', keyFile: '/k.pem' });
  expectError(
    t,
    () => load(dir, { env: { HANGAR_TLS_CERT_FILE: 'cert.pem' } }),
    'tls.key_file must be set too',
  );
  expectError(
    t,
    () => load(dir, { flags: { 'tls-key-file': 'key.pem' } }),
    'tls.cert_file must be set too',
  );
});

test('s3.allow_sse_c_over_http: a boolean from env, flags and file', (t) => {
  const dir = tempDir();
  t.true(load(dir, { env: { HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'yes' } }).s3.allowSseCOverHttp);
  t.false(
    load(dir, {
      env: { HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'true' },
      flags: { 's3-allow-sse-c-over-http': '0' },
    }).s3.allowSseCOverHttp,
  );
  expectError(
    t,
    () => load(dir, { env: { HANGAR_S3_ALLOW_SSE_C_OVER_HTTP: 'maybe' } }),
    's3.allow_sse_c_over_http',
    'HANGAR_S3_ALLOW_SSE_C_OVER_HTTP',
  );
  writeFileSync(join(dir, 'hangar.toml'), '[s3]\nallow_sse_c_over_http = "true"\n');
  expectError(t, () => load(dir), 's3.allow_sse_c_over_http must be true or false');
});

test('s3.signature_v2: on by default, a boolean from env, flags and file', (t) => {
  const dir = tempDir();
  t.true(load(dir).s3.signatureV2);
  t.false(load(dir, { env: { HANGAR_S3_SIGNATURE_V2: 'false' } }).s3.signatureV2);
  t.true(
    load(dir, {
      env: { HANGAR_S3_SIGNATURE_V2: 'no' },
      flags: { 's3-signature-v2': 'true' },
    }).s3.signatureV2,
  );
  expectError(
    t,
    () => load(dir, { env: { HANGAR_S3_SIGNATURE_V2: 'v4' } }),
    's3.signature_v2',
    'HANGAR_S3_SIGNATURE_V2',
  );
});

test('reads ./hangar.toml when present, with every key', (t) => {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'hangar.toml'),
    `data_dir = "/srv/hangar"
shards = 4
edge_threads = 3
block_bytes = "4MiB"
inline_bytes_max = 4096
block_compression = "zstd"
durability = "relaxed"
log_level = "debug"
log_format = "pretty"

[s3]
host = "0.0.0.0"
port = 9000
region = "eu-west-1"
root_domains = ["s3.example.com", ".S3.Other.org"]
allow_sse_c_over_http = true
signature_v2 = false

[tls]
cert_file = "tls/cert.pem"
key_file = "/etc/hangar/key.pem"

[sse]
master_key_file = "keys/sse-master.key"

[web]
host = "0.0.0.0"
port = 9002
root_domains = ["web.example.com"]

[admin]
host = "0.0.0.0"
port = 9003
admin_token = "file-admin-token"
console_origins = ["https://console.example.com"]
metrics_token = "file-metrics-token"

[notify]
targets = ["hook=https://hooks.example.com/s3#hmac=s3cr3t", "bus=nats://127.0.0.1:4222/s3.events"]
`,
  );
  const config = load(dir);
  t.deepEqual(config, {
    dataDir: '/srv/hangar',
    s3: {
      host: '0.0.0.0',
      port: 9000,
      region: 'eu-west-1',
      rootDomains: ['s3.example.com', 's3.other.org'],
      allowSseCOverHttp: true,
      signatureV2: false,
    },
    tls: { certFile: join(dir, 'tls/cert.pem'), keyFile: '/etc/hangar/key.pem' },
    sse: { masterKeyFile: join(dir, 'keys/sse-master.key') },
    web: { host: '0.0.0.0', port: 9002, rootDomains: ['web.example.com'] },
    admin: {
      host: '0.0.0.0',
      port: 9003,
      adminToken: 'file-admin-token',
      metricsToken: 'file-metrics-token',
      consoleOrigins: ['https://console.example.com'],
    },
    notify: {
      targets: [
        {
          name: 'hook',
          kind: 'webhook',
          url: 'https://hooks.example.com/s3',
          secret: 's3cr3t',
          subject: null,
        },
        {
          name: 'bus',
          kind: 'nats',
          url: 'nats://127.0.0.1:4222',
          secret: null,
          subject: 's3.events',
        },
      ],
    },
    storage: { dataDirs: [], tiers: [] },
    cluster: null,
    shards: 4,
    blockBytes: 4 * 1024 * 1024,
    inlineBytesMax: 4096,
    blockCompression: 'zstd',
    durability: 'relaxed',
    edgeThreads: 3,
    logLevel: 'debug',
    logFormat: 'pretty',
    rootAccessKey: null,
    rootSecretKey: null,
    clockOffsetMs: 0,
    restoreDelayMs: null,
    kvStrict: false,
  });
});

test('precedence: defaults < file < env < flags', (t) => {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'hangar.toml'),
    'log_level = "warn"\nshards = 2\n[s3]\nport = 1000\nhost = "::"\n',
  );
  const fileOnly = load(dir);
  t.is(fileOnly.s3.port, 1000);
  t.is(fileOnly.s3.region, 'us-east-1');

  const env = { HANGAR_S3_PORT: '2000', HANGAR_SHARDS: '3', HANGAR_LOG_LEVEL: 'error' };
  const withEnv = load(dir, { env });
  t.is(withEnv.s3.port, 2000);
  t.is(withEnv.shards, 3);
  t.is(withEnv.s3.host, '::');

  const withFlags = load(dir, { env, flags: { 's3-port': '3000', 'log-level': 'trace' } });
  t.is(withFlags.s3.port, 3000);
  t.is(withFlags.logLevel, 'trace');
  t.is(withFlags.shards, 3);
  t.is(withFlags.s3.host, '::');
});

test('config file choice: input.file > flags.config > HANGAR_CONFIG > ./hangar.toml', (t) => {
  const dir = tempDir();
  for (const [name, port] of [
    ['hangar.toml', 1],
    ['env.toml', 2],
    ['flag.toml', 3],
    ['input.toml', 4],
  ] as const) {
    writeFileSync(join(dir, name), `[s3]\nport = ${port}\n`);
  }
  t.is(load(dir).s3.port, 1);
  t.is(load(dir, { env: { HANGAR_CONFIG: 'env.toml' } }).s3.port, 2);
  t.is(
    load(dir, { env: { HANGAR_CONFIG: 'env.toml' }, flags: { config: 'flag.toml' } }).s3.port,
    3,
  );
  t.is(
    load(dir, {
      file: join(dir, 'input.toml'),
      env: { HANGAR_CONFIG: 'env.toml' },
      flags: { config: 'flag.toml' },
    }).s3.port,
    4,
  );
});

test('a named config file must exist', (t) => {
  const dir = tempDir();
  expectError(
    t,
    () => load(dir, { flags: { config: 'missing.toml' } }),
    'config file',
    'missing.toml',
  );
});

test('paths: data_dir in the file is relative to the file, elsewhere to the cwd', (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'h.toml'), 'data_dir = "../var/data"\n');
  t.is(load(dir, { flags: { config: 'etc/h.toml' } }).dataDir, join(dir, 'var', 'data'));
  t.is(load(dir, { env: { HANGAR_DATA_DIR: 'x' } }).dataDir, join(dir, 'x'));
  t.is(load(dir, { flags: { 'data-dir': 'y' } }).dataDir, join(dir, 'y'));
});

test('unknown keys in the file are rejected by name', (t) => {
  const dir = tempDir();
  const cases: Array<[string, string]> = [
    ['data_dri = "/x"\n', 'data_dri'],
    ['[s3]\nhots = "x"\n', 's3.hots'],
    ['[s4]\nhost = "x"\n', 's4'],
    ['root_secret_key = "abcdefgh"\n', 'root_secret_key'],
    ['s3 = 5\n', 's3'],
  ];
  for (const [text, key] of cases) {
    writeFileSync(join(dir, 'hangar.toml'), text);
    expectError(t, () => load(dir), key);
  }
});

test('invalid TOML names the file', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'hangar.toml'), 'shards = = 3\n');
  expectError(t, () => load(dir), join(dir, 'hangar.toml'), 'line 1');
});

// [toml key, env var, flag, bad value]: each bad value must fail from every source, naming the key.
const BAD_VALUES: Array<[string, string, string | null, string, unknown]> = [
  ['data_dir', 'HANGAR_DATA_DIR', 'data-dir', ' ', 5],
  ['s3.host', 'HANGAR_S3_HOST', 's3-host', ' ', 5],
  ['s3.port', 'HANGAR_S3_PORT', 's3-port', 'abc', -1],
  ['s3.port', 'HANGAR_S3_PORT', 's3-port', '65536', 65536],
  ['s3.port', 'HANGAR_S3_PORT', 's3-port', '80.5', 80.5],
  ['s3.region', 'HANGAR_S3_REGION', 's3-region', ' ', true],
  ['s3.root_domains', 'HANGAR_S3_ROOT_DOMAINS', 's3-root-domains', 'a_b.com', ['ok.com', 7]],
  ['shards', 'HANGAR_SHARDS', 'shards', '0', 257],
  ['shards', 'HANGAR_SHARDS', 'shards', 'many', -1],
  ['block_bytes', 'HANGAR_BLOCK_BYTES', 'block-bytes', '32KiB', 128 * 1024 * 1024],
  ['block_bytes', 'HANGAR_BLOCK_BYTES', 'block-bytes', '100000', 3 * 1024 * 1024],
  ['block_bytes', 'HANGAR_BLOCK_BYTES', 'block-bytes', '1 parsec', '1 parsec'],
  ['inline_bytes_max', 'HANGAR_INLINE_BYTES_MAX', 'inline-bytes-max', '-1', -1],
  ['block_compression', 'HANGAR_BLOCK_COMPRESSION', null, 'lz4', 'gzip'],
  ['durability', 'HANGAR_DURABILITY', 'durability', 'sometimes', 1],
  ['log_format', 'HANGAR_LOG_FORMAT', 'log-format', 'fancy', 'fancy'],
  ['edge_threads', 'HANGAR_EDGE_THREADS', 'edge-threads', '0', 257],
  ['log_level', 'HANGAR_LOG_LEVEL', 'log-level', 'loud', 'loud'],
];

for (const [key, envVar, flag, text, tomlValue] of BAD_VALUES) {
  test(`bad ${key} = ${JSON.stringify(text)} / ${JSON.stringify(tomlValue)} is rejected by name`, (t) => {
    const dir = tempDir();
    expectError(t, () => load(dir, { env: { [envVar]: text } }), `config: ${key} `, envVar);
    if (flag !== null) {
      expectError(t, () => load(dir, { flags: { [flag]: text } }), `config: ${key} `, `--${flag}`);
    }
    const [table, name] = key.includes('.') ? key.split('.') : [null, key];
    const line = `${name} = ${JSON.stringify(tomlValue)}\n`;
    writeFileSync(join(dir, 'hangar.toml'), table === null ? line : `[${table}]\n${line}`);
    expectError(t, () => load(dir), `config: ${key} `, 'hangar.toml');
  });
}

test('inline_bytes_max may not exceed block_bytes', (t) => {
  const dir = tempDir();
  const env = { HANGAR_BLOCK_BYTES: '64KiB', HANGAR_INLINE_BYTES_MAX: '65537' };
  expectError(t, () => load(dir, { env }), 'inline_bytes_max', 'block_bytes');
  t.is(load(dir, { env: { ...env, HANGAR_INLINE_BYTES_MAX: '64k' } }).inlineBytesMax, 65536);
  t.is(load(dir, { env: { HANGAR_INLINE_BYTES_MAX: '0' } }).inlineBytesMax, 0);
  // The default (256 KiB) follows a smaller block size instead of refusing it.
  t.is(load(dir, { env: { HANGAR_BLOCK_BYTES: '64KiB' } }).inlineBytesMax, 65536);
});

test('root keys come from the environment, in pairs, and are validated', (t) => {
  const dir = tempDir();
  const config = load(dir, {
    env: { HANGAR_ROOT_ACCESS_KEY: 'ROOTKEY01', HANGAR_ROOT_SECRET_KEY: 's3cr3t-s3cr3t' },
  });
  t.is(config.rootAccessKey, 'ROOTKEY01');
  t.is(config.rootSecretKey, 's3cr3t-s3cr3t');
  expectError(
    t,
    () => load(dir, { env: { HANGAR_ROOT_ACCESS_KEY: 'ROOTKEY01' } }),
    'HANGAR_ROOT_SECRET_KEY',
  );
  expectError(
    t,
    () => load(dir, { env: { HANGAR_ROOT_SECRET_KEY: 's3cr3t-s3cr3t' } }),
    'HANGAR_ROOT_ACCESS_KEY',
  );
  expectError(
    t,
    () =>
      load(dir, {
        env: { HANGAR_ROOT_ACCESS_KEY: 'bad key!', HANGAR_ROOT_SECRET_KEY: 's3cr3t-s3cr3t' },
      }),
    'root_access_key',
    'HANGAR_ROOT_ACCESS_KEY',
  );
  const error = t.throws(
    () =>
      load(dir, { env: { HANGAR_ROOT_ACCESS_KEY: 'ROOTKEY01', HANGAR_ROOT_SECRET_KEY: 'short' } }),
    { instanceOf: ConfigError },
  );
  t.regex(error?.message ?? '', /root_secret_key/);
  t.false(error?.message.includes('short'), 'the secret is not echoed');
});

test('text sources: comma lists, auto shards, size units, case, empty variables', (t) => {
  const dir = tempDir();
  const config = load(dir, {
    env: {
      HANGAR_S3_ROOT_DOMAINS: 's3.a.com, S3.B.com,,',
      HANGAR_SHARDS: 'auto',
      HANGAR_BLOCK_BYTES: '64 MiB',
      HANGAR_DURABILITY: 'Relaxed',
      HANGAR_S3_HOST: '',
    },
  });
  t.deepEqual(config.s3.rootDomains, ['s3.a.com', 's3.b.com']);
  t.is(config.shards, null);
  t.is(config.blockBytes, 64 * 1024 * 1024);
  t.is(config.durability, 'relaxed');
  t.is(config.s3.host, '127.0.0.1', 'an empty variable counts as unset');
  t.deepEqual(load(dir, { env: { HANGAR_S3_ROOT_DOMAINS: '' } }).s3.rootDomains, []);
  t.is(load(dir, { flags: { shards: '256' } }).shards, 256);
});

test('notify.targets: env list, validation without echoing secrets, redacted', (t) => {
  const dir = tempDir();
  const config = load(dir, {
    env: { HANGAR_NOTIFY_TARGETS: 'a=http://127.0.0.1:9/x#hmac=topsecret-hook; b=nats://h:4222/s' },
  });
  t.deepEqual(
    config.notify.targets.map((target) => [target.name, target.kind, target.url, target.subject]),
    [
      ['a', 'webhook', 'http://127.0.0.1:9/x', null],
      ['b', 'nats', 'nats://h:4222', 's'],
    ],
  );
  t.is(config.notify.targets[0]?.secret, 'topsecret-hook');
  t.false(JSON.stringify(describeConfig(config)).includes('topsecret-hook'));
  for (const bad of [
    'noequals',
    'a=ftp://x/y',
    'a=nats://h:4222/',
    'a=http://h/#other=1',
    'a=http://h/ a=http://g/',
    'bad name=http://h/',
  ]) {
    const error = t.throws(() =>
      load(dir, { env: { HANGAR_NOTIFY_TARGETS: `${bad}#hmac=zz-secret` } }),
    );
    t.regex(error?.message ?? '', /notify\.targets/, bad);
    t.false(error?.message.includes('zz-secret'), bad);
  }
});

test('describeConfig redacts the secret key', (t) => {
  const dir = tempDir();
  const config = load(dir, {
    env: { HANGAR_ROOT_ACCESS_KEY: 'ROOTKEY01', HANGAR_ROOT_SECRET_KEY: 'topsecret-value' },
  });
  const described = describeConfig(config);
  t.false(JSON.stringify(described).includes('topsecret-value'));
  t.is(described.rootAccessKey, 'ROOTKEY01');
  t.is(described.shards, 'auto');
});

test('admin keys: env and flags, port 0, tokens validated without echo, redacted', (t) => {
  const dir = tempDir();
  const config = load(dir, {
    env: {
      HANGAR_ADMIN_PORT: '0',
      HANGAR_ADMIN_TOKEN: 'env-admin-token-123',
      HANGAR_METRICS_TOKEN: 'env-metrics-token-123',
    },
    flags: { 'admin-port': '4903' },
  });
  t.is(config.admin.port, 4903);
  t.is(config.admin.adminToken, 'env-admin-token-123');
  t.is(config.admin.metricsToken, 'env-metrics-token-123');
  t.is(load(dir, { env: { HANGAR_ADMIN_PORT: '0' } }).admin.port, 0);
  const error = t.throws(() => load(dir, { env: { HANGAR_ADMIN_TOKEN: 'short s' } }));
  t.regex(error?.message ?? '', /admin\.admin_token/);
  t.notRegex(error?.message ?? '', /short s/);
  const described = JSON.stringify(describeConfig(config));
  t.notRegex(described, /env-admin-token|env-metrics-token/);
  t.regex(described, /<redacted>/);
});
