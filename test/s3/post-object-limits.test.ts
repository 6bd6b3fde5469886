import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { newBucket, useServer } from '../helpers/server.js';

const MIB = 1024 * 1024;

const suite = useServer(test);

/** The server's anonymous resident memory (heap, buffers; not LMDB's mapped file pages). */
function rssAnonBytes(pid: number): number {
  // No fallback: a test that cannot read the server's memory must fail, not pass.
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /RssAnon:\s+(\d+) kB/.exec(status);
  if (match === null) throw new Error(`no RssAnon in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

interface Exchange {
  /** Everything the server answered before the connection ended. */
  answer: string;
  /** Body bytes written before the server stopped reading or closed. */
  bytesWritten: number;
  /** The server closed the connection (not the test giving up). */
  closedByServer: boolean;
}

/**
 * POSTs a form of `fieldCount` empty-name, empty-value fields (then a closing boundary, no file)
 * over a raw socket, writing as fast as the server reads, until the whole body is out or the
 * server answers and closes. Bounded: at most the declared body, and 60 s.
 */
function postEmptyFields(bucket: string, fieldCount: number, extraHeaders = ''): Promise<Exchange> {
  const boundary = 'b0undary';
  const field = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name=""\r\n\r\n\r\n`,
    'latin1',
  );
  const closing = Buffer.from(`--${boundary}--\r\n`, 'latin1');
  const fieldsPerWrite = 1024;
  const batch = Buffer.concat(Array.from({ length: fieldsPerWrite }, () => field));
  const length = field.length * fieldCount + closing.length;
  return new Promise((resolve, reject) => {
    const socket = connect(suite.server.port, '127.0.0.1');
    const answer: Buffer[] = [];
    let bytesWritten = 0;
    let fieldsWritten = 0;
    let finished = false;
    const finish = (closedByServer: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer: Buffer.concat(answer).toString('latin1'), bytesWritten, closedByServer });
    };
    const timer = setTimeout(() => finish(false), 60_000);
    const pump = (): void => {
      while (!finished && fieldsWritten < fieldCount) {
        const count = Math.min(fieldsPerWrite, fieldCount - fieldsWritten);
        const chunk = count === fieldsPerWrite ? batch : batch.subarray(0, count * field.length);
        fieldsWritten += count;
        bytesWritten += chunk.length;
        if (fieldsWritten === fieldCount) socket.write(Buffer.concat([chunk, closing]));
        else if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.on('connect', () => {
      socket.write(
        `POST /${bucket} HTTP/1.1\r\nHost: 127.0.0.1:${suite.server.port}\r\n` +
          `Content-Type: multipart/form-data; boundary=${boundary}\r\n` +
          `Content-Length: ${length}\r\n${extraHeaders}\r\n`,
      );
      pump();
    });
    socket.on('data', (chunk: Buffer) => answer.push(chunk));
    // The server closing while the test still writes is the expected end: EPIPE/ECONNRESET.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') finish(true);
      else reject(error);
    });
    socket.on('close', () => finish(true));
  });
}

test('a million empty form fields are refused early with a 400, memory stays flat, the server lives', async (t) => {
  const bucket = await newBucket(suite.s3, 'post-bomb');
  const pid = suite.server.process.pid;
  if (pid === undefined) throw new Error('the server has no pid');
  // Warm up the path once so lazily allocated buffers are not counted as growth. (A refused
  // form this small is read to its end so the connection could be kept: ask for a close.)
  const warmUp = await postEmptyFields(bucket, 2000, 'Connection: close\r\n');
  t.regex(warmUp.answer, /<Code>MaxPostPreDataLengthExceededError<\/Code>/);
  const before = rssAnonBytes(pid);
  const fieldCount = 1_000_000; // ~54 MB of form: ~75 MiB of field objects if they were kept
  const exchange = await postEmptyFields(bucket, fieldCount);
  const after = rssAnonBytes(pid);
  t.log(
    `RssAnon growth ${((after - before) / MIB).toFixed(1)} MiB, ${exchange.bytesWritten} bytes written`,
  );
  t.regex(exchange.answer, /^HTTP\/1\.1 400 /, exchange.answer.slice(0, 200));
  t.regex(exchange.answer, /<Code>MaxPostPreDataLengthExceededError<\/Code>/);
  t.true(exchange.closedByServer, 'the server closes the connection');
  t.true(
    exchange.bytesWritten < 54 * fieldCount,
    `the server stopped reading before the end (${exchange.bytesWritten} bytes written)`,
  );
  t.true(
    after - before < 24 * MIB,
    `RssAnon grew by ${((after - before) / MIB).toFixed(1)} MiB (${before} -> ${after})`,
  );
  // Alive and serving.
  const listed = await suite.s3.send(new ListBucketsCommand({}));
  t.true((listed.Buckets ?? []).some((b) => b.Name === bucket));
});
