/**
 * The raw limit: a minimal uWebSockets.js server that answers the benchmark's S3 requests from
 * memory, with no auth, no parsing beyond the URL and no storage. Whatever hangar does on top of
 * this (SigV4, routing, actors, LMDB, block files, fsync) is what the gap to this server costs.
 *
 *   node dist/bench/reference/raw-uws.js [--port N]     (prints "raw-uws listening on PORT")
 *
 * - PUT drains the body without copying it and answers 200 with an ETag.
 * - GET of a key under `large/` streams LARGE_BYTES from one preallocated buffer (tryEnd and
 *   onWritable backpressure); under `medium-64k/` and `medium-1m/` it answers a stored body of
 *   that size in one `end` (as hangar answers them); any other key answers a stored 4 KiB body. A bucket GET with
 *   `list-type=2` answers a prebuilt 1000-key ListObjectsV2 page.
 * - HEAD answers the headers with the content-length GET would send; DELETE answers 204.
 */
import type { HttpResponse } from 'uWebSockets.js';
import { loadUws } from '../../http/uws/load.js';

export const SMALL_BYTES = 4 * 1024;
export const LARGE_BYTES = 64 * 1024 * 1024;
const ETAG = '"0123456789abcdef0123456789abcdef"';

const small = new Uint8Array(SMALL_BYTES).fill(0x61);
/** The bodies of the medium workloads, by key prefix (bench/run.ts mediumWorkloads). */
const MEDIUM_BODIES: ReadonlyArray<readonly [string, Uint8Array]> = [
  ['medium-64k/', new Uint8Array(64 * 1024).fill(0x63)],
  ['medium-1m/', new Uint8Array(1024 * 1024).fill(0x64)],
];
const large = new Uint8Array(LARGE_BYTES).fill(0x62);
const listPage = buildListPage();

function buildListPage(): string {
  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    '<Name>bench</Name><Prefix></Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>',
  ];
  for (let i = 0; i < 1000; i++) {
    const key = `list/${String(i).padStart(7, '0')}`;
    parts.push(
      `<Contents><Key>${key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    );
  }
  parts.push('<NextContinuationToken>bGlzdC8wMDAwOTk5</NextContinuationToken></ListBucketResult>');
  return parts.join('');
}

/** Object keys look like /bucket/key; a bucket request has no second slash. */
function objectKey(url: string): string | undefined {
  const slash = url.indexOf('/', 1);
  return slash < 0 || slash === url.length - 1 ? undefined : url.slice(slash + 1);
}

function bodyOf(key: string): Uint8Array {
  return MEDIUM_BODIES.find(([prefix]) => key.startsWith(prefix))?.[1] ?? small;
}

function sizeOf(key: string): number {
  return key.startsWith('large/') ? LARGE_BYTES : bodyOf(key).byteLength;
}

function streamLarge(res: HttpResponse): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('ETag', ETAG);
    res.writeHeader('Content-Type', 'application/octet-stream');
    const [ok, done] = res.tryEnd(large, LARGE_BYTES);
    if (!ok && !done) {
      res.onWritable((offset) => {
        if (aborted) return true;
        const [ok2] = res.tryEnd(large.subarray(offset), LARGE_BYTES);
        return ok2;
      });
    }
  });
}

function main(argv: readonly string[]): void {
  const portAt = argv.indexOf('--port');
  const port = portAt >= 0 ? Number(argv[portAt + 1]) : 0;
  const uws = loadUws();
  const app = uws.App();
  app.put('/*', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    // The chunk is only looked at (never copied): uWS neuters it when the callback returns.
    res.onData((_chunk, isLast) => {
      if (!isLast || aborted) return;
      res.cork(() => {
        res.writeStatus('200 OK').writeHeader('ETag', ETAG).end();
      });
    });
  });
  app.get('/*', (res, req) => {
    const key = objectKey(req.getUrl());
    if (key === undefined) {
      if (req.getQuery('list-type') === '2') {
        res.cork(() => {
          res.writeStatus('200 OK').writeHeader('Content-Type', 'application/xml').end(listPage);
        });
      } else {
        res.writeStatus('200 OK').end();
      }
      return;
    }
    if (sizeOf(key) === LARGE_BYTES) {
      streamLarge(res);
      return;
    }
    res.cork(() => {
      res
        .writeStatus('200 OK')
        .writeHeader('ETag', ETAG)
        .writeHeader('Content-Type', 'application/octet-stream')
        .end(bodyOf(key));
    });
  });
  app.head('/*', (res, req) => {
    const key = objectKey(req.getUrl()) ?? '';
    res.cork(() => {
      res
        .writeStatus('200 OK')
        .writeHeader('ETag', ETAG)
        .writeHeader('Content-Type', 'application/octet-stream')
        .writeHeader('content-length', String(sizeOf(key)))
        .endWithoutBody();
    });
  });
  app.del('/*', (res) => {
    res.writeStatus('204 No Content').endWithoutBody(0);
  });
  app.any('/*', (res) => {
    res.writeStatus('405 Method Not Allowed').end();
  });
  app.listen('127.0.0.1', port, (socket) => {
    if (!socket) {
      process.stderr.write(`raw-uws: cannot listen on port ${port}\n`);
      process.exit(1);
    }
    process.stdout.write(`raw-uws listening on ${uws.us_socket_local_port(socket)}\n`);
  });
  const stop = (): void => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv.slice(2));
