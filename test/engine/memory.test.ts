import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const OBJECT_BYTES = 1024 * MiB;

/** Resident memory of the server process, from /proc (bytes). */
function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(match?.[1] ?? 0) * 1024;
}

/** A 1 GiB body generated on the fly, so the test itself holds no more than one chunk. */
function generatedBody(): Readable {
  const chunk = Buffer.alloc(MiB, 0x5a);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= OBJECT_BYTES) return void this.push(null);
      chunk.writeUInt32BE(sent / MiB, 0); // distinct blocks: no dedup shortcut
      sent += MiB;
      this.push(Buffer.from(chunk));
    },
  });
}

test('a 1 GiB PUT and GET keep the server memory bounded', async (t) => {
  t.timeout(180_000);
  const server = await TestServer.start({ shards: 2 });
  try {
    const pid = server.process.pid!;
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'memory' }));
    const baseline = rssBytes(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(pid));
    }, 20);
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'memory',
          Key: 'big',
          Body: generatedBody(),
          ContentLength: OBJECT_BYTES,
        }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: 'memory', Key: 'big' }));
      let received = 0;
      for await (const part of got.Body as AsyncIterable<Uint8Array>) received += part.byteLength;
      t.is(received, OBJECT_BYTES);
    } finally {
      clearInterval(sampler);
    }
    t.log(
      `server RSS: baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB`,
    );
    t.true(peak - baseline < 256 * MiB, `RSS grew by ${((peak - baseline) / MiB).toFixed(0)} MiB`);
  } finally {
    await server.destroy();
  }
});
