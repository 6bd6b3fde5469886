/**
 * Cluster mode's block I/O (issue 19): one 4 KiB and one 1 MiB block written and read through
 * RadosBlockStore (hashing the bytes to store; reading verifies the SHA-256 against the name),
 * each against the reference of the same call on the bare librados binding (RadosIoCtx: no
 * hashing). The ratio is what the store's integrity costs over a RADOS round trip.
 *
 * It needs a Ceph cluster with the pool `hangar.blocks`, so it is not one of run.ts's default
 * subjects: start one (test/peers/ceph-rgw.sh start, then
 * `ceph -c /tmp/ceph-peer/ceph.conf osd pool create hangar.blocks 8`) and run
 *
 *   HANGAR_BENCH_CEPH_CONF=/tmp/ceph-peer/ceph.conf node dist/bench/micro/rados.bench.js [--quick]
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { RadosCluster, type RadosIoCtx } from '../../engine/blocks/rados/librados.js';
import {
  DEFAULT_BLOCK_POOL,
  RadosBlockStore,
} from '../../engine/blocks/rados/rados-block-store.js';
import {
  check,
  MIB,
  type MicroOptions,
  type MicroResult,
  newBench,
  pseudoRandomBytes,
  REF_PREFIX,
  runGroup,
} from './harness.js';

const NAMESPACE = 'bench';

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  const confPath = process.env['HANGAR_BENCH_CEPH_CONF'];
  check(confPath !== undefined, 'HANGAR_BENCH_CEPH_CONF names the ceph.conf of a test cluster');
  const cluster = await RadosCluster.connect({ confPath });
  const io = await cluster.ioctx(DEFAULT_BLOCK_POOL, NAMESPACE);
  const store = RadosBlockStore.over(io);
  try {
    const results: MicroResult[] = [];
    for (const bytes of [4096, MIB]) results.push(...(await sizeGroups(opts, io, store, bytes)));
    return results;
  } finally {
    io.close();
    await cluster.shutdown();
  }
}

async function sizeGroups(
  opts: MicroOptions,
  io: RadosIoCtx,
  store: RadosBlockStore,
  bytes: number,
): Promise<MicroResult[]> {
  const label = bytes === MIB ? '1 MiB' : `${bytes / 1024} KiB`;
  const content = pseudoRandomBytes(bytes, bytes);
  const hash = createHash('sha256').update(content).digest('hex');
  const write = {
    subject: `store.put ${label} (hashes, then write_full)`,
    ref: `${REF_PREFIX}ioctx.writeFull ${label}`,
  };
  const writes = newBench(`rados write ${label}`, opts)
    .add(write.subject, () => store.put(hash, content))
    .add(write.ref, () => io.writeFull(hash, content));
  const read = {
    subject: `store.read ${label} (read, verify SHA-256)`,
    ref: `${REF_PREFIX}ioctx.read ${label}`,
  };
  const reads = newBench(`rados read ${label}`, opts)
    .add(read.subject, async () => {
      check((await store.read(hash, bytes)).byteLength === bytes, 'a whole block');
    })
    .add(read.ref, async () => {
      check((await io.read(hash, bytes)).byteLength === bytes, 'a whole block');
    });
  const perOp = {
    [write.subject]: bytes,
    [write.ref]: bytes,
    [read.subject]: bytes,
    [read.ref]: bytes,
  };
  const results = [
    ...(await runGroup(`rados write ${label}`, writes, perOp)),
    ...(await runGroup(`rados read ${label}`, reads, perOp)),
  ];
  await store.remove(hash);
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await run({ quick: process.argv.includes('--quick') });
  for (const r of results) {
    const mean = (r.meanNs / 1e6).toFixed(3);
    const p99 = (r.p99Ns / 1e6).toFixed(3);
    console.log(`${r.group} | ${r.name} | mean ${mean} ms | p99 ${p99} ms | ${r.samples} samples`);
  }
}
