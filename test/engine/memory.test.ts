import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { type AnonMemory, describeAnonMemory, sampleAnonMemory } from '../helpers/memory.js';
import { TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const OBJECT_BYTES = 1024 * MiB;
/** How much the server's anonymous memory may grow while it streams 1 GiB in and out. */
const MEMORY_GROWTH_MAX_BYTES = 256 * MiB;

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
    const sampler = await sampleAnonMemory(pid);
    let memory: AnonMemory;
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
      memory = await sampler.stop();
    }
    t.log(describeAnonMemory(memory));
    const grown = memory.peakBytes - memory.baselineBytes;
    t.true(grown < MEMORY_GROWTH_MAX_BYTES, `RssAnon grew by ${(grown / MiB).toFixed(0)} MiB`);
  } finally {
    await server.destroy();
  }
});

test('the memory sampler fails, rather than reports nothing, when /proc cannot be read', async (t) => {
  const exited = spawnSync(process.execPath, ['-e', '0']);
  t.is(exited.status, 0);
  await t.throwsAsync(sampleAnonMemory(exited.pid), { message: /ENOENT/ });
});
