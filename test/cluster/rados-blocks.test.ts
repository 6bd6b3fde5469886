/**
 * Cluster mode's shard blocks (issue 19) against a real one-node Ceph (test/helpers/ceph-peer.ts)
 * and, for the block GC, over both metadata stores: the strict LMDB MetaStore and a real
 * PostgreSQL (port 5464).
 *
 * - RadosShardBlocks behind the shard's block seam: a block written by the shard's writer reads
 *   back through the verified read (whole and in ranges), a tampered object is never served, a
 *   removed one fails the read.
 * - The GC protocol of cluster-design §4.4 (block-gc.ts, BlockTable's shared mode, the claims of
 *   ClusterBlockLedger): zero references, grace, dying, removed; a reference added before the
 *   pass keeps the block; a dying row refuses a new reference and a PUT meeting it rewrites the
 *   block once the row is gone; the orphan sweep removes old objects without a row, only those.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DEFAULT_BLOCK_POOL } from '../../engine/blocks/rados/rados-block-store.js';
import { RadosShardBlocks } from '../../engine/blocks/rados/rados-shard-blocks.js';
import { EngineFailureError } from '../../engine/errors.js';
import { LIMITS } from '../../engine/limits.js';
import { PgKvEnv } from '../../engine/meta/pg-kv/env.js';
import { MetaStore, type ObjectRecord } from '../../engine/meta/store.js';
import type { BlockRef, OpenedObject } from '../../engine/protocol/messages.js';
import { collectBlocks, sweepOrphanBlocks } from '../../engine/shard/block-gc.js';
import { ClusterBlockLedger } from '../../engine/shard/cluster-ledger.js';
import { BlockReadError, VerifiedBlockSource } from '../../engine/shard/verified-read.js';
import { DEFAULT_TIER } from '../../engine/storage-config.js';
import { CephPeer } from '../helpers/ceph-peer.js';
import { TestPostgres } from '../helpers/postgres.js';

const PG_PORT = 5464;
const BLOCK_BYTES = 1024 * 1024;
const GRACE_MS = LIMITS.clusterBlockGcGraceMs;
/** Bucket ids are 16 bytes, hex. */
const BUCKET = randomBytes(16).toString('hex');

let ceph: CephPeer | undefined;
let postgres: TestPostgres | undefined;

test.before(async () => {
  [ceph, postgres] = await Promise.all([CephPeer.start(), TestPostgres.start(PG_PORT)]);
});

test.after.always(async () => {
  await Promise.allSettled([ceph?.stop(), postgres?.stop()]);
});

function peer(): CephPeer {
  if (ceph === undefined) throw new Error('Ceph did not start');
  return ceph;
}

/** A partition's RADOS blocks, in a namespace of the test's own. */
async function radosBlocks(namespace: string): Promise<RadosShardBlocks> {
  const blocks = new RadosShardBlocks(
    { cephConf: peer().confPath, pool: DEFAULT_BLOCK_POOL, namespace },
    BLOCK_BYTES,
  );
  await blocks.open();
  return blocks;
}

/** Writes `content` through the shard's writer, in pieces as a PUT's chunks arrive. */
async function writeBlock(blocks: RadosShardBlocks, content: Buffer) {
  const writer = await blocks.beginBlock(DEFAULT_TIER);
  for (let at = 0; at < content.length; at += 100_000) {
    await writer.write(content.subarray(at, at + 100_000));
  }
  return { writer, sealed: await writer.finish() };
}

/** A one-block object as a shard opens it for reading. */
function openedOf(blocks: RadosShardBlocks, block: BlockRef): OpenedObject {
  return {
    info: { bytes: block.bytes } as OpenedObject['info'],
    shardId: 0,
    blocks: [block],
    blockPaths: [blocks.locationOf(block.hash)],
    inlineBody: null,
  };
}

/** Bytes [start, end) of the object through the shard's verified read. */
async function verifiedRead(
  blocks: RadosShardBlocks,
  object: OpenedObject,
  start: number,
  end: number,
): Promise<Buffer> {
  const source = new VerifiedBlockSource(object, start, end, null, blocks);
  const out: Buffer[] = [];
  try {
    while (source.more) {
      await source.readNext(new ArrayBuffer(LIMITS.chunkBytes));
      for (let chunk = source.takeReady(); chunk !== undefined; chunk = source.takeReady()) {
        out.push(Buffer.from(chunk.buffer, 0, chunk.bytes));
      }
    }
  } finally {
    await source.close();
  }
  return Buffer.concat(out);
}

test('RADOS blocks: written by the shard writer, read back verified, whole and in ranges', async (t) => {
  const blocks = await radosBlocks('placement');
  try {
    // Three CRC segments (256 KiB each, the last short): ranges cross segment boundaries.
    const content = randomBytes(600 * 1024);
    const { writer, sealed } = await writeBlock(blocks, content);
    t.is(sealed.bytes, content.length);
    t.is(sealed.crcs.values.length, 3);
    await blocks.install(writer, sealed.hash, false);
    t.is(blocks.locationOf(sealed.hash), 'placement', 'a block is found by its namespace');
    const object = openedOf(blocks, sealed);
    t.deepEqual(await verifiedRead(blocks, object, 0, content.length), content);
    t.deepEqual(
      await verifiedRead(blocks, object, 262_100, 262_200),
      content.subarray(262_100, 262_200),
    );
    t.deepEqual(await verifiedRead(blocks, object, 0, 1), content.subarray(0, 1));
    t.deepEqual(
      await verifiedRead(blocks, object, content.length - 5, content.length),
      content.subarray(content.length - 5),
    );
    // Installing the same bytes again (another PUT, another gateway) is the same object.
    const again = await writeBlock(blocks, content);
    await blocks.install(again.writer, again.sealed.hash, false);
    t.deepEqual(await verifiedRead(blocks, object, 0, content.length), content);
    await blocks.remove(sealed.hash);
    const error = await t.throwsAsync(verifiedRead(blocks, object, 0, 10), {
      instanceOf: BlockReadError,
    });
    t.regex(error?.message ?? '', /cannot be read/);
  } finally {
    await blocks.close();
  }
});

test('RADOS blocks: a tampered object is never served, not even a range of it', async (t) => {
  const blocks = await radosBlocks('tampered');
  try {
    const content = randomBytes(300 * 1024);
    const { writer, sealed } = await writeBlock(blocks, content);
    await blocks.install(writer, sealed.hash, false);
    const tampered = Buffer.from(content);
    tampered[1000] = (tampered[1000] ?? 0) ^ 0xff;
    await peer().overwrite('tampered', sealed.hash, tampered);
    const object = openedOf(blocks, sealed);
    for (const [start, end] of [
      [0, content.length],
      [290 * 1024, 291 * 1024],
    ] as const) {
      const source = new VerifiedBlockSource(object, start, end, null, blocks);
      const error = await t.throwsAsync(source.readNext(new ArrayBuffer(LIMITS.chunkBytes)), {
        instanceOf: BlockReadError,
      });
      t.regex(error?.message ?? '', /corrupt/);
      t.is(source.takeReady(), undefined, 'no byte of it is ready to send');
      await source.close();
    }
  } finally {
    await blocks.close();
  }
});

// ---- the cluster block GC over both metadata stores ----

interface OpenedMeta {
  meta: MetaStore;
  close(): Promise<void>;
}

const STORES: ReadonlyArray<{ name: string; open(): Promise<OpenedMeta> }> = [
  {
    name: 'strict LMDB',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'hangar-gc-'));
      const meta = MetaStore.open(join(dir, 'meta'), false, true);
      return {
        meta,
        async close() {
          await meta.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      if (postgres === undefined) throw new Error('PostgreSQL did not start');
      const shard = `gc_${randomBytes(6).toString('hex')}`;
      const env = await PgKvEnv.open({ connection: postgres.connection, shard });
      const meta = await MetaStore.openRemote(env);
      return { meta, close: () => env.close() };
    },
  },
];

/** One gateway's view of a partition: shared block rows, its RADOS namespace, its ledger. */
interface Partition {
  meta: MetaStore;
  blocks: RadosShardBlocks;
  ledger: ClusterBlockLedger;
  target: { meta: MetaStore; store: RadosShardBlocks['store'] };
}

async function withPartition(
  open: () => Promise<OpenedMeta>,
  work: (partition: Partition) => Promise<void>,
): Promise<void> {
  const opened = await open();
  const blocks = await radosBlocks(`gc-${randomBytes(6).toString('hex')}`);
  try {
    const { meta } = opened;
    meta.shareBlocks();
    // A renewal failure fails the test loudly (an unhandled rejection).
    const ledger = new ClusterBlockLedger(meta, blocks, (error) => {
      throw error;
    });
    try {
      await work({ meta, blocks, ledger, target: { meta, store: blocks.store } });
    } finally {
      ledger.close();
    }
  } finally {
    await blocks.close();
    await opened.close();
  }
}

function recordOf(block: BlockRef): ObjectRecord {
  return {
    bytes: block.bytes,
    etag: '"e"',
    lastModifiedMs: Date.now(),
    headers: { userMeta: {} },
    checksum: null,
    blocks: [block],
    inline: null,
  };
}

/** A PUT as the shard runs one: write, install (claim, then write to RADOS), commit, unpin. */
async function putObject(p: Partition, bucket: string, key: string, content: Buffer) {
  const { writer, sealed } = await writeBlock(p.blocks, content);
  p.ledger.pin(sealed.hash);
  try {
    await p.ledger.installBlock(sealed.hash, writer);
    await p.meta.writeObject(bucket, key, recordOf(sealed), null);
  } finally {
    p.ledger.unpin(sealed.hash);
  }
  return sealed;
}

async function rowOf(p: Partition, hash: string) {
  return p.meta.read(() => p.meta.sharedBlocks.row(hash));
}

async function readBack(p: Partition, block: BlockRef): Promise<Buffer> {
  return verifiedRead(p.blocks, openedOf(p.blocks, block), 0, block.bytes);
}

for (const store of STORES) {
  test(`${store.name}: a block at zero references goes after the grace: zero, dying, removed`, async (t) => {
    await withPartition(store.open, async (p) => {
      const content = randomBytes(64 * 1024);
      const block = await putObject(p, BUCKET, 'a', content);
      t.is((await rowOf(p, block.hash))?.refs, 1);
      t.deepEqual(await readBack(p, block), content);
      const deleted = await p.meta.deleteObject(BUCKET, 'a');
      t.deepEqual(deleted.freed, [], 'nothing is freed inline in cluster mode');
      const zero = await rowOf(p, block.hash);
      t.is(zero?.refs, 0, 'the row stays, at zero references');
      t.true(zero?.zeroSinceMs !== undefined);
      t.not(await p.blocks.store.stat(block.hash), null, 'the bytes stay too');

      const early = await collectBlocks(p.target, Date.now() + GRACE_MS - 60_000);
      t.deepEqual(early, { dying: 0, removed: 0, rowsDeleted: 0 }, 'within the grace: kept');
      t.not(await p.blocks.store.stat(block.hash), null);

      const late = await collectBlocks(p.target, Date.now() + GRACE_MS + 1000);
      t.deepEqual(late, { dying: 1, removed: 1, rowsDeleted: 1 });
      t.is(await p.blocks.store.stat(block.hash), null, 'the RADOS object is gone');
      t.is(await rowOf(p, block.hash), undefined, 'and then its row');
      const again = await collectBlocks(p.target, Date.now() + GRACE_MS + 1000);
      t.deepEqual(again, { dying: 0, removed: 0, rowsDeleted: 0 });
    });
  });

  test(`${store.name}: a PUT slower than the grace keeps its block by renewing its claim`, async (t) => {
    await withPartition(store.open, async (p) => {
      const content = randomBytes(20_000);
      const { writer, sealed } = await writeBlock(p.blocks, content);
      p.ledger.pin(sealed.hash);
      try {
        await p.ledger.installBlock(sealed.hash, writer);
        const claimedAt = (await rowOf(p, sealed.hash))?.zeroSinceMs ?? 0;
        // Most of a grace later the PUT still runs: its claim is renewed (as the ledger's timer
        // does every third of the grace), and a GC pass past the first claim's grace keeps it.
        t.is(await p.meta.sharedBlocks.renewClaims(claimedAt + GRACE_MS - 1000), 1);
        const pass = await collectBlocks(p.target, claimedAt + GRACE_MS + 1000);
        t.deepEqual(pass, { dying: 0, removed: 0, rowsDeleted: 0 }, 'the renewed claim is kept');
        await p.meta.writeObject(BUCKET, 'slow', recordOf(sealed), null);
      } finally {
        p.ledger.unpin(sealed.hash);
      }
      t.is((await rowOf(p, sealed.hash))?.refs, 1, 'the commit referenced the block');
      t.deepEqual(await readBack(p, sealed), content);
      t.is(await p.meta.sharedBlocks.renewClaims(Date.now()), 0, 'nothing left to renew');
    });
  });

  test(`${store.name}: a reference added before the pass keeps the block`, async (t) => {
    await withPartition(store.open, async (p) => {
      const content = randomBytes(10_000);
      const first = await putObject(p, BUCKET, 'a', content);
      await p.meta.deleteObject(BUCKET, 'a');
      t.is((await rowOf(p, first.hash))?.refs, 0);
      // Another PUT of the same bytes (this gateway or another) references the row at zero.
      const second = await putObject(p, BUCKET, 'b', content);
      t.is(second.hash, first.hash);
      t.is((await rowOf(p, first.hash))?.refs, 1);
      const pass = await collectBlocks(p.target, Date.now() + GRACE_MS + 1000);
      t.deepEqual(pass, { dying: 0, removed: 0, rowsDeleted: 0 });
      t.deepEqual(await readBack(p, second), content);

      // A claim (a PUT that wrote the bytes, not yet committed) restarts the grace.
      await p.meta.deleteObject(BUCKET, 'b');
      const { writer, sealed } = await writeBlock(p.blocks, content);
      p.ledger.pin(sealed.hash);
      await p.ledger.installBlock(sealed.hash, writer);
      const claimed = await rowOf(p, sealed.hash);
      t.is(claimed?.refs, 0);
      const within = await collectBlocks(p.target, (claimed?.zeroSinceMs ?? 0) + GRACE_MS - 1);
      t.is(within.dying, 0, 'a claim holds the block for the grace');
      await p.meta.writeObject(BUCKET, 'c', recordOf(sealed), null);
      p.ledger.unpin(sealed.hash);
      t.is((await rowOf(p, sealed.hash))?.refs, 1);
      t.deepEqual(await readBack(p, sealed), content);
    });
  });

  test(`${store.name}: a dying row refuses a new reference; a PUT rewrites the block after it`, async (t) => {
    await withPartition(store.open, async (p) => {
      const content = randomBytes(20_000);
      const block = await putObject(p, BUCKET, 'a', content);
      await p.meta.deleteObject(BUCKET, 'a');
      // GC step 1 only, as if the GC were between its transactions.
      const dying = await p.meta.sharedBlocks.markIdleDying(Date.now() + 1000, Date.now(), 100);
      t.deepEqual(dying, [block.hash]);
      t.true((await rowOf(p, block.hash))?.dyingSinceMs !== undefined);

      // A commit referencing the dying row (a copy of an object that shared it) is refused.
      p.meta.sharedBlocks.written.note(block.hash, (await rowOf(p, block.hash))?.epoch ?? '');
      const refused = await t.throwsAsync(
        p.meta.writeObject(BUCKET, 'copy', recordOf(block), null),
        { instanceOf: EngineFailureError },
      );
      t.is(refused?.failure.code, 'SlowDown');
      p.meta.sharedBlocks.written.forget(block.hash);
      t.is((await p.meta.read(() => p.meta.getObject(BUCKET, 'copy'))) ?? null, null);

      // A PUT of the same bytes waits for the row to go, then claims it anew and rewrites.
      let putDone = false;
      const put = putObject(p, BUCKET, 'b', content).then((sealed) => {
        putDone = true;
        return sealed;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      t.false(putDone, 'the PUT waits while the row is dying');
      const pass = await collectBlocks(p.target, Date.now() + GRACE_MS + 1000);
      t.is(pass.removed, 1, 'the leftover dying row is taken up by the next pass');
      const sealed = await put;
      const row = await rowOf(p, sealed.hash);
      t.is(row?.refs, 1);
      t.is(row?.dyingSinceMs, undefined);
      t.deepEqual(await readBack(p, sealed), content, 'the PUT rewrote the bytes');
    });
  });

  test(`${store.name}: the orphan sweep removes old objects without a row, only those`, async (t) => {
    await withPartition(store.open, async (p) => {
      const orphan = randomBytes(5000);
      const orphanBlock = await writeBlock(p.blocks, orphan);
      // Bytes a gateway wrote without a row (its claim collected, or it died mid-way).
      await p.blocks.install(orphanBlock.writer, orphanBlock.sealed.hash, false);
      const kept = await putObject(p, BUCKET, 'a', randomBytes(6000));

      const fresh = await sweepOrphanBlocks(p.target, Date.now());
      t.deepEqual(fresh, { looked: 2, removed: 0, strays: 0 }, 'younger than the grace: kept');
      const old = await sweepOrphanBlocks(p.target, Date.now() + GRACE_MS + 60_000);
      t.deepEqual(old, { looked: 2, removed: 1, strays: 0 });
      t.is(await p.blocks.store.stat(orphanBlock.sealed.hash), null);
      t.is(await rowOf(p, orphanBlock.sealed.hash), undefined, 'its dying row went with it');
      t.not(await p.blocks.store.stat(kept.hash), null, 'a block with a row stays');
    });
  });
}
