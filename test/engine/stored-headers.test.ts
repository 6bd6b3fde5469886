/**
 * A stored header value that fails the response-header check (written before hangar refused
 * control characters at input) must be a 500 for that object, never a crash of the server nor
 * a split response: the header writer's check runs before a streamed GET reads anything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { editObjectRecords } from '../helpers/blocks.js';
import {
  newBucket,
  objectBytes,
  randomBytesSeeded,
  s3Failure,
  TestServer,
} from '../helpers/server.js';

const SHARDS = 2;
const MARKER = 'stored-before-the-check';

/** Replaces every string equal to `from` inside `value` (records, arrays, maps) with `to`. */
function replaceString(value: unknown, from: string, to: string): { value: unknown; hits: number } {
  if (value === from) return { value: to, hits: 1 };
  if (Array.isArray(value)) {
    let hits = 0;
    const out = value.map((item) => {
      const replaced = replaceString(item, from, to);
      hits += replaced.hits;
      return replaced.value;
    });
    return { value: out, hits };
  }
  if (value instanceof Map) {
    let hits = 0;
    const out = new Map();
    for (const [key, item] of value) {
      const replaced = replaceString(item, from, to);
      hits += replaced.hits;
      out.set(key, replaced.value);
    }
    return { value: out, hits };
  }
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    let hits = 0;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const replaced = replaceString(item, from, to);
      hits += replaced.hits;
      out[key] = replaced.value;
    }
    return { value: out, hits };
  }
  return { value, hits: 0 };
}

/** In a stopped server's shards, rewrites the stored string `from` to `to`; returns the hits. */
function rewriteStoredString(dataDir: string, from: string, to: string): number {
  let hits = 0;
  editObjectRecords(dataDir, SHARDS, (record) => {
    const replaced = replaceString(record, from, to);
    hits += replaced.hits;
    return replaced.hits === 0 ? undefined : replaced.value;
  });
  return hits;
}

test('a stored header with CR/LF answers 500 for its object; the server stays up', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-stored-headers-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const streamed = randomBytesSeeded(256 * 1024, 3); // past inline_bytes_max: a streamed GET
  const inline = randomBytesSeeded(1024, 4);
  let server = await TestServer.start({ dataDir, shards: SHARDS });
  let s3 = server.client();
  const bucket = await newBucket(s3, 'stored-headers');
  for (const [key, body] of [
    ['streamed', streamed],
    ['inline', inline],
  ] as const) {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: { note: MARKER } }),
    );
  }
  s3.destroy();
  await server.stop();
  t.is(rewriteStoredString(dataDir, MARKER, 'x\r\nSet-Cookie: injected=1'), 2);
  server = await TestServer.start({
    dataDir,
    shards: SHARDS,
    // The writer's refusal is logged as the internal error it is.
    expectedLogErrors: [/refusing to write the unsafe response header/],
  });
  s3 = server.client();
  try {
    for (const key of ['streamed', 'inline']) {
      const failure = await s3Failure(objectBytes(s3, bucket, key));
      t.is(failure.status, 500, key);
      t.is(failure.name, 'InternalError', key);
    }
    // Alive, and other objects are served.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fine', Body: streamed }));
    t.true((await objectBytes(s3, bucket, 'fine')).equals(streamed));
  } finally {
    s3.destroy();
    await server.destroy();
  }
});
