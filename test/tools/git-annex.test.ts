import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import test from 'ava';
import { type ScopedBucket, scopedBucket } from '../helpers/scoped.js';
import { TestServer } from '../helpers/server.js';
import { NodeSha256 } from '../helpers/sign.js';
import { MiB, type Run, runTool, treeDigest, writeSeededFile } from '../helpers/tree.js';

// git-annex (Debian's 10.20230126) with an S3 special remote on a hangar bucket, through a key
// that may only read and write that bucket.
//
// git-annex's S3 library (aws 0.2x) has two limits with servers that are not AWS:
// - it signs SigV4 with `host:<host>` and no port, while its Host header carries the port, so any
//   port other than 80 fails with SignatureDoesNotMatch;
// - it signs for the region its endpoint's host name names (here the address itself), and this
//   version has no way to set another (initremote rejects `region=`).
// So this test serves hangar the way such a user must: on port 80 of a loopback address, with that
// address as hangar's region. Binding port 80 needs root (CI runs as root).

/** Debian's git (git-annex is a git subcommand; installed by .ci/run). */
const GIT = existsSync('/usr/bin/git') ? '/usr/bin/git' : 'git';

/** Why port 80 cannot be bound on `host`, or null if it can. */
function bindError(host: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    probe.listen(80, host, () => probe.close(() => resolve(null)));
  });
}

/** A loopback address whose port 80 is free, or why there is none. */
async function pickHost(): Promise<{ host: string } | { reason: string }> {
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const host = `127.0.0.${2 + Math.floor(Math.random() * 250)}`;
    const error = await bindError(host);
    if (error === null) return { host };
    if (error.code === 'EACCES' || error.code === 'EPERM')
      return { reason: `binding ${host}:80 is not permitted (${error.code}): run as root` };
    last = `${host}:80: ${error.code ?? error.message}`;
  }
  return { reason: `no free port 80 on a loopback address (last: ${last})` };
}

const picked = await pickHost();

let server: TestServer;
let work: string;
let scoped: ScopedBucket;
let host: string;

test.before(async () => {
  if (!('host' in picked)) return;
  host = picked.host;
  server = await TestServer.start({ host, port: 80, env: { HANGAR_S3_REGION: host } });
  work = mkdtempSync(join(tmpdir(), 'hangar-git-annex-'));
  scoped = await scopedBucket(server, 'annex-e2e');
});
test.after.always(async () => {
  await server?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

function git(repo: string, ...args: string[]): Promise<Run> {
  return runTool(GIT, ['-C', repo, ...args], {
    HOME: work,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'hangar',
    GIT_AUTHOR_EMAIL: 'hangar@example.com',
    GIT_COMMITTER_NAME: 'hangar',
    GIT_COMMITTER_EMAIL: 'hangar@example.com',
    AWS_ACCESS_KEY_ID: scoped.accessKeyId,
    AWS_SECRET_ACCESS_KEY: scoped.secretAccessKey,
  });
}

async function ok(repo: string, ...args: string[]): Promise<string> {
  const run = await git(repo, ...args);
  if (run.code !== 0)
    throw new Error(
      `git ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}\nserver log:\n${server.log}`,
    );
  return `${run.stdout}${run.stderr}`;
}

/** relative path → "size:sha256" of the annexed files as the work tree shows them. */
function worktreeDigest(repo: string, names: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of names) {
    const bytes = readFileSync(join(repo, name));
    out.set(name, `${bytes.length}:${sha256Hex(bytes)}`);
  }
  return out;
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * An SDK client with the scoped key that signs for region `host`: the SDK itself refuses a region
 * that is not a valid host name component, so the region is forced at signing time.
 */
function scopedClient(): S3Client {
  const credentials = { accessKeyId: scoped.accessKeyId, secretAccessKey: scoped.secretAccessKey };
  const signer = new SignatureV4({ credentials, region: host, service: 's3', sha256: NodeSha256 });
  return server.client(credentials, {
    signer: {
      sign: (request, options) => signer.sign(request, { ...options, signingRegion: host }),
    },
  });
}

const register = 'host' in picked ? test : test.skip;
if (!('host' in picked)) process.stderr.write(`git-annex test SKIPPED: ${picked.reason}\n`);

register(
  'git-annex initremote S3, copy --to, drop, get --from, fsck --from, drop --from',
  async (t) => {
    t.timeout(240_000);
    const files = join(work, 'files');
    writeSeededFile(join(files, 'big.bin'), 10 * MiB, 10_000);
    writeSeededFile(join(files, 'seven.bin'), 7 * MiB, 20_000);
    writeSeededFile(join(files, 'small.txt'), 100, 30_000);
    writeSeededFile(join(files, 'empty.txt'), 0, 40_000);
    writeSeededFile(join(files, 'sub dir/a+b é.txt'), 4096, 50_000);
    const expected = treeDigest(files);

    const repo = join(work, 'repo');
    await ok(work, 'init', '-q', repo);
    await ok(repo, 'annex', 'init', 'hangar-test');
    await ok(repo, 'config', 'annex.security.allowed-ip-addresses', host);
    await ok(
      repo,
      'annex',
      'initremote',
      'hangar',
      'type=S3',
      'encryption=none',
      `host=${host}`,
      'port=80',
      'protocol=http',
      'requeststyle=path',
      `bucket=${scoped.bucket}`,
      'signature=v4',
      'fileprefix=annex/',
      // git-annex cuts parts in whole 32 KiB - 16 B buffers: 6 MiB gives parts of 6,288,384
      // bytes (5 MiB would give 5,240,320, under S3's 5 MiB minimum: EntityTooSmall).
      'partsize=6MiB',
    );
    cpSync(files, repo, { recursive: true });
    await ok(repo, 'annex', 'add', '.');
    await ok(repo, 'commit', '-q', '-m', 'add files');

    await ok(repo, 'annex', 'copy', '--to', 'hangar', '.');
    const client = scopedClient();
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: scoped.bucket, Prefix: 'annex/' }),
    );
    // One object per annexed file, named by its key, beside git-annex's `annex-uuid` marker.
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
    t.is(keys.length, 6, keys.join('\n'));
    t.is(keys.pop(), 'annex/annex-uuid');
    const big = keys.find((k) => k.includes('-s10485760--')) ?? '';
    const head = await client.send(new HeadObjectCommand({ Bucket: scoped.bucket, Key: big }));
    t.is(head.ContentLength, 10 * MiB);
    t.regex(head.ETag ?? '', /-2"$/, '10 MiB in two 6 MiB parts');

    // Drop every local copy (git-annex first checks that hangar has each), then fetch them back.
    await ok(repo, 'annex', 'drop', '.');
    t.false(existsSync(join(repo, 'big.bin')), 'content dropped');
    await ok(repo, 'annex', 'get', '--from', 'hangar', '.');
    t.deepEqual(worktreeDigest(repo, expected.keys()), expected);

    // fsck downloads each object and checks its hash against its key.
    const fsck = await ok(repo, 'annex', 'fsck', '--from', 'hangar');
    t.notRegex(fsck, /failed/);

    // drop --from deletes the object from the bucket.
    await ok(repo, 'annex', 'drop', '--from', 'hangar', 'small.txt');
    const after = await client.send(
      new ListObjectsV2Command({ Bucket: scoped.bucket, Prefix: 'annex/' }),
    );
    t.is(after.Contents?.length, 5);
    t.false(after.Contents?.some((o) => o.Key?.includes('-s100--')));
    const whereis = await ok(repo, 'annex', 'whereis', 'small.txt');
    t.regex(whereis, /\(1 copy\)/);
    t.notRegex(whereis, /\[hangar\]/);
    t.notRegex(server.log, /internal error/, 'no request failed inside hangar');
  },
);
