import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import test from 'ava';
import { Daemon, freePort } from '../helpers/daemon.js';
import { scopedBucket } from '../helpers/scoped.js';
import { REGION, TestServer } from '../helpers/server.js';
import { MiB, type Run, runTool, treeDigest } from '../helpers/tree.js';

// Turborepo's remote cache in front of hangar: the `turbo` CLI (the prebuilt binary npm ships in
// @turbo/linux-64) talks to `turborepo-remote-cache` (fastify + @aws-sdk/client-s3 and
// lib-storage, path-style), which keeps each task's artifact as `<team>/<hash>` in a bucket only its
// own key may read and write.

const require = createRequire(import.meta.url);
const TURBO = join(dirname(require.resolve('turbo/package.json')), 'bin', 'turbo');
const CACHE_SERVER = join(
  dirname(require.resolve('turborepo-remote-cache/package.json')),
  'dist',
  'cli.js',
);
const BUCKET = 'turbo-cache';
const TEAM = 'hangar-team';
const TOKEN = 'turbo-token-0123456789';

let server: TestServer;
let cache: Daemon | undefined;
let work: string;
let credentials: { accessKeyId: string; secretAccessKey: string };
let cachePort: number;

test.before(async () => {
  server = await TestServer.start();
  work = mkdtempSync(join(tmpdir(), 'hangar-turbo-'));
  credentials = await scopedBucket(server, BUCKET);
  cachePort = await freePort();
  cache = await Daemon.start(
    process.execPath,
    [CACHE_SERVER],
    {
      HOME: work,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(cachePort),
      TURBO_TOKEN: TOKEN,
      STORAGE_PROVIDER: 's3',
      STORAGE_PATH: BUCKET,
      S3_ACCESS_KEY: credentials.accessKeyId,
      S3_SECRET_KEY: credentials.secretAccessKey,
      S3_REGION: REGION,
      S3_ENDPOINT: server.endpoint,
    },
    /Server listening at/,
  );
});
test.after.always(async () => {
  await cache?.stop();
  await server?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

const NPM_VERSION = execFileSync('npm', ['--version'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'ignore'],
}).trim();

/**
 * A two-package npm workspace. `alpha` builds 6 MiB of incompressible bytes (its artifact crosses
 * lib-storage's 5 MiB part size, so it is uploaded as a multipart upload), `beta` a small text file
 * and a nested one. Both builds are deterministic.
 */
function writeWorkspace(root: string): void {
  const json = (path: string, value: unknown): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${JSON.stringify(value, null, 2)}\n`);
  };
  json('package.json', {
    name: 'hangar-turbo-ws',
    private: true,
    packageManager: `npm@${NPM_VERSION}`,
    workspaces: ['packages/*'],
  });
  json('package-lock.json', {
    name: 'hangar-turbo-ws',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'hangar-turbo-ws', workspaces: ['packages/*'] },
      'node_modules/alpha': { resolved: 'packages/alpha', link: true },
      'node_modules/beta': { resolved: 'packages/beta', link: true },
      'packages/alpha': { version: '1.0.0' },
      'packages/beta': { version: '1.0.0' },
    },
  });
  json('turbo.json', {
    $schema: 'https://turborepo.com/schema.json',
    tasks: { build: { outputs: ['dist/**'] } },
  });
  for (const name of ['alpha', 'beta'])
    json(`packages/${name}/package.json`, {
      name,
      version: '1.0.0',
      private: true,
      scripts: { build: 'node build.js' },
    });
  writeFileSync(
    join(root, 'packages/alpha/build.js'),
    `const fs = require('node:fs');
const out = Buffer.alloc(${6 * MiB});
let x = 2463534242;
for (let i = 0; i < out.length; i++) {
  x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
  out[i] = x & 0xff;
}
fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync('dist/blob.bin', out);
console.log('alpha built', out.length, 'bytes');
`,
  );
  writeFileSync(
    join(root, 'packages/beta/build.js'),
    `const fs = require('node:fs');
fs.mkdirSync('dist/nested', { recursive: true });
fs.writeFileSync('dist/index.js', 'export const beta = ' + JSON.stringify('beta '.repeat(200)) + ';\\n');
fs.writeFileSync('dist/nested/empty.txt', '');
console.log('beta built');
`,
  );
}

function turbo(cwd: string, ...args: string[]): Promise<Run> {
  return runTool(
    TURBO,
    [
      'run',
      'build',
      `--api=http://127.0.0.1:${cachePort}`,
      `--token=${TOKEN}`,
      `--team=${TEAM}`,
      '--no-update-notifier',
      '--no-color',
      `--cwd=${cwd}`,
      ...args,
    ],
    {
      HOME: join(work, 'home'),
      XDG_CONFIG_HOME: join(work, 'home', '.config'),
      XDG_CACHE_HOME: join(work, 'home', '.cache'),
      TURBO_TELEMETRY_DISABLED: '1',
      DO_NOT_TRACK: '1',
      TURBO_NO_UPDATE_NOTIFIER: '1',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_offline: 'true',
      NO_COLOR: '1',
    },
    120_000,
  );
}

function dist(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of ['alpha', 'beta'])
    for (const [path, digest] of treeDigest(join(root, 'packages', name, 'dist')))
      out.set(`${name}/${path}`, digest);
  return out;
}

/** "alpha:build: cache miss, executing 0123abcd…" → { alpha: '0123abcd…' } */
function taskHashes(output: string, status: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const match = /^(\w+):build: (.+?) ([0-9a-f]{16})\s*$/.exec(line);
    if (match?.[1] && match[2] && match[3] && status.test(match[2])) out[match[1]] = match[3];
  }
  return out;
}

test('turbo run build uploads to turborepo-remote-cache on hangar and a clean checkout restores it', async (t) => {
  t.timeout(240_000);
  const first = join(work, 'first');
  writeWorkspace(first);
  mkdirSync(join(work, 'home'), { recursive: true });

  // Run 1: nothing cached; both tasks execute and their artifacts are uploaded (remote only).
  const run1 = await turbo(first, '--cache=local:,remote:rw');
  const log1 = `${run1.stdout}\n${run1.stderr}`;
  t.is(run1.code, 0, `${log1}\ncache server:\n${cache?.log}\nhangar:\n${server.log}`);
  t.regex(log1, /Remote caching enabled/);
  t.regex(log1, /Cached:\s+0 cached, 2 total/);
  const missed = taskHashes(log1, /^cache miss, executing$/);
  t.deepEqual(Object.keys(missed).sort(), ['alpha', 'beta'], log1);
  const built = dist(first);
  t.is(built.size, 3);
  t.regex(built.get('alpha/blob.bin') ?? '', new RegExp(`^${6 * MiB}:`));

  // The artifacts are objects `<team>/<hash>` in the cache's bucket, read with the cache's key.
  const s3 = server.client(credentials);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const keys = (listed.Contents ?? []).map((o) => o.Key).sort();
  t.deepEqual(keys, [`${TEAM}/${missed['alpha']}`, `${TEAM}/${missed['beta']}`].sort());
  const alphaArtifact = await s3.send(
    new HeadObjectCommand({ Bucket: BUCKET, Key: `${TEAM}/${missed['alpha']}` }),
  );
  // > 5 MiB of incompressible output: lib-storage's Upload sent it as a two-part multipart upload.
  t.true((alphaArtifact.ContentLength ?? 0) > 5 * MiB);
  t.regex(alphaArtifact.ETag ?? '', /^"[0-9a-f]{32}-2"$/);

  // Run 2: a fresh copy of the sources only (no dist/, no .turbo/), local cache off: every task is
  // a remote cache hit with the same hash, and the outputs are restored byte for byte.
  const second = join(work, 'second');
  writeWorkspace(second);
  const run2 = await turbo(second, '--cache=local:,remote:r');
  const log2 = `${run2.stdout}\n${run2.stderr}`;
  t.is(run2.code, 0, `${log2}\ncache server:\n${cache?.log}\nhangar:\n${server.log}`);
  t.deepEqual(taskHashes(log2, /^cache hit, replaying logs$/), missed, log2);
  t.regex(log2, /Cached:\s+2 cached, 2 total/);
  t.regex(log2, />>> FULL TURBO/);
  t.regex(log2, /alpha built 6291456 bytes/, 'replayed logs');
  t.deepEqual(dist(second), built);

  // Run 3: a fresh checkout with one changed source: beta misses, alpha still hits.
  const third = join(work, 'third');
  writeWorkspace(third);
  writeFileSync(join(third, 'packages/beta/README.md'), 'changed\n');
  const run3 = await turbo(third, '--cache=local:,remote:rw');
  const log3 = `${run3.stdout}\n${run3.stderr}`;
  t.is(run3.code, 0, log3);
  t.deepEqual(taskHashes(log3, /^cache hit, replaying logs$/), { alpha: missed['alpha'] }, log3);
  t.deepEqual(Object.keys(taskHashes(log3, /^cache miss, executing$/)), ['beta'], log3);
  t.deepEqual(dist(third), built);
});
