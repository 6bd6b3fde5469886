import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { RadosCluster, RadosError } from '../../engine/blocks/rados/librados.js';
import {
  BlockNotFoundError,
  CorruptRadosBlockError,
  DEFAULT_BLOCK_POOL,
  RadosBlockStore,
} from '../../engine/blocks/rados/rados-block-store.js';
import { freePort } from '../helpers/daemon.js';

// The RADOS block store (issue 19) against a real one-node Ceph (test/peers/ceph-rgw.sh: one mon
// on 127.0.0.1:6789, one memstore OSD; from the Debian packages ceph-mon ceph-osd ceph-common).

const SCRIPT = fileURLToPath(new URL('../../../test/peers/ceph-rgw.sh', import.meta.url));
const MON_PORT = 6789;

/** Removed only after the cluster stopped (the script finds its daemons by their pid files). */
const cephDir = mkdtempSync(join(tmpdir(), 'hangar-rados-'));
const clusterDir = join(cephDir, 'cluster');
const confPath = join(clusterDir, 'ceph.conf');
let cephEnv: Record<string, string> | undefined;

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: cephEnv, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${command} ${args[0]}: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

test.before(async () => {
  cephEnv = {
    PATH: process.env['PATH'] ?? '',
    CEPH_DIR: clusterDir,
    PORT: String(await freePort()),
    MON_PORT: String(MON_PORT),
  };
  await run('bash', [SCRIPT, 'start']);
  await run('ceph', ['-c', confPath, 'osd', 'pool', 'create', DEFAULT_BLOCK_POOL, '8']);
  await run('ceph', [
    '-c',
    confPath,
    'osd',
    'pool',
    'application',
    'enable',
    DEFAULT_BLOCK_POOL,
    'hangar',
  ]);
});

test.after.always(async () => {
  try {
    if (cephEnv !== undefined) await run('bash', [SCRIPT, 'stop']);
  } finally {
    rmSync(cephDir, { recursive: true, force: true });
  }
});

/** A store in a namespace of its own (tests run concurrently). */
async function storeIn(namespace: string): Promise<RadosBlockStore> {
  return RadosBlockStore.open({ confPath, namespace });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Gathers `content` through a writer and stores it: the shard's write path. */
async function storeBlock(store: RadosBlockStore, content: Buffer, blockBytes = content.length) {
  const writer = store.beginBlock(blockBytes);
  for (let at = 0; at < content.length; at += 256 * 1024) {
    writer.write(content.subarray(at, at + 256 * 1024));
  }
  const sealed = writer.finish();
  await store.install(writer, false);
  return sealed;
}

/** Overwrites a block's RADOS object with other bytes, as an operator (or a bug) could. */
async function overwriteObject(namespace: string, oid: string, bytes: Buffer): Promise<void> {
  const file = join(cephDir, `${oid}.tampered`);
  writeFileSync(file, bytes);
  await run('rados', ['-c', confPath, '-p', DEFAULT_BLOCK_POOL, '-N', namespace, 'put', oid, file]);
}

test('a block round-trips: write, stat, read, remove', async (t) => {
  const store = await storeIn('roundtrip');
  try {
    const content = randomBytes(4096);
    const sealed = await storeBlock(store, content);
    t.is(sealed.hash, sha256(content));
    t.is(sealed.bytes, 4096);
    t.is(sealed.crcs.values.length, 1, 'one CRC per 256 KiB segment');
    const stat = await store.stat(sealed.hash);
    t.is(stat?.bytes, 4096);
    t.true(Math.abs((stat?.mtimeMs ?? 0) - Date.now()) < 120_000, 'mtime is the write time');
    t.true(await store.exists(sealed.hash));
    t.deepEqual(await store.read(sealed.hash, 4096), content);
    t.deepEqual(await store.read(sealed.hash), content, 'without a size: stat, then read');
    t.deepEqual(await store.readRange(sealed.hash, 4096, 100, 300), content.subarray(100, 300));
    // Content addressing: storing the same bytes again is the same object.
    await storeBlock(store, content);
    t.true(await store.remove(sealed.hash));
    t.false(await store.exists(sealed.hash));
    t.false(await store.remove(sealed.hash), 'a second removal finds nothing, and says so');
  } finally {
    await store.close();
  }
});

test('the binding reads at an offset, stats, lists and removes any object', async (t) => {
  const cluster = await RadosCluster.connect({ confPath });
  try {
    const io = await cluster.ioctx(DEFAULT_BLOCK_POOL, 'binding');
    await io.writeFull('greeting', Buffer.from('hello, rados'));
    t.is((await io.read('greeting', 5, 7)).toString(), 'rados');
    t.is((await io.read('greeting', 100)).toString(), 'hello, rados', 'a short object reads short');
    t.is((await io.read('greeting', 10, 50)).length, 0, 'past the end: nothing');
    t.is((await io.stat('greeting')).bytes, 12);
    const names: string[] = [];
    for await (const name of io.list()) names.push(name);
    t.deepEqual(names, ['greeting']);
    await io.remove('greeting');
    const error = await t.throwsAsync(io.read('greeting', 10), { instanceOf: RadosError });
    t.is(error?.code, 'ENOENT');
    t.is(error?.call, 'rados_aio_read');
    await t.throwsAsync(io.remove('greeting'), { instanceOf: RadosError, message: /ENOENT/ });
    io.close();
  } finally {
    // Shutdown closes what is still open, and a second shutdown does nothing.
    await cluster.shutdown();
    await cluster.shutdown();
  }
});

test('a 1 MiB block round-trips byte-identical', async (t) => {
  const store = await storeIn('mib');
  try {
    const content = randomBytes(1024 * 1024);
    const { hash } = await storeBlock(store, content);
    t.is((await store.stat(hash))?.bytes, 1024 * 1024);
    const back = await store.read(hash, 1024 * 1024);
    t.true(back.equals(content));
    t.is(sha256(back), hash);
  } finally {
    await store.close();
  }
});

test('a block already present is not written again', async (t) => {
  const store = await storeIn('present');
  try {
    const writer = store.beginBlock(64);
    writer.write(Buffer.from('deduplicated'));
    const { hash } = writer.finish();
    await store.install(writer, true);
    t.false(await store.exists(hash));
  } finally {
    await store.close();
  }
});

test('a missing block is a clear not-found', async (t) => {
  const store = await storeIn('missing');
  try {
    const hash = sha256(Buffer.from('never stored'));
    const error = await t.throwsAsync(store.read(hash, 12), { instanceOf: BlockNotFoundError });
    t.is(error?.code, 'ENOENT');
    await t.throwsAsync(store.read(hash), { instanceOf: BlockNotFoundError });
    t.is(await store.stat(hash), null);
    t.false(await store.exists(hash));
    t.false(await store.remove(hash));
  } finally {
    await store.close();
  }
});

test('tampered bytes are refused by the hash check, never returned', async (t) => {
  const namespace = 'tampered';
  const store = await storeIn(namespace);
  try {
    const content = randomBytes(8192);
    const { hash } = await storeBlock(store, content);
    const flipped = Buffer.from(content);
    flipped[4000] = (flipped[4000] ?? 0) ^ 0x01;
    await overwriteObject(namespace, hash, flipped);
    await t.throwsAsync(store.read(hash, 8192), {
      instanceOf: CorruptRadosBlockError,
      message: /hash to/,
    });
    await t.throwsAsync(store.readRange(hash, 8192, 0, 10), { instanceOf: CorruptRadosBlockError });
    // An object that grew or shrank is caught by its size before any hashing.
    await overwriteObject(namespace, hash, Buffer.concat([content, Buffer.from('x')]));
    await t.throwsAsync(store.read(hash, 8192), { message: /8193 bytes stored, 8192 expected/ });
    await overwriteObject(namespace, hash, content.subarray(0, 100));
    await t.throwsAsync(store.read(hash, 8192), { message: /100 bytes stored/ });
    // Rewriting the true bytes heals it (write_full replaces the object whole).
    await storeBlock(store, content);
    t.true((await store.read(hash, 8192)).equals(content));
  } finally {
    await store.close();
  }
});

test('put refuses bytes that do not hash to the name', async (t) => {
  const store = await storeIn('put');
  try {
    const content = randomBytes(100);
    const wrong = sha256(Buffer.from('other'));
    await t.throwsAsync(store.put(wrong, content), { instanceOf: CorruptRadosBlockError });
    t.false(await store.exists(wrong));
    await store.put(sha256(content), content);
    t.true((await store.read(sha256(content), 100)).equals(content));
  } finally {
    await store.close();
  }
});

test('listing returns the names of one namespace only', async (t) => {
  const [a, b] = await Promise.all([storeIn('list-a'), storeIn('list-b')]);
  try {
    const inA = new Set<string>();
    for (let i = 0; i < 5; i++) inA.add((await storeBlock(a, randomBytes(100 + i))).hash);
    const inB = (await storeBlock(b, randomBytes(50))).hash;
    const listed: string[] = [];
    for await (const name of a.names()) listed.push(name);
    t.deepEqual(listed.sort(), [...inA].sort());
    const listedB: string[] = [];
    for await (const name of b.names()) listedB.push(name);
    t.deepEqual(listedB, [inB]);
    // Breaking out of a listing closes it (the ioctx then closes cleanly).
    for await (const name of a.names()) {
      t.true(inA.has(name));
      break;
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

// Serial, so that the timer's gaps are this test's own (the OSD-stall test is the strict one).
test.serial('50 writes in flight leave the event loop responsive', async (t) => {
  const store = await storeIn('concurrent');
  try {
    const blocks = Array.from({ length: 50 }, () => randomBytes(256 * 1024));
    const writers = blocks.map((content) => {
      const writer = store.beginBlock(content.length);
      writer.write(content);
      return { writer, hash: writer.finish().hash };
    });
    let ticks = 0;
    let longestGapMs = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      ticks++;
    }, 2);
    const started = performance.now();
    await Promise.all(writers.map(({ writer }) => store.install(writer, false)));
    const tookMs = performance.now() - started;
    clearInterval(timer);
    t.log(
      `50 × 256 KiB in ${tookMs.toFixed(0)} ms; ${ticks} timer ticks, longest gap ${longestGapMs.toFixed(1)} ms`,
    );
    t.true(ticks >= 3, 'the timer fired while the writes were in flight');
    t.true(longestGapMs < 500, 'no librados call held the event loop');
    const back = await Promise.all(
      writers.map(({ hash }, i) => store.read(hash, blocks[i]?.length)),
    );
    back.forEach((bytes, i) => {
      t.true(bytes.equals(blocks[i] ?? Buffer.alloc(0)));
    });
  } finally {
    await store.close();
  }
});

test('a shard worker thread loads its own binding', async (t) => {
  const storeUrl = new URL('../../engine/blocks/rados/rados-block-store.js', import.meta.url).href;
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.storeUrl).then(async ({ RadosBlockStore }) => {
      const store = await RadosBlockStore.open({ confPath: workerData.confPath, namespace: 'worker' });
      const content = Buffer.from('written by a worker');
      const hash = require('node:crypto').createHash('sha256').update(content).digest('hex');
      await store.put(hash, content);
      const back = await store.read(hash, content.length);
      await store.close();
      parentPort.postMessage(back.toString());
    }).catch((error) => parentPort.postMessage('error: ' + error.message));
  `;
  const worker = new Worker(source, { eval: true, workerData: { storeUrl, confPath } });
  const answer = await new Promise((resolve) => worker.once('message', resolve));
  await worker.terminate();
  t.is(answer, 'written by a worker');
});

// Serial: ava runs serial tests before the others, so the paused OSD stalls nobody else's I/O.
test.serial('an OSD that stops answering fails the operation at the op timeout', async (t) => {
  const store = await RadosBlockStore.open({
    confPath,
    namespace: 'stalled',
    conf: { rados_osd_op_timeout: '2' },
  });
  const osd = Number(readFileSync(join(clusterDir, 'osd.0.pid'), 'utf8'));
  const content = randomBytes(1000);
  process.kill(osd, 'SIGSTOP');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    const started = Date.now();
    const error = await t.throwsAsync(store.put(sha256(content), content), {
      instanceOf: RadosError,
    });
    t.is(error?.code, 'ETIMEDOUT');
    t.is(error?.call, 'rados_aio_write_full');
    const tookMs = Date.now() - started;
    t.true(tookMs >= 1500 && tookMs < 15_000, `timed out after ${tookMs} ms`);
    t.true(ticks > 50, 'the event loop kept running while the OSD was silent');
  } finally {
    clearInterval(timer);
    process.kill(osd, 'SIGCONT');
  }
  // The OSD answers again: so does the store.
  await store.put(sha256(content), content);
  t.true((await store.read(sha256(content), 1000)).equals(content));
  await store.close();
});

// A shard worker can be terminated with an operation in flight. librados completes it later on
// its own thread: with completion callbacks into the dead worker that crashed the process
// (DECISIONS.md); the binding's waits on koffi's threads make terminate wait for them instead,
// at most the op timeout.
test.serial(
  'a worker terminated mid-write ends at the op timeout; the process lives',
  async (t) => {
    const libradosUrl = new URL('../../engine/blocks/rados/librados.js', import.meta.url).href;
    const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.libradosUrl).then(async ({ RadosCluster }) => {
      const cluster = await RadosCluster.connect({
        confPath: workerData.confPath,
        conf: { rados_osd_op_timeout: '2' },
      });
      const io = await cluster.ioctx(workerData.pool, 'terminated');
      parentPort.once('message', () => {
        io.writeFull('in-flight', Buffer.alloc(4096)).catch(() => undefined);
        parentPort.postMessage('writing');
      });
      parentPort.postMessage('ready');
    });
  `;
    const worker = new Worker(source, {
      eval: true,
      workerData: { libradosUrl, confPath, pool: DEFAULT_BLOCK_POOL },
    });
    const osd = Number(readFileSync(join(clusterDir, 'osd.0.pid'), 'utf8'));
    try {
      await new Promise((resolve) => worker.once('message', resolve));
      process.kill(osd, 'SIGSTOP');
      worker.postMessage('write');
      await new Promise((resolve) => worker.once('message', resolve));
      const started = Date.now();
      await worker.terminate();
      t.true(Date.now() - started < 15_000, 'terminate waited at most about the op timeout');
    } finally {
      process.kill(osd, 'SIGCONT');
    }
    // Still alive, and RADOS still serves this process.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const store = await storeIn('after-terminate');
    const content = randomBytes(64);
    await store.put(sha256(content), content);
    t.true((await store.read(sha256(content), 64)).equals(content));
    await store.close();
  },
);

test('a bad ceph.conf path is a clean error', async (t) => {
  const error = await t.throwsAsync(
    RadosBlockStore.open({ confPath: join(cephDir, 'no-such.conf'), namespace: 'x' }),
    { instanceOf: RadosError },
  );
  t.is(error?.code, 'ENOENT');
  t.is(error?.call, 'rados_conf_read_file');
});

test('an unreachable cluster fails to connect within the mount timeout', async (t) => {
  const conf = join(cephDir, 'unreachable.conf');
  writeFileSync(conf, `[global]\nmon host = 127.0.0.1:${await freePort()}\n`);
  const started = Date.now();
  const error = await t.throwsAsync(
    RadosCluster.connect({
      confPath: conf,
      conf: { client_mount_timeout: '2', keyring: join(clusterDir, 'keyring.client.admin') },
    }),
    { instanceOf: RadosError },
  );
  t.is(error?.call, 'rados_connect');
  t.is(error?.code, 'ETIMEDOUT');
  t.true(Date.now() - started < 30_000);
});

test('a missing pool is a clean error', async (t) => {
  const error = await t.throwsAsync(
    RadosBlockStore.open({ confPath, namespace: 'x', pool: 'no-such-pool' }),
    { instanceOf: RadosError },
  );
  t.is(error?.code, 'ENOENT');
  t.is(error?.call, 'rados_ioctx_create');
});
