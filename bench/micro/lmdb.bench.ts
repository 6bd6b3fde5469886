/**
 * LMDB group commit as a shard does it: 64 object records (~300 bytes, cbor-x like MetaStore's)
 * put in one event turn, so lmdb-js commits them as one transaction, then `await env.flushed`:
 * what a durable PUT waits for. References: the same batch only until visible (overlappingSync
 * resolves puts before the sync), and the same durable wait on a noSync environment (what
 * durability = "relaxed" gets). The subject/reference ratio is the price of fsync per batch.
 */
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { recordEncoder } from '../../engine/codec.js';
import {
  check,
  type MicroOptions,
  type MicroResult,
  newBench,
  REF_PREFIX,
  runGroup,
  withTempDir,
} from './harness.js';

const BATCH = 64;
const KEYSPACE = 16_384;

function openEnv(path: string, durable: boolean): RootDatabase {
  return open({ path, maxDbs: 8, noSync: !durable, mapSize: 2 ** 34 });
}

/** A record shaped like MetaStore's ObjectRecord for a 2-block object. */
function record(i: number): object {
  return {
    bytes: 2_000_000 + i,
    etag: `"${i.toString(16).padStart(32, '0')}"`,
    lastModifiedMs: Date.UTC(2025, 0, 15) + i,
    headers: { contentType: 'image/jpeg', cacheControl: 'max-age=3600' },
    checksums: { crc32: 'NhCmhg==' },
    blocks: [
      { hash: 'ab'.repeat(32), bytes: 1_048_576 },
      { hash: 'cd'.repeat(32), bytes: 951_424 + i },
    ],
    inline: null,
  };
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  return withTempDir(async (dir) => {
    const durableEnv = openEnv(join(dir, 'durable'), true);
    const relaxedEnv = openEnv(join(dir, 'relaxed'), false);
    const dbOptions = { name: 'objects', keyEncoding: 'binary' as const, encoder: recordEncoder() };
    const durable = durableEnv.openDB<object, Buffer>(dbOptions);
    const relaxed = relaxedEnv.openDB<object, Buffer>(dbOptions);
    const values = Array.from({ length: KEYSPACE }, (_, i) => record(i));
    const keys = values.map((_, i) => Buffer.from(`0123456789abcdefphotos/IMG_${i}.jpg`));
    check(recordEncoder().encode(values[0]).length > 250, 'records are ~300 bytes');
    let next = 0;
    const putBatch = (db: typeof durable): Promise<boolean[]> => {
      const puts: Promise<boolean>[] = [];
      for (let i = 0; i < BATCH; i++) {
        const n = next++ % KEYSPACE;
        puts.push(db.put(keys[n]!, values[n]!));
      }
      return Promise.all(puts);
    };
    try {
      const bench = newBench('lmdb', opts)
        .add('64 puts + await flushed (durable)', async () => {
          await putBatch(durable);
          await durableEnv.flushed;
        })
        .add(
          `${REF_PREFIX}64 puts, visible only`,
          async () => {
            await putBatch(durable);
          },
          { afterAll: async () => void (await durableEnv.flushed) },
        )
        .add('64 puts + await flushed (noSync env)', async () => {
          await putBatch(relaxed);
          await relaxedEnv.flushed;
        });
      const results = await runGroup('lmdb', bench);
      check(durable.get(keys[0]!) !== undefined, 'records were written');
      return results;
    } finally {
      await durableEnv.close();
      await relaxedEnv.close();
    }
  });
}
