import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  PutObjectCommand,
  SelectObjectContentCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { type AnonMemory, describeAnonMemory, sampleAnonMemory } from '../helpers/memory.js';
import { TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const OBJECT_BYTES = 128 * MiB;
/** How much the server's anonymous memory may grow while a Select scans the object: less than
 *  the object, so a Select that buffered it whole (input or output) fails. */
const MEMORY_GROWTH_MAX_BYTES = 96 * MiB;
/** A bzip2 block inflates to at most ~46 MB, held while the scan reads it (with the scan's own
 *  garbage, ~100 MiB measured); unbzip2-stream's own stream took over 1 GiB for the same bomb. */
const BOMB_GROWTH_MAX_BYTES = 160 * MiB;
/** One CSV row: 64 bytes, its first field the row number. */
const ROW_BYTES = 64;

function row(i: number): string {
  const head = `${i},${i % 10},`;
  return `${head}${'x'.repeat(ROW_BYTES - head.length - 1)}\n`;
}

/** Rows 0..count-1 whose second field (i % 10) is under 5. */
function matchingRows(count: number): number {
  return Math.floor(count / 10) * 5 + Math.min(count % 10, 5);
}

/** The CSV generated 1 MiB at a time, so the test holds no more than one chunk. */
function generatedCsv(): Readable {
  let next = 0;
  const rowsPerChunk = MiB / ROW_BYTES;
  return new Readable({
    read() {
      if (next * ROW_BYTES >= OBJECT_BYTES) return void this.push(null);
      let text = '';
      for (let i = 0; i < rowsPerChunk; i++) text += row(next + i);
      next += rowsPerChunk;
      this.push(Buffer.from(text));
    },
  });
}

test('a Select over a 128 MiB CSV streams with bounded server memory, with Cont keep-alives', async (t) => {
  t.timeout(300_000);
  // A keep-alive after 1 ms of silence: the scan sends Cont events between its Records.
  const server = await TestServer.start({ shards: 2, env: { HANGAR_SELECT_KEEP_ALIVE_MS: '1' } });
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'select-memory' }));
    await s3.send(
      new PutObjectCommand({
        Bucket: 'select-memory',
        Key: 'big.csv',
        Body: generatedCsv(),
        ContentLength: OBJECT_BYTES,
      }),
    );
    const sampler = await sampleAnonMemory(server.process.pid as number);
    let memory: AnonMemory;
    let returned = 0;
    let rows = 0;
    let conts = 0;
    let stats:
      | { BytesScanned?: number | undefined; BytesReturned?: number | undefined }
      | undefined;
    try {
      // Half the rows match: the output is ~50 MiB, sent as it is found, not gathered.
      const out = await s3.send(
        new SelectObjectContentCommand({
          Bucket: 'select-memory',
          Key: 'big.csv',
          ExpressionType: 'SQL',
          Expression: 'SELECT _1, _3 FROM S3Object WHERE CAST(_2 AS INT) < 5',
          InputSerialization: { CSV: { FileHeaderInfo: 'NONE' } },
          OutputSerialization: { CSV: {} },
        }),
      );
      for await (const event of out.Payload ?? []) {
        const payload = event.Records?.Payload;
        if (payload !== undefined) {
          returned += payload.byteLength;
          for (const byte of payload) if (byte === 0x0a) rows++;
        }
        if (event.Stats?.Details !== undefined) stats = event.Stats.Details;
        if (event.Cont !== undefined) conts++;
      }
    } finally {
      memory = await sampler.stop();
    }
    t.log(describeAnonMemory(memory));
    t.is(rows, matchingRows(OBJECT_BYTES / ROW_BYTES));
    t.is(stats?.BytesScanned, OBJECT_BYTES);
    t.is(stats?.BytesReturned, returned);
    t.true(conts > 0, 'Cont events between Records');
    const grown = memory.peakBytes - memory.baselineBytes;
    t.true(grown < MEMORY_GROWTH_MAX_BYTES, `RssAnon grew by ${(grown / MiB).toFixed(0)} MiB`);
  } finally {
    await server.destroy();
  }
});

test('a BZIP2 bomb (200 MB of newlines in a few hundred bytes) decompresses in bounded memory', async (t) => {
  t.timeout(300_000);
  const inflated = 200 * 1000 * 1000;
  const bomb = execFileSync('bzip2', ['-9', '-c'], { input: Buffer.alloc(inflated, 0x0a) });
  const server = await TestServer.start({ shards: 1 });
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'select-bomb' }));
    await s3.send(new PutObjectCommand({ Bucket: 'select-bomb', Key: 'x.bz2', Body: bomb }));
    const sampler = await sampleAnonMemory(server.process.pid as number);
    let memory: AnonMemory;
    let records = '';
    let processed: number | undefined;
    try {
      const out = await s3.send(
        new SelectObjectContentCommand({
          Bucket: 'select-bomb',
          Key: 'x.bz2',
          ExpressionType: 'SQL',
          Expression: 'SELECT COUNT(*) FROM S3Object',
          InputSerialization: { CSV: {}, CompressionType: 'BZIP2' },
          OutputSerialization: { CSV: {} },
        }),
      );
      for await (const event of out.Payload ?? []) {
        if (event.Records?.Payload !== undefined)
          records += Buffer.from(event.Records.Payload).toString();
        if (event.Stats?.Details !== undefined) processed = event.Stats.Details.BytesProcessed;
      }
    } finally {
      memory = await sampler.stop();
    }
    t.log(`${bomb.length} bytes stored; ${describeAnonMemory(memory)}`);
    t.is(records, '0\n', 'blank lines are no records');
    t.is(processed, inflated);
    const grown = memory.peakBytes - memory.baselineBytes;
    t.true(grown < BOMB_GROWTH_MAX_BYTES, `RssAnon grew by ${(grown / MiB).toFixed(0)} MiB`);
  } finally {
    await server.destroy();
  }
});
