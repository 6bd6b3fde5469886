/**
 * A shard in cluster mode (ShardSettings.cluster) keeps its blocks in its partition's RADOS
 * namespace, driven through its real message protocol (PutBegin, OpenObject, ReadRange, Credit,
 * CopyFrom, DeleteObjects, CollectBlocks) against a one-node Ceph (test/helpers/ceph-peer.ts).
 * Its metadata here is the strict LMDB store (the PostgreSQL side of the GC is
 * rados-blocks.test.ts'); local block maintenance is refused with a failure that says why.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  DEFAULT_BLOCK_POOL,
  RadosBlockStore,
} from '../../engine/blocks/rados/rados-block-store.js';
import { LIMITS } from '../../engine/limits.js';
import { resolveLogSettings } from '../../engine/log.js';
import type {
  EngineFailure,
  OpenedObject,
  ShardReply,
  ShardRequest,
  ShardResult,
} from '../../engine/protocol/messages.js';
import { Shard } from '../../engine/shard/shard.js';
import { CephPeer } from '../helpers/ceph-peer.js';
import { TestPostgres } from '../helpers/postgres.js';

const BLOCK_BYTES = 64 * 1024;
const BUCKET = randomBytes(16).toString('hex');

/** Helper blocks' PostgreSQL port (the session's port plan): the shards' metadata. */
const PG_PORT = 5464;

let ceph: CephPeer | undefined;
let postgres: TestPostgres | undefined;

test.before(async () => {
  ceph = await CephPeer.start();
  postgres = await TestPostgres.start(PG_PORT);
});

test.after.always(async () => {
  await ceph?.stop();
  await postgres?.stop();
});

type Outcome = { result: ShardResult } | { failure: EngineFailure };

/** A shard on this thread, its replies gathered per request; body chunks credited back. */
class ShardDriver {
  private readonly waiting = new Map<number, (outcome: Outcome) => void>();
  private readonly bodies = new Map<number, Buffer[]>();
  private nextReqId = 1;
  shard!: Shard;

  private constructor(readonly dataDir: string) {}

  /** A shard in cluster mode: metadata in the test PostgreSQL, blocks in `namespace`. */
  static async open(
    dataDir: string,
    namespace: string,
    confPath: string,
    shardId = 0,
  ): Promise<ShardDriver> {
    const driver = new ShardDriver(dataDir);
    const pgPort = postgres?.port ?? PG_PORT;
    driver.shard = await Shard.open(
      {
        shardId,
        shardCount: 2,
        dataDir,
        blockBytes: BLOCK_BYTES,
        inlineBytesMax: 1024,
        durable: false,
        log: resolveLogSettings('error', 'json'),
        storage: { dataDirs: [], tiers: [] },
        kvStrict: true,
        cluster: {
          clusterId: 'test',
          gatewayName: 'gateway-1',
          metadata: {
            database: 'postgres',
            targets: [`127.0.0.1:${pgPort}`],
            user: 'postgres',
            password: null,
            shard: `${namespace.replace(/[^a-z0-9]/g, '_')}_${shardId}`,
          },
          blocks: { cephConf: confPath, pool: DEFAULT_BLOCK_POOL, namespace },
        },
      },
      (reply, body) => driver.onReply(reply, body),
      (error) => console.error(error),
    );
    return driver;
  }

  private onReply(reply: ShardReply, body: ArrayBuffer | undefined): void {
    if (reply.kind === 'BodyChunk') {
      const chunks = this.bodies.get(reply.reqId) ?? [];
      this.bodies.set(reply.reqId, chunks);
      // A copy: the buffer goes back to the shard with the credit.
      chunks.push(Buffer.from(Buffer.from(body ?? new ArrayBuffer(0), 0, reply.bytes)));
      this.shard.handle({ kind: 'Credit', reqId: reply.reqId }, body);
      return;
    }
    if (reply.kind !== 'Done' && reply.kind !== 'Failed') return;
    const resolve = this.waiting.get(reply.reqId);
    if (resolve === undefined) return;
    this.waiting.delete(reply.reqId);
    resolve(reply.kind === 'Done' ? { result: reply.result } : { failure: reply.failure });
  }

  /** Sends a request and waits for its Done or Failed. */
  call(request: ShardRequest, body?: ArrayBuffer, reqId = this.nextReqId++): Promise<Outcome> {
    const answered = new Promise<Outcome>((resolve) => this.waiting.set(reqId, resolve));
    this.shard.handle({ ...request, reqId } as ShardRequest, body);
    return answered;
  }

  async put(key: string, content: Buffer): Promise<Outcome> {
    const body = new Uint8Array(content).buffer;
    return this.call(
      {
        kind: 'PutBegin',
        reqId: 0,
        bucketId: BUCKET,
        key,
        headers: { userMeta: {} },
        declaredBytes: content.length,
        payloadSha256: false,
        part: null,
        checksumAlgorithm: null,
        sse: null,
        end: { expect: {} },
      },
      body,
    );
  }

  /** Opens an object for `purpose`; the read session stays open under the returned reqId. */
  async open(key: string, purpose: 'read' | 'copy') {
    const reqId = this.nextReqId++;
    const outcome = await this.call(
      { kind: 'OpenObject', reqId, bucketId: BUCKET, key, purpose, sse: null },
      undefined,
      reqId,
    );
    return { reqId, outcome };
  }

  /** GET of [start, end): an open, then the range streamed under credit. */
  async get(key: string, start: number, end: number): Promise<Buffer> {
    const { reqId, outcome } = await this.open(key, 'read');
    if (!('result' in outcome)) throw new Error(`open failed: ${outcome.failure.message}`);
    const done = await this.call(
      { kind: 'ReadRange', reqId, start, endExclusive: end },
      undefined,
      reqId,
    );
    if (!('result' in done)) throw new Error(`read failed: ${done.failure.message}`);
    const body = Buffer.concat(this.bodies.get(reqId) ?? []);
    this.bodies.delete(reqId);
    return body;
  }
}

async function namesIn(confPath: string, namespace: string): Promise<string[]> {
  const store = await RadosBlockStore.open({ confPath, namespace });
  try {
    const names: string[] = [];
    for await (const name of store.names()) names.push(name);
    return names.sort();
  } finally {
    await store.close();
  }
}

test('a cluster-mode shard PUTs into RADOS, GETs verified, copies, and its GC collects', async (t) => {
  if (ceph === undefined) throw new Error('Ceph did not start');
  const { confPath } = ceph;
  const namespace = `shard-${randomBytes(6).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-shard-rados-'));
  const driver = await ShardDriver.open(dataDir, namespace, confPath);
  try {
    t.like(await driver.shard.start(), { kind: 'Ready' });
    // 3 full blocks and a short one; the last repeats the first's bytes (dedup: one object).
    const first = randomBytes(BLOCK_BYTES);
    const content = Buffer.concat([first, randomBytes(2 * BLOCK_BYTES), first.subarray(0, 5000)]);
    t.like(await driver.put('a', content), { result: { kind: 'Put' } });
    t.is((await namesIn(confPath, namespace)).length, 4, 'one RADOS object per block');

    t.deepEqual(await driver.get('a', 0, content.length), content);
    t.deepEqual(
      await driver.get('a', BLOCK_BYTES - 10, 2 * BLOCK_BYTES + 10),
      content.subarray(BLOCK_BYTES - 10, 2 * BLOCK_BYTES + 10),
    );

    // A copy within the partition shares the blocks: no new object.
    const source = await driver.open('a', 'copy');
    if (!('result' in source.outcome) || source.outcome.result.kind !== 'Opened') {
      throw new Error('copy source did not open');
    }
    const opened = source.outcome.result.source as OpenedObject;
    t.true(opened.blockPaths.every((location) => location === namespace));
    t.like(
      await driver.call({
        kind: 'CopyFrom',
        reqId: 0,
        bucketId: BUCKET,
        key: 'b',
        source: opened,
        headers: { userMeta: {} },
        tags: [],
      }),
      { result: { kind: 'Put' } },
    );
    t.deepEqual(await driver.get('b', 0, content.length), content);
    t.is((await namesIn(confPath, namespace)).length, 4);

    // A copy into another partition reads each block (verified) from the source's namespace
    // and writes it into its own.
    const otherNamespace = `${namespace}-1`;
    const other = await ShardDriver.open(dataDir, otherNamespace, confPath, 1);
    try {
      t.like(await other.shard.start(), { kind: 'Ready' });
      t.like(
        await other.call({
          kind: 'CopyFrom',
          reqId: 0,
          bucketId: BUCKET,
          key: 'c',
          source: opened,
          headers: { userMeta: {} },
          tags: [],
        }),
        { result: { kind: 'Put' } },
      );
      t.deepEqual(await other.get('c', 0, content.length), content);
      t.deepEqual(
        await namesIn(confPath, otherNamespace),
        await namesIn(confPath, namespace),
        'the same block objects, in the other namespace',
      );
    } finally {
      await other.shard.stop();
    }
    driver.shard.handle({ kind: 'Cancel', reqId: source.reqId }, undefined);

    // Local block maintenance has nothing to work on: refused, saying why.
    for (const request of [
      { kind: 'ScrubBlocks', reqId: 0, after: '', limit: 10, maxBytes: 1 << 20 },
      { kind: 'DrainBlocks', reqId: 0, limit: 10 },
      { kind: 'SweepOrphans', reqId: 0, fanout: 0 },
    ] satisfies ShardRequest[]) {
      const refused = await driver.call(request);
      t.like(refused, { failure: { code: 'InvalidRequest' } }, request.kind);
      if ('failure' in refused) t.regex(refused.failure.message, /cluster mode/);
    }

    // Deleting both objects frees nothing inline; the GC pass past the grace does.
    t.like(
      await driver.call({
        kind: 'DeleteObjects',
        reqId: 0,
        bucketId: BUCKET,
        targets: [{ key: 'a' }, { key: 'b' }],
      }),
      { result: { kind: 'Deleted' } },
    );
    t.is((await namesIn(confPath, namespace)).length, 4, 'no inline removal in cluster mode');
    t.like(await driver.call({ kind: 'CollectBlocks', reqId: 0, nowMs: Date.now() }), {
      result: { kind: 'BlocksCollected', dying: 0, removed: 0 },
    });
    const later = Date.now() + LIMITS.clusterBlockGcGraceMs + 1000;
    t.like(await driver.call({ kind: 'CollectBlocks', reqId: 0, nowMs: later }), {
      result: { kind: 'BlocksCollected', dying: 4, removed: 4, rowsDeleted: 4 },
    });
    t.deepEqual(await namesIn(confPath, namespace), []);
    t.like(await driver.call({ kind: 'SweepOrphanBlocks', reqId: 0, nowMs: later }), {
      result: { kind: 'OrphanBlocksSwept', looked: 0, removed: 0 },
    });
  } finally {
    await driver.shard.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
