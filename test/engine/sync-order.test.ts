import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { TestServer } from '../helpers/server.js';

/**
 * Durability is an order of system calls, and a crash test cannot see it: `kill -9` leaves the
 * page cache intact, so a missing fsync passes. Here the server runs under strace during
 * concurrent PUTs (inline, medium inline and multi-block), a multipart upload and deletes, and the trace is
 * checked for every acknowledged request: each block file it wrote was fsynced, renamed into
 * place and its directory fsynced, and the LMDB commit holding its change was fdatasynced
 * (lmdb-js: page writes, fdatasync of data.mdb, then the meta page through an O_DSYNC fd), all
 * before the first byte of its response went to the socket.
 */

const MiB = 1024 * 1024;
/** engine/config.ts's default inline_bytes_max. */
const INLINE_BYTES_MAX = 256 * 1024;
const BUCKET = 'sync-order';
const TRACED = [
  'openat',
  'read',
  'recvfrom',
  'recvmsg',
  'write',
  'writev',
  'pwrite64',
  'pwritev',
  'sendto',
  'sendmsg',
  'fsync',
  'fdatasync',
  'msync',
  'sync_file_range',
  'rename',
  'renameat',
  'renameat2',
  'link',
  'linkat',
];

/**
 * Every flush is held 50 ms before it runs (strace fault injection), so a flush a request does
 * not wait for ends visibly after its answer: a fast disk (or tmpfs) would otherwise let a
 * background sync finish first by luck, and the order would look right without being enforced.
 */
const SLOWED = 'fsync,fdatasync,msync:delay_enter=50000';

// ---- the trace ----

/** One system call: its arguments (fds decoded to paths by -y) and where it began and ended. */
interface Call {
  name: string;
  args: string;
  result: string;
  /** Line of its entry, and of its return: the order strace saw them in (sound across threads). */
  start: number;
  end: number;
}

const COMPLETE = /^(\d+)\s+\S+\s+(\w+)\((.*)\)\s+=\s+(.*)$/;
const UNFINISHED = /^(\d+)\s+\S+\s+(\w+)\((.*) <unfinished \.\.\.>$/;
const RESUMED = /^(\d+)\s+\S+\s+<\.\.\. (\w+) resumed>(.*)$/;

function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, Call>();
  text.split('\n').forEach((line, index) => {
    const unfinished = UNFINISHED.exec(line);
    if (unfinished !== null) {
      const [, tid = '', name = '', args = ''] = unfinished;
      const call = { name, args, result: '', start: index, end: Number.POSITIVE_INFINITY };
      open.set(tid, call);
      calls.push(call);
      return;
    }
    const resumed = RESUMED.exec(line);
    if (resumed !== null) {
      const [, tid = '', , rest = ''] = resumed;
      const call = open.get(tid);
      if (call !== undefined) {
        const returned = /^(.*)\)\s+=\s+(.*)$/.exec(rest);
        call.end = index;
        call.args += returned?.[1] ?? rest;
        call.result = returned?.[2] ?? '';
        open.delete(tid);
      }
      return;
    }
    const complete = COMPLETE.exec(line);
    if (complete !== null) {
      const [, , name = '', args = '', result = ''] = complete;
      calls.push({ name, args, result, start: index, end: index });
    }
  });
  return calls;
}

/** The path strace -y printed for a call's first argument (its fd), or null. */
function fdPath(call: Call): string | null {
  return /^\d+<([^>]*)>/.exec(call.args)?.[1] ?? null;
}

// ---- what the client was told ----

/** An acknowledged request and what it must have made durable before its answer. */
interface Acked {
  label: string;
  requestId: string;
  /** Pieces of its request line, to find when it arrived. */
  requestLine: string[];
  /** Names of the block files its bytes went into. */
  blocks: string[];
  /** The object key whose LMDB record it wrote (null: a delete, or a part record). */
  keyInCommit: string | null;
  /** The key whose shard it commits on (the record of `keyInCommit`, or an earlier one's). */
  shardKey: string;
}

function blockNames(data: Buffer): string[] {
  const names: string[] = [];
  for (let offset = 0; offset < data.length; offset += MiB) {
    const block = data.subarray(offset, offset + MiB);
    names.push(createHash('sha256').update(block).digest('hex'));
  }
  return names;
}

// ---- the checks ----

class Checker {
  private readonly shardOfKey = new Map<string, string>();

  constructor(private readonly calls: Call[]) {}

  /** The problems found for one request (none: it was durable before its answer). */
  check(request: Acked): string[] {
    const answer = this.answerOf(request);
    if (answer === null) return [`${request.label}: its response is not in the trace`];
    const arrival = this.arrivalOf(request, answer);
    if (arrival === null) return [`${request.label}: its request is not in the trace`];
    const problems = request.blocks.flatMap((hash) => this.blockProblems(request, hash, answer));
    problems.push(...this.commitProblems(request, arrival, answer));
    return problems;
  }

  private answerOf(request: Acked): number | null {
    const marker = `x-amz-request-id: ${request.requestId}\\r\\n`;
    const sends = ['sendto', 'sendmsg', 'write', 'writev'];
    const call = this.calls.find((c) => sends.includes(c.name) && c.args.includes(marker));
    return call?.start ?? null;
  }

  private arrivalOf(request: Acked, answer: number): number | null {
    const reads = ['read', 'recvfrom', 'recvmsg'];
    const call = this.calls.find(
      (c) =>
        reads.includes(c.name) &&
        c.start < answer &&
        request.requestLine.every((piece) => c.args.includes(piece)),
    );
    return call?.end ?? null;
  }

  /** A block file: written, fsynced, renamed into place, its directory fsynced, then answered. */
  private blockProblems(request: Acked, hash: string, answer: number): string[] {
    const label = `${request.label} block ${hash.slice(0, 12)}`;
    // Its file is `<hash>`, or `<hash>.zst` when the store compressed it.
    const targets = [
      `/blocks/${hash.slice(0, 2)}/${hash}"`,
      `/blocks/${hash.slice(0, 2)}/${hash}.zst"`,
    ];
    const install = this.calls.find(
      (c) =>
        c.name.startsWith('rename') &&
        targets.some((target) => c.args.includes(target)) &&
        c.end < answer,
    );
    if (install === undefined) return [`${label}: not renamed into place before the answer`];
    const [temp, installed] = [...install.args.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
    if (temp === undefined || installed === undefined || !temp.endsWith('.tmp')) {
      return [`${label}: not renamed from a temp file (${install.args})`];
    }
    const problems: string[] = [];
    const writes = this.callsOn(temp, ['write', 'pwrite64', 'writev', 'pwritev']);
    const lastWrite = Math.max(...writes.map((c) => c.end));
    if (writes.length === 0) problems.push(`${label}: no write of its temp file seen`);
    const fsynced = this.callsOn(temp, ['fsync', 'fdatasync']).some(
      (c) => c.start > lastWrite && c.end < install.start,
    );
    if (!fsynced) problems.push(`${label}: temp file not fsynced between its writes and rename`);
    const dirPath = dirname(installed);
    const dirSynced = this.callsOn(dirPath, ['fsync', 'fdatasync']).some(
      (c) => c.start > install.end && c.end < answer,
    );
    if (!dirSynced) problems.push(`${label}: directory ${dirPath} not fsynced after the rename`);
    return problems;
  }

  /**
   * The LMDB commit of the request: a write of data.mdb pages (holding the key, when the request
   * wrote an object record) after the request arrived, then an fdatasync of that file, both
   * finished before the answer.
   */
  private commitProblems(request: Acked, arrival: number, answer: number): string[] {
    const label = `${request.label} commit`;
    const pageWrites = this.calls.filter(
      (c) =>
        ['write', 'pwrite64', 'writev', 'pwritev'].includes(c.name) &&
        fdPath(c)?.endsWith('/meta/data.mdb') === true &&
        c.start > arrival &&
        c.end < answer,
    );
    let candidates = pageWrites;
    if (request.keyInCommit !== null) {
      const key = request.keyInCommit;
      candidates = pageWrites.filter((c) => c.args.includes(key));
      const written = candidates.at(-1);
      if (written === undefined) return [`${label}: no data.mdb page with its key written`];
      this.shardOfKey.set(request.shardKey, fdPath(written) ?? '');
    } else {
      const shard = this.shardOfKey.get(request.shardKey);
      if (shard === undefined) return [`${label}: the shard of ${request.shardKey} is unknown`];
      candidates = pageWrites.filter((c) => fdPath(c) === shard);
      if (candidates.length === 0) return [`${label}: no data.mdb write on ${shard}`];
    }
    const synced = candidates.some((write) => this.committedBetween(write, answer));
    return synced ? [] : [`${label}: data.mdb not synced between its commit and the answer`];
  }

  /**
   * Whether the commit that wrote `write` was durable before `answer`: data.mdb fdatasynced
   * after the page write, then LMDB's meta page written through its O_DSYNC descriptor.
   */
  private committedBetween(write: Call, answer: number): boolean {
    const path = fdPath(write) ?? '';
    const dsyncFds = new Set(
      this.calls
        .filter((c) => c.name === 'openat' && c.args.includes(`"${path}"`))
        .filter((c) => c.args.includes('O_DSYNC'))
        .map((c) => /^(\d+)</.exec(c.result)?.[1]),
    );
    const metaWrites = this.callsOn(path, ['pwrite64', 'write']).filter((c) =>
      dsyncFds.has(/^(\d+)</.exec(c.args)?.[1]),
    );
    return this.callsOn(path, ['fdatasync', 'fsync', 'msync']).some(
      (sync) =>
        sync.start > write.end &&
        sync.end < answer &&
        metaWrites.some((meta) => meta.start > sync.end && meta.end < answer),
    );
  }

  private callsOn(path: string, names: readonly string[]): Call[] {
    return this.calls.filter((c) => names.includes(c.name) && fdPath(c) === path);
  }
}

// ---- the run ----

function straceAvailable(): boolean {
  return spawnSync('strace', ['-V']).status === 0;
}

/** Stops a server running under strace: its tracee first (SIGTERM), so strace ends with it. */
async function stopTraced(server: TestServer): Promise<void> {
  const strace = server.process.pid;
  const children = readFileSync(`/proc/${strace}/task/${strace}/children`, 'utf8').trim();
  const exited = new Promise((resolve) => server.process.once('exit', resolve));
  for (const pid of children.split(/\s+/).filter((p) => p !== '')) {
    process.kill(Number(pid), 'SIGTERM');
  }
  await exited;
}

/** Bytes of a large body: random, or (a compressing store's case) log-like text zstd shrinks. */
type BodyOf = (bytes: number) => Buffer;

function textBody(bytes: number): Buffer {
  const line = (n: number): string => `${n} ${randomBytes(3).toString('hex')} GET /object ok\n`;
  const lines: string[] = [];
  for (let n = 0, length = 0; length < bytes; n++) {
    lines.push(line(n));
    length += lines.at(-1)?.length ?? 0;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

const durableBeforeAnswer = test.macro(async (t, env: Record<string, string>, bodyOf: BodyOf) => {
  t.timeout(90_000);
  // CI installs strace (.ci/run); a machine without it must not pass this silently.
  if (!straceAvailable()) {
    t.fail('strace is not installed (apt-get install strace): the durability order is unproven');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'hangar-sync-order-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const tracePath = join(work, 'trace');
  const wrapper = ['strace', '-f', '-tt', '-y', '-s', '8192', '-o', tracePath];
  const server = await TestServer.start({
    shards: 2,
    env,
    // stopTraced ends the traced server itself (SIGTERM to the tracee, so strace ends with it).
    expectedLogErrors: [/hangar exited by itself \(code 0, signal null\)/],
    // '?': a name this architecture lacks (rename on arm64) is ignored, not an error.
    wrapper: [
      ...wrapper,
      '-e',
      `trace=${TRACED.map((n) => `?${n}`).join(',')}`,
      '-e',
      `inject=${SLOWED}`,
    ],
  });
  const s3 = server.client();
  const acked: Acked[] = [];
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const put = async (key: string, body: Buffer): Promise<void> => {
      const out = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      acked.push({
        label: `PUT ${key}`,
        requestId: out.$metadata.requestId ?? '',
        requestLine: [`"PUT /${BUCKET}/${key}?`],
        // Up to the default inline limit a body goes to LMDB (the bodies table) with its record:
        // its only sync is the commit's.
        blocks: body.length > INLINE_BYTES_MAX ? blockNames(body) : [],
        keyInCommit: key,
        shardKey: key,
      });
    };
    const inline = [
      ...Array.from({ length: 8 }, (_, i) => [`inline-${i}`, randomBytes(3000)] as const),
      ...Array.from({ length: 4 }, (_, i) => [`medium-${i}`, randomBytes(64 * 1024)] as const),
    ];
    const large = Array.from({ length: 5 }, (_, i) => [`large-${i}`, bodyOf(2.5 * MiB)] as const);
    await Promise.all([
      ...[...inline, ...large].map(([key, body]) => put(key, body)),
      multipart(s3, acked, bodyOf),
    ]);
    const deletes = [...inline.slice(0, 4), ...large.slice(0, 3)].map(async ([key]) => {
      const out = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      acked.push({
        label: `DELETE ${key}`,
        requestId: out.$metadata.requestId ?? '',
        requestLine: [`"DELETE /${BUCKET}/${key}?`],
        blocks: [],
        keyInCommit: null,
        shardKey: key,
      });
    });
    await Promise.all(deletes);
  } finally {
    s3.destroy();
    await stopTraced(server);
    await server.destroy();
  }
  const calls = parseTrace(readFileSync(tracePath, 'utf8'));
  const checker = new Checker(calls);
  // Deletes and parts find their shard through the record an earlier request wrote.
  const order = [...acked].sort(
    (a, b) => Number(a.keyInCommit === null) - Number(b.keyInCommit === null),
  );
  const problems = order.flatMap((request) => checker.check(request));
  t.deepEqual(problems, [], `${acked.length} requests checked`);
  t.is(acked.length, 12 + 5 + 4 + 7, 'every request was acknowledged and checked');
  const compressed = calls.some((c) => c.name.startsWith('rename') && /\.zst"/.test(c.args));
  t.is(compressed, env['HANGAR_BLOCK_COMPRESSION'] === 'zstd', 'blocks stored compressed or not');
});

test(
  'every acknowledged write is durable before its answer goes out',
  durableBeforeAnswer,
  {},
  (bytes) => randomBytes(bytes),
);

test(
  'with block_compression = "zstd" too (compressed blocks, same order)',
  durableBeforeAnswer,
  { HANGAR_BLOCK_COMPRESSION: 'zstd' },
  textBody,
);

/** A multipart upload of two parts (5 MiB and 1 MiB + 1), completed. */
async function multipart(
  s3: ReturnType<TestServer['client']>,
  acked: Acked[],
  bodyOf: BodyOf,
): Promise<void> {
  const key = 'multipart';
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  const uploadId = created.UploadId ?? '';
  acked.push({
    label: 'CreateMultipartUpload',
    requestId: created.$metadata.requestId ?? '',
    requestLine: [`"POST /${BUCKET}/${key}?`, 'uploads'],
    blocks: [],
    keyInCommit: key,
    shardKey: key,
  });
  const bodies = [bodyOf(5 * MiB), bodyOf(MiB + 1)];
  const parts = await Promise.all(
    bodies.map(async (body, index) => {
      const partNumber = index + 1;
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
        }),
      );
      acked.push({
        label: `UploadPart ${partNumber}`,
        requestId: out.$metadata.requestId ?? '',
        requestLine: [`"PUT /${BUCKET}/${key}?`, `partNumber=${partNumber}`],
        blocks: blockNames(body),
        keyInCommit: null,
        shardKey: key,
      });
      return { PartNumber: partNumber, ETag: out.ETag ?? '' };
    }),
  );
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  acked.push({
    label: 'CompleteMultipartUpload',
    requestId: completed.$metadata.requestId ?? '',
    requestLine: [`"POST /${BUCKET}/${key}?`, 'uploadId='],
    blocks: [],
    keyInCommit: key,
    shardKey: key,
  });
}
